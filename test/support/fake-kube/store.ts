/**
 * The object store behind the fake API server: objects per resource, one global monotonic
 * resourceVersion counter (as a real etcd revision), an event history for watches that start
 * from an old resourceVersion, compaction (old versions answer 410 Gone), finalizers and
 * garbage collection through ownerReferences.
 */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, resourceId, type ResourceDef } from './resources.js';
import { applyCreateDefaults } from './defaults.js';
import { clone } from './patch.js';

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: Record<string, unknown> & { name?: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string> };
};

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rid: string;
  rv: number;
  object: KubeObject;
  /** The object before a MODIFIED event (to turn it into ADDED/DELETED for selector watches). */
  old?: KubeObject;
}

export type DeletePropagation = 'Orphan' | 'Background' | 'Foreground';

function key(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

/** RFC 3339 with seconds precision, as metav1.Time serialises. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function specOf(obj: KubeObject): string {
  const rest: Record<string, unknown> = { ...obj };
  delete rest.metadata;
  delete rest.status;
  return JSON.stringify(rest);
}

function comparable(obj: KubeObject): string {
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  delete meta.managedFields;
  return JSON.stringify({ ...obj, metadata: meta });
}

export class ObjectStore {
  private readonly defs = new Map<string, ResourceDef>();
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  /** Last resourceVersion handed out. */
  rv = 1000;
  /** Versions at or below this are forgotten (watching from them answers 410 Gone). */
  compactedRv = 0;
  /** Bounded history (events), the watch cache window. */
  historyLimit = 100_000;

  constructor(resources: ResourceDef[], private readonly now: () => number) {
    for (const d of resources) this.addResource(d);
  }

  addResource(def: ResourceDef): void {
    const rid = `${resourceId(def)}/${def.version}`;
    this.defs.set(rid, def);
    if (!this.objects.has(rid)) this.objects.set(rid, new Map());
  }

  removeResource(def: ResourceDef): void {
    const rid = this.rid(def);
    for (const obj of [...(this.objects.get(rid)?.values() ?? [])]) this.remove(def, obj);
    this.defs.delete(rid);
    this.objects.delete(rid);
  }

  rid(def: ResourceDef): string {
    return `${resourceId(def)}/${def.version}`;
  }

  resources(): ResourceDef[] {
    return [...this.defs.values()];
  }

  byPlural(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.defs.get(`${group ? `${plural}.${group}` : plural}/${version}`);
  }

  byKind(apiVersion: string, kind: string): ResourceDef | undefined {
    for (const d of this.defs.values()) if (apiVersionOf(d) === apiVersion && d.kind === kind) return d;
    return undefined;
  }

  mustKind(apiVersion: string, kind: string): ResourceDef {
    const d = this.byKind(apiVersion, kind);
    if (!d) throw new Error(`fake-kube: ${apiVersion} ${kind} is not served`);
    return d;
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Events after `rv` (exclusive), or undefined when `rv` has been compacted away. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  /** Forgets the history: watches and continue tokens from any version before now answer 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  get(def: ResourceDef, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.rid(def))?.get(key(def.namespaced ? ns : undefined, name));
    return o ? clone(o) : undefined;
  }

  /** Objects of a resource (all namespaces when `ns` is undefined), sorted by namespace/name. */
  list(def: ResourceDef, ns?: string): KubeObject[] {
    const all = [...(this.objects.get(this.rid(def))?.entries() ?? [])];
    return all
      .filter(([, o]) => ns === undefined || !def.namespaced || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const l of this.listeners) l(e);
  }

  /** Stores a new object: uid, creationTimestamp, resourceVersion, generation and kind defaults. */
  insert(def: ResourceDef, input: KubeObject): KubeObject {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    const meta = obj.metadata;
    const uid = randomUUID();
    meta.uid = uid;
    meta.creationTimestamp = timestamp(this.now());
    if (def.generation !== false) meta.generation = 1;
    else delete meta.generation;
    if (!def.namespaced) delete meta.namespace;
    delete meta.deletionTimestamp;
    if (!def.custom) applyCreateDefaults(def.kind, obj, uid);
    meta.resourceVersion = String(++this.rv);
    this.objects.get(this.rid(def))!.set(key(meta.namespace, meta.name!), obj);
    this.emit({ type: 'ADDED', rid: this.rid(def), rv: this.rv, object: clone(obj) });
    return clone(obj);
  }

  /**
   * Replaces a stored object. Identity (uid, creationTimestamp, deletionTimestamp) is kept;
   * generation is bumped when anything but metadata and status changed. A replacement equal to
   * the stored object is not a write (no new resourceVersion, no event), as on a real server.
   * An object being deleted whose last finalizer is removed goes away.
   */
  replace(def: ResourceDef, current: KubeObject, input: KubeObject): KubeObject {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    const meta = obj.metadata;
    const cm = current.metadata;
    meta.name = cm.name;
    if (def.namespaced) meta.namespace = cm.namespace;
    else delete meta.namespace;
    meta.uid = cm.uid;
    meta.creationTimestamp = cm.creationTimestamp;
    if (cm.deletionTimestamp !== undefined) meta.deletionTimestamp = cm.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (def.generation !== false) meta.generation = (cm.generation) ?? 1;
    else delete meta.generation;
    meta.resourceVersion = cm.resourceVersion;
    if (comparable(obj) === comparable(current)) return clone(current);
    if (def.generation !== false && specOf(obj) !== specOf(current)) meta.generation = ((cm.generation as number | undefined) ?? 0) + 1;
    const finalizers = meta.finalizers as unknown[] | undefined;
    if (meta.deletionTimestamp !== undefined && (!finalizers || finalizers.length === 0)) {
      return this.remove(def, obj);
    }
    meta.resourceVersion = String(++this.rv);
    this.objects.get(this.rid(def))!.set(key(meta.namespace, meta.name!), obj);
    this.emit({ type: 'MODIFIED', rid: this.rid(def), rv: this.rv, object: clone(obj), old: clone(current) });
    return clone(obj);
  }

  /** Removes an object now (no finalizer or GC handling); returns it with its final resourceVersion. */
  remove(def: ResourceDef, obj: KubeObject): KubeObject {
    const k = key(def.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
    const stored = this.objects.get(this.rid(def))?.get(k);
    if (!stored) return clone(obj);
    this.objects.get(this.rid(def))!.delete(k);
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', rid: this.rid(def), rv: this.rv, object: clone(gone) });
    return gone;
  }

  /**
   * Deletes like the API server and garbage collector together: with finalizers the object only
   * gets a deletionTimestamp; otherwise it goes, and its dependents (ownerReferences by uid) are
   * deleted (Background, Foreground: recursively) or released (Orphan). Namespaces take their
   * content with them. Returns the deleted (or now terminating) object.
   */
  delete(def: ResourceDef, current: KubeObject, propagation: DeletePropagation): { object: KubeObject; pending: boolean } {
    const finalizers = current.metadata.finalizers as unknown[] | undefined;
    if (finalizers && finalizers.length > 0) {
      if (current.metadata.deletionTimestamp !== undefined) return { object: current, pending: true };
      const next = clone(current);
      next.metadata.deletionTimestamp = timestamp(this.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      const stored = this.objects.get(this.rid(def))!;
      next.metadata.resourceVersion = String(++this.rv);
      stored.set(key(def.namespaced ? next.metadata.namespace : undefined, next.metadata.name!), next);
      this.emit({ type: 'MODIFIED', rid: this.rid(def), rv: this.rv, object: clone(next), old: clone(current) });
      return { object: clone(next), pending: true };
    }
    const uid = current.metadata.uid;
    const dependents = this.dependentsOf(uid as string);
    if (propagation === 'Foreground') for (const [d, o] of dependents) this.deleteIfPresent(d, o, 'Foreground');
    const gone = this.remove(def, current);
    if (propagation === 'Background') for (const [d, o] of dependents) this.deleteIfPresent(d, o, 'Background');
    if (propagation === 'Orphan') {
      for (const [d, o] of dependents) {
        const refs = (o.metadata.ownerReferences as { uid?: string }[]).filter((r) => r.uid !== uid);
        const next = clone(o);
        if (refs.length > 0) next.metadata.ownerReferences = refs;
        else delete next.metadata.ownerReferences;
        this.replace(d, o, next);
      }
    }
    if (def.kind === 'Namespace' && def.group === '') {
      for (const d of this.defs.values()) {
        if (!d.namespaced) continue;
        for (const o of this.list(d, current.metadata.name)) this.deleteIfPresent(d, o, 'Background');
      }
    }
    return { object: gone, pending: false };
  }

  private deleteIfPresent(def: ResourceDef, obj: KubeObject, propagation: DeletePropagation): void {
    const cur = this.get(def, obj.metadata.namespace, obj.metadata.name!);
    if (cur) this.delete(def, cur, propagation);
  }

  /** Every object with an ownerReference to `uid`. */
  dependentsOf(uid: string): [ResourceDef, KubeObject][] {
    const out: [ResourceDef, KubeObject][] = [];
    for (const [rid, objs] of this.objects) {
      const def = this.defs.get(rid);
      if (!def) continue;
      for (const o of objs.values()) {
        const refs = o.metadata.ownerReferences as { uid?: string }[] | undefined;
        if (refs?.some((r) => r.uid === uid)) out.push([def, clone(o)]);
      }
    }
    return out;
  }
}

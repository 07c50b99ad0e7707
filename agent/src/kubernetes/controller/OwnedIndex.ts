/**
 * Which cached objects belong to which definition, kept up to date from the owned informers'
 * events, so a reconcile finds a definition's objects in O(its objects) instead of scanning
 * every cached object of every kind (O(n²) over a full reconcile; bench:k8s).
 *
 * An object belongs to a definition by its `definition-uid` label when it has one, else by its
 * `definition-hash` and `definition-namespace` labels (as the controller always matched them).
 */
import type { KubeObject } from '../client.js';
import { LABELS } from '../resources/index.js';

/** An indexed object: its kind and its informer key. */
export interface IndexedRef {
  kind: string;
  key: string;
}

export class OwnedIndex {
  private readonly byUid = new Map<string, Map<string, IndexedRef>>();
  private readonly byHash = new Map<string, Map<string, IndexedRef & { hasUid: boolean }>>();

  add(kind: string, key: string, object: KubeObject): void {
    const labels = object.metadata.labels ?? {};
    const uid = labels[LABELS.definitionUid];
    const hash = labels[LABELS.definitionHash];
    const id = `${kind}\u0000${key}`;
    if (uid !== undefined) bucket(this.byUid, uid).set(id, { kind, key });
    if (hash !== undefined) bucket(this.byHash, `${labels[LABELS.definitionNamespace] ?? ''}/${hash}`).set(id, { kind, key, hasUid: uid !== undefined });
  }

  remove(kind: string, key: string, object: KubeObject): void {
    const labels = object.metadata.labels ?? {};
    const uid = labels[LABELS.definitionUid];
    const hash = labels[LABELS.definitionHash];
    const id = `${kind}\u0000${key}`;
    if (uid !== undefined) drop(this.byUid, uid, id);
    if (hash !== undefined) drop(this.byHash, `${labels[LABELS.definitionNamespace] ?? ''}/${hash}`, id);
  }

  /** The objects of the definition with this uid (may be undefined), namespace and definition hash. */
  find(uid: string | undefined, namespace: string, hash: string): IndexedRef[] {
    const out: IndexedRef[] = [];
    if (uid !== undefined) for (const r of this.byUid.get(uid)?.values() ?? []) out.push(r);
    for (const r of this.byHash.get(`${namespace}/${hash}`)?.values() ?? []) {
      if (uid === undefined || !r.hasUid) out.push({ kind: r.kind, key: r.key });
    }
    return out;
  }
}

function bucket<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let b = map.get(key);
  if (!b) {
    b = new Map();
    map.set(key, b);
  }
  return b;
}

function drop<V>(map: Map<string, Map<string, V>>, key: string, id: string): void {
  const b = map.get(key);
  if (!b) return;
  b.delete(id);
  if (b.size === 0) map.delete(key);
}

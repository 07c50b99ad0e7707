/**
 * Kubernetes state store: HealthRecords (platform.kratix.io/v1alpha1, namespaced, `data`
 * payload: Kratix's CRD) applied straight to a cluster, usually the platform cluster, as the
 * public Redis example does with `kubectl apply`. The cluster comes from a kubeconfig file, a
 * kubeconfig in a mounted Secret, or the in-cluster service account (kubernetes/connect.ts).
 *
 * - Namespace: the record's (its definition's), or `store.namespace` for all records. With
 *   the override, object names are `<record-namespace>-<record-name>` (bounded to 253) so
 *   definitions of the same name in two namespaces do not collide, and the annotation
 *   `health.vigil.dev/record` keeps the record's own `namespace/name` so `list()` gives back
 *   the refs the agent knows. Namespaces are never created (ADR 0011).
 * - Ownership: every object carries `app.kubernetes.io/managed-by: vigil` and
 *   `health.vigil.dev/destination`. `list()` selects on them; a put or a delete never touches
 *   an object of the same name that another manager or another destination owns (a put fails
 *   naming it, a delete leaves it alone).
 * - Create or update idempotently: create, or replace with the resourceVersion last seen. A
 *   409 AlreadyExists on create or 409 Conflict on replace (someone else wrote in between)
 *   re-reads the object and retries with backoff; a replace that finds the object gone
 *   creates it. Deleting uses a uid precondition; a 404 is success.
 * - Write on change (write-on-change.ts, as git and bucket): an in-memory index of what the
 *   cluster holds, seeded by `list()` and kept by every write; an unchanged record whose
 *   stored lastRun is younger than `heartbeatMs` makes no request at all.
 *
 * `init()` checks the server, the credentials and the CRD with one list (limit 1); errors name
 * the setting (kubernetes/errors.ts). Wrap the store in InitOnUse so that a cluster unreachable
 * at start is retried on use while records wait in the outbox.
 */
import type { KubernetesObject, V1DeleteOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { systemClock, type Clock, type RecordRef, type StateStore } from '../core/interfaces.js';
import { API_VERSION, HEALTH_RECORD_KIND, type HealthRecord } from '../core/model.js';
import { boundedName, dns1123LabelProblem, dns1123SubdomainProblem } from '../core/naming.js';
import { isMapping } from '../core/pipeline.js';
import { LABEL_DESTINATION, LABEL_MANAGED_BY } from '../core/record.js';
import { FIELD_MANAGER, plain, type Kube, type KubeObject } from '../kubernetes/client.js';
import { apiAnswer, describeKubeStoreError, isObjectNotFound } from './kubernetes/errors.js';
import { storedVersionOf, unchangedAndFresh, type StoredVersion } from './write-on-change.js';
import { RequestLimiter } from './RequestLimiter.js';

const [GROUP, VERSION] = API_VERSION.split('/') as [string, string];
const PLURAL = 'healthrecords';

/** The record's own `namespace/name`, on objects written under store.namespace. */
export const ANNOTATION_RECORD = 'health.vigil.dev/record';

export interface KubernetesStateStoreOptions {
  kube: Kube;
  /** The setting that chose the cluster, named in errors (see connectKubernetesStore). */
  connection?: string;
  /** store.namespace: every record goes to this namespace instead of its own. */
  namespace?: string;
  /** This agent's destination: list() selects only its records. Default: every vigil record. */
  destination?: string;
  logger: Logger;
  /** An unchanged record is still rewritten once its stored lastRun is this old. Default one hour. */
  heartbeatMs?: number;
  clock?: Clock;
  /** Requests in flight at once. Default 16. */
  maxConcurrentRequests?: number;
  /** Items per list page. Default 500. */
  listPageSize?: number;
  /** Attempts of one put or delete on 409 (re-read in between). Default 6. */
  conflictAttempts?: number;
  /** First backoff after a 409, doubled per attempt (with jitter). Default 50 ms. */
  conflictBackoffMs?: number;
}

/** What the cluster holds under an object name, as far as put/delete need it. */
interface Known {
  uid: string;
  resourceVersion: string;
  stored: StoredVersion | undefined;
}

interface ObjectRef {
  namespace: string;
  name: string;
}

type HealthRecordObject = KubeObject & { data?: unknown };

export class KubernetesStateStore implements StateStore {
  readonly kind = 'kubernetes';
  private readonly kube: Kube;
  private readonly connection: string;
  private readonly namespace: string | undefined;
  private readonly destination: string | undefined;
  private readonly logger: Logger;
  private readonly heartbeatMs: number;
  private readonly clock: Clock;
  private readonly maxConcurrent: number;
  private readonly listPageSize: number;
  private readonly conflictAttempts: number;
  private readonly conflictBackoffMs: number;
  private readonly limiter: RequestLimiter;
  /** What the cluster holds per `namespace/objectName` of ours: a version, or null for known absent. */
  private index = new Map<string, Known | null>();
  /** True once list() has read every record of ours: a key missing from the index is absent. */
  private indexComplete = false;
  private closed = false;

  constructor(options: KubernetesStateStoreOptions) {
    if (options.namespace !== undefined) {
      const problem = dns1123LabelProblem(options.namespace);
      if (problem) throw new Error(`store.namespace: ${problem}`);
    }
    this.kube = options.kube;
    this.connection = options.connection ?? 'store.kubeconfig';
    this.namespace = options.namespace;
    this.destination = options.destination;
    this.heartbeatMs = options.heartbeatMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
    this.maxConcurrent = Math.max(1, options.maxConcurrentRequests ?? 16);
    this.limiter = new RequestLimiter(this.maxConcurrent);
    this.listPageSize = options.listPageSize ?? 500;
    this.conflictAttempts = Math.max(1, options.conflictAttempts ?? 6);
    this.conflictBackoffMs = options.conflictBackoffMs ?? 50;
    this.logger = options.logger.child({ store: 'kubernetes', server: this.kube.server, ...(this.namespace ? { namespace: this.namespace } : {}) });
  }

  describe(): string {
    return `kubernetes ${this.kube.server}${this.namespace ? ` (namespace ${this.namespace})` : ''}`;
  }

  /** Checks server, credentials and the HealthRecord CRD with one list (limit 1). */
  async init(): Promise<void> {
    this.assertOpen();
    const where = this.namespace ? `in namespace ${this.namespace}` : 'in all namespaces';
    await this.call(() => this.listPage(1, undefined), `list HealthRecords ${where}`, this.namespace);
    this.logger.info({ connection: this.connection }, 'kubernetes state store ready');
  }

  /** Where a record's object lives: its namespace and name, or store.namespace and a prefixed name. */
  objectRef(ref: RecordRef): ObjectRef {
    const nsProblem = dns1123LabelProblem(ref.namespace);
    if (nsProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.namespace: ${nsProblem}`);
    const nameProblem = dns1123SubdomainProblem(ref.name);
    if (nameProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.name: ${nameProblem}`);
    if (this.namespace === undefined) return { namespace: ref.namespace, name: ref.name };
    return { namespace: this.namespace, name: boundedName([ref.namespace, ref.name], 253) };
  }

  async put(record: HealthRecord): Promise<void> {
    this.assertOpen();
    const target = this.objectRef(record.metadata);
    const key = keyOf(target);
    let known = await this.knownVersion(target, record);
    if (known !== null && unchangedAndFresh(known.stored, record, this.clock.now(), this.heartbeatMs)) return;
    const body = this.objectOf(record, target);
    for (let attempt = 1; ; attempt++) {
      try {
        const written = known === null
          ? await this.limited(() => this.kube.objects.create(body as KubernetesObject, undefined, undefined, FIELD_MANAGER))
          : await this.limited(() => this.kube.objects.replace({ ...body, metadata: { ...body.metadata, resourceVersion: known!.resourceVersion } } as KubernetesObject, undefined, undefined, FIELD_MANAGER));
        this.index.set(key, versionOf(plain<HealthRecordObject>(written)));
        return;
      } catch (err) {
        const answer = apiAnswer(err);
        const operation = `${known === null ? 'create' : 'replace'} HealthRecord ${key}`;
        const raced = answer.code === 409 || (known !== null && isObjectNotFound(answer, target.name));
        if (!raced || attempt >= this.conflictAttempts) {
          if (answer.code === 409) this.index.delete(key);
          throw answer.code === 409
            ? new Error(`kubernetes store ${this.kube.server}: ${operation}: still conflicting after ${attempt} attempts (${answer.reason ?? 'Conflict'}: ${answer.message})`, { cause: err })
            : this.error(err, operation, target.namespace);
        }
        // AlreadyExists, Conflict, or gone since read: someone else wrote in between. Re-read and retry.
        this.logger.debug({ record: key, attempt, reason: answer.reason }, 'HealthRecord changed meanwhile; re-reading');
        await sleep(this.backoff(attempt));
        this.index.delete(key);
        known = await this.knownVersion(target, record, true);
        if (known !== null && unchangedAndFresh(known.stored, record, this.clock.now(), this.heartbeatMs)) return;
      }
    }
  }

  async delete(ref: RecordRef): Promise<void> {
    this.assertOpen();
    const target = this.objectRef(ref);
    const key = keyOf(target);
    let reread = false;
    for (let attempt = 1; ; attempt++) {
      let known = reread ? undefined : this.index.get(key);
      if (known === null || (known === undefined && this.indexComplete && !reread)) return;
      if (known === undefined) {
        const current = await this.read(target);
        if (current === undefined) {
          this.index.set(key, null);
          return;
        }
        const foreign = this.foreignOwner(current, ref, this.destination);
        if (foreign !== undefined) {
          this.logger.warn({ record: key, owner: foreign }, 'not deleting a HealthRecord vigil does not own here');
          return;
        }
        known = versionOf(current);
        this.index.set(key, known);
      }
      // Plain JSON (the client serialises it as is), typed for the generated API.
      const options = { preconditions: { uid: known.uid } } as unknown as V1DeleteOptions;
      try {
        await this.limited(() => this.kube.objects.delete(header(target), undefined, undefined, undefined, undefined, 'Background', options));
        this.index.set(key, null);
        return;
      } catch (err) {
        const answer = apiAnswer(err);
        if (isObjectNotFound(answer, target.name)) {
          this.index.set(key, null);
          return;
        }
        if (answer.code !== 409 || attempt >= this.conflictAttempts) throw this.error(err, `delete HealthRecord ${key}`, target.namespace);
        // The uid changed: the object was deleted and created again (by us elsewhere, or by someone else). Re-read.
        this.index.delete(key);
        reread = true;
        await sleep(this.backoff(attempt));
      }
    }
  }

  /** Every HealthRecord of ours (label selector; in store.namespace or all namespaces), paginated. */
  async list(): Promise<HealthRecord[]> {
    this.assertOpen();
    const items: HealthRecordObject[] = [];
    let next: string | undefined;
    const where = this.namespace ? `in namespace ${this.namespace}` : 'in all namespaces';
    do {
      const token = next;
      const page = await this.call(() => this.listPage(this.listPageSize, token), `list HealthRecords ${where}`, this.namespace);
      items.push(...page.items);
      next = page.metadata?.continue;
    } while (next);

    const index = new Map<string, Known | null>();
    const records: HealthRecord[] = [];
    for (const item of items) {
      const record = this.recordOf(item);
      if (record === undefined) continue;
      records.push(record);
      index.set(keyOf({ namespace: item.metadata.namespace ?? '', name: item.metadata.name }), versionOf(item));
    }
    // Writes that finished while listing are newer than what was read.
    for (const [key, value] of this.index) if (!index.has(key) || value === null) index.set(key, value);
    this.index = index;
    this.indexComplete = true;
    return records.sort((a, b) => (keyOf(a.metadata) < keyOf(b.metadata) ? -1 : 1));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  // ------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.closed) throw new Error(`kubernetes state store ${this.describe()}: closed`);
  }

  /**
   * One page of our HealthRecords, as the server sent it. Through CustomObjectsApi, whose
   * answer is the raw JSON: KubernetesObjectApi.list types a custom list's metadata as object
   * metadata and drops `continue`, so it would silently stop after the first page.
   */
  private async listPage(limit: number, token: string | undefined): Promise<{ items: HealthRecordObject[]; metadata?: { continue?: string } }> {
    const request = { group: GROUP, version: VERSION, plural: PLURAL, labelSelector: this.selector(), limit, ...(token !== undefined ? { _continue: token } : {}) };
    const page: unknown = this.namespace === undefined
      ? await this.kube.custom.listClusterCustomObject(request)
      : await this.kube.custom.listNamespacedCustomObject({ ...request, namespace: this.namespace });
    const list = page as { items?: HealthRecordObject[]; metadata?: { continue?: string } };
    return { items: list.items ?? [], ...(list.metadata ? { metadata: list.metadata } : {}) };
  }

  private selector(): string {
    return `${LABEL_MANAGED_BY}=vigil${this.destination ? `,${LABEL_DESTINATION}=${this.destination}` : ''}`;
  }

  /** The object written for a record: Kratix's HealthRecord with vigil's labels and annotations. */
  private objectOf(record: HealthRecord, target: ObjectRef): HealthRecordObject {
    const annotations = { ...(record.metadata.annotations ?? {}), ...(this.namespace !== undefined ? { [ANNOTATION_RECORD]: keyOf(record.metadata) } : {}) };
    return {
      apiVersion: API_VERSION,
      kind: HEALTH_RECORD_KIND,
      metadata: {
        name: target.name,
        namespace: target.namespace,
        labels: { ...(record.metadata.labels ?? {}), [LABEL_MANAGED_BY]: 'vigil' },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      data: record.data,
    };
  }

  /** The HealthRecord (with the record's own namespace/name) of a listed object, or undefined when it is not one of ours. */
  private recordOf(item: HealthRecordObject): HealthRecord | undefined {
    if (!isMapping(item.data)) return undefined;
    const annotations = item.metadata.annotations ?? {};
    let namespace = item.metadata.namespace ?? '';
    let name = item.metadata.name;
    if (this.namespace !== undefined) {
      const own = annotations[ANNOTATION_RECORD];
      const slash = own?.indexOf('/') ?? -1;
      if (own === undefined || slash <= 0) {
        this.logger.warn({ object: `${namespace}/${name}` }, `ignoring a vigil HealthRecord without the ${ANNOTATION_RECORD} annotation in store.namespace`);
        return undefined;
      }
      namespace = own.slice(0, slash);
      name = own.slice(slash + 1);
    }
    const { [ANNOTATION_RECORD]: _omit, ...rest } = annotations;
    return {
      apiVersion: API_VERSION,
      kind: HEALTH_RECORD_KIND,
      metadata: {
        name,
        namespace,
        ...(item.metadata.labels ? { labels: item.metadata.labels } : {}),
        ...(Object.keys(rest).length > 0 ? { annotations: rest } : {}),
      },
      data: item.data as unknown as HealthRecord['data'],
    };
  }

  /**
   * Who else owns `object` (a description), or undefined when it is ours: managed by vigil, of
   * the same destination, and (under store.namespace) holding the same record.
   */
  private foreignOwner(object: HealthRecordObject, ref: RecordRef, destination: string | undefined): string | undefined {
    const labels = object.metadata.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== 'vigil') return `${LABEL_MANAGED_BY}=${labels[LABEL_MANAGED_BY] ?? '(none)'}`;
    if (destination !== undefined && labels[LABEL_DESTINATION] !== destination) return `${LABEL_DESTINATION}=${labels[LABEL_DESTINATION] ?? '(none)'}`;
    if (this.namespace !== undefined) {
      const own = object.metadata.annotations?.[ANNOTATION_RECORD];
      if (own !== keyOf(ref)) return `${ANNOTATION_RECORD}=${own ?? '(none)'}`;
    }
    return undefined;
  }

  /** What the cluster holds for a record's object (null: absent), from the index or one GET; refuses objects of others. */
  private async knownVersion(target: ObjectRef, record: HealthRecord, reread = false): Promise<Known | null> {
    const key = keyOf(target);
    const known = this.index.get(key);
    if (!reread) {
      if (known !== undefined) return known;
      if (this.indexComplete) return null;
    }
    const current = await this.read(target);
    if (current === undefined) {
      this.index.set(key, null);
      return null;
    }
    const foreign = this.foreignOwner(current, record.metadata, record.metadata.labels?.[LABEL_DESTINATION]);
    if (foreign !== undefined) {
      throw new Error(`record ${keyOf(record.metadata)}: HealthRecord ${key} in the cluster at ${this.kube.server} is not this vigil's (${foreign}); vigil does not overwrite it. Delete or rename it${this.namespace === undefined ? ', or set store.namespace' : ''}`);
    }
    const version = versionOf(current);
    this.index.set(key, version);
    return version;
  }

  /** The object, or undefined when it does not exist. */
  private async read(target: ObjectRef): Promise<HealthRecordObject | undefined> {
    try {
      return plain<HealthRecordObject>(await this.limited(() => this.kube.objects.read(header(target))));
    } catch (err) {
      if (isObjectNotFound(apiAnswer(err), target.name)) return undefined;
      throw this.error(err, `get HealthRecord ${keyOf(target)}`, target.namespace);
    }
  }

  private backoff(attempt: number): number {
    const base = this.conflictBackoffMs * 2 ** (attempt - 1);
    return Math.min(2_000, base / 2 + Math.random() * base);
  }

  /** Runs `request` once fewer than maxConcurrentRequests are in flight. */
  private limited<T>(request: () => Promise<T>): Promise<T> {
    return this.limiter.run(request);
  }

  private async call<T>(request: () => Promise<T>, operation: string, namespace: string | undefined): Promise<T> {
    try {
      return await this.limited(request);
    } catch (err) {
      throw this.error(err, operation, namespace);
    }
  }

  private error(err: unknown, operation: string, namespace: string | undefined): Error {
    return describeKubeStoreError(err, {
      server: this.kube.server,
      connection: this.connection,
      operation,
      ...(namespace !== undefined ? { namespace } : {}),
      namespaceFromSetting: this.namespace !== undefined,
    });
  }
}

function keyOf(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

function versionOf(object: HealthRecordObject): Known {
  return { uid: object.metadata.uid ?? '', resourceVersion: object.metadata.resourceVersion ?? '', stored: storedVersionOf(object) };
}

function header(target: ObjectRef): KubernetesObject & { metadata: { name: string } } {
  const plainHeader: Record<string, unknown> = { apiVersion: API_VERSION, kind: HEALTH_RECORD_KIND, metadata: { name: target.name, namespace: target.namespace } };
  return plainHeader as unknown as KubernetesObject & { metadata: { name: string } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The one place vigil talks to the Kubernetes API, through the real @kubernetes/client-node
 * (~1.4). Everything above this module sees plain JSON objects exactly as the API server
 * sends them (timestamps are strings), whether they came from a list, a get or a watch,
 * and errors as `KubeApiError {code, reason}` parsed from the server's Status.
 *
 * Generic CRUD goes through KubernetesObjectApi (discovery resolves the path of any kind),
 * status subresources through CustomObjectsApi, watches through client-node's Watch.
 */
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
  type V1APIResource,
} from '@kubernetes/client-node';

/** Metadata fields vigil reads. */
export interface KubeMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any object as the API server sends it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

/** An error answer of the API server (or a transport failure, code undefined). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status (404, 409, 410, 422, ...); undefined when no answer came back. */
    readonly code: number | undefined,
    /** The Status `reason` (NotFound, AlreadyExists, Conflict, Expired, Invalid, ...). */
    readonly reason: string | undefined,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Maps anything a client call threw to a KubeApiError; callers branch on `code`, never on text. */
export function kubeError(err: unknown, what?: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const prefix = what ? `${what}: ` : '';
  if (err instanceof ApiException) {
    const code = (err as ApiException<unknown>).code;
    const status = parseStatus((err as ApiException<unknown>).body);
    const text = status?.message ?? `HTTP ${code}`;
    return new KubeApiError(`${prefix}${text}`, code, status?.reason);
  }
  const code = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  const message = err instanceof Error ? err.message : String(err);
  return new KubeApiError(`${prefix}${message}`, typeof code === 'number' ? code : undefined, undefined);
}

export function isNotFound(err: unknown): boolean {
  return kubeError(err).code === 404;
}

export function isConflict(err: unknown): boolean {
  return kubeError(err).code === 409;
}

/** The message, reason and details of a Kubernetes `Status` body (a string or an object), if it is one. */
export function parseStatus(body: unknown): { message?: string; reason?: string; details: { name?: string; kind?: string; group?: string } } | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300), details: {} } : undefined;
    }
  }
  if (value === null || typeof value !== 'object') return undefined;
  const s = value as { message?: unknown; reason?: unknown; details?: unknown };
  const d = (s.details !== null && typeof s.details === 'object' ? s.details : {}) as Record<string, unknown>;
  const details: { name?: string; kind?: string; group?: string } = {};
  for (const key of ['name', 'kind', 'group'] as const) if (typeof d[key] === 'string') details[key] = d[key];
  return {
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    details,
  };
}

export interface KubeConfigOptions {
  /** A kubeconfig file; default: KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** A context of the kubeconfig; default: its current context. */
  context?: string;
}

/**
 * Loads a kubeconfig. Unlike `loadFromDefault()`, never silently falls back to
 * http://localhost:8080 when nothing is configured: that is an error naming the settings.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}, field = 'definitions.kubeconfig'): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) {
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (err) {
      throw new Error(`${field}: cannot load kubeconfig ${options.kubeconfig}: ${(err as Error).message}`, { cause: err });
    }
  } else {
    kc.loadFromDefault();
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new Error(`${field}: context "${options.context}" is not in the kubeconfig`);
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${field}: the kubeconfig has no current cluster`);
  if (!options.kubeconfig && cluster.name === 'cluster' && cluster.server === 'http://localhost:8080') {
    throw new Error(`${field}: no Kubernetes configuration found (set KUBECONFIG or ${field}, or run in a pod with a service account)`);
  }
  return kc;
}

/** A kubeconfig pointing at `server` without auth, for tests and benchmarks against a fake API server. */
export function kubeConfigFor(server: string, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u', namespace }],
    currentContext: 'ctx',
  });
  return kc;
}

/** API group and version of an apiVersion string (`v1` → group ''). */
export function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The REST path of a collection: `/apis/batch/v1/namespaces/ns/jobs`, or cluster-wide without a namespace. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${root}/${plural}`;
}

/** Plain JSON of what the typed client returned (Dates back to strings, `_continue` to `continue`). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed parse of JSON
export function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WatchHandle {
  abort(): void;
}

/**
 * The client: a KubeConfig plus the API objects vigil uses. Every method returns plain
 * JSON and throws KubeApiError.
 */
export class Kube {
  readonly objects: ObjectApi;
  readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;

  constructor(readonly kc: KubeConfig) {
    this.objects = ObjectApi.make(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kc);
  }

  /** The server URL, for messages. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '?';
  }

  async list<T extends KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeList<T>> {
    try {
      if (groupVersion(apiVersion).group !== '') return await this.listGrouped<T>(apiVersion, kind, options);
      const result = await this.objects.list(
        apiVersion,
        kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        options.fieldSelector,
        options.labelSelector,
        options.limit,
        options.continue,
      );
      const meta = (result.metadata ?? {}) as { resourceVersion?: string; _continue?: string; continue?: string };
      const next = meta._continue ?? meta.continue;
      return { items: plain<T[]>(result.items), resourceVersion: meta.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
    } catch (err) {
      throw kubeError(err, `list ${kind}${options.namespace ? ` in ${options.namespace}` : ''}`);
    }
  }

  /**
   * A list in a named API group, as plain JSON through CustomObjectsApi (any resource, built-in
   * or custom; the path comes from discovery). KubernetesObjectApi.list deserializes the list of
   * a kind it has no model for (every custom resource) with V1ObjectMeta as its metadata, which
   * drops `continue`: only the first page of HealthDefinitions would ever be seen.
   */
  private async listGrouped<T extends KubeObject>(apiVersion: string, kind: string, options: ListOptions): Promise<KubeList<T>> {
    const { group, version } = groupVersion(apiVersion);
    const resource = await this.objects.resourceOf(apiVersion, kind);
    if (!resource) throw new KubeApiError(`the server does not serve ${kind} in ${apiVersion}`, 404, 'NotFound');
    const params = {
      group,
      version,
      plural: resource.name,
      ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(options.continue !== undefined ? { _continue: options.continue } : {}),
    };
    const result = (options.namespace !== undefined && resource.namespaced
      ? await this.custom.listNamespacedCustomObject({ ...params, namespace: options.namespace })
      : await this.custom.listClusterCustomObject(params)) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const next = result.metadata?.continue;
    return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
  }

  /** Every page of a list (limit/continue), and the resourceVersion of the first page. */
  async listAll<T extends KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}, pageSize = 500): Promise<KubeList<T>> {
    const items: T[] = [];
    let resourceVersion = '';
    let next: string | undefined;
    do {
      const page = await this.list<T>(apiVersion, kind, { ...options, limit: pageSize, ...(next ? { continue: next } : {}) });
      items.push(...page.items);
      if (!resourceVersion) resourceVersion = page.resourceVersion;
      next = page.continue;
    } while (next);
    return { items, resourceVersion };
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return plain<T>(await this.objects.read(objectHeader(apiVersion, kind, namespace, name)));
    } catch (err) {
      const e = kubeError(err, `get ${kind} ${where(namespace, name)}`);
      if (e.code === 404) return undefined;
      throw e;
    }
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    try {
      return plain<T>(await this.objects.create(object as KubernetesObject, undefined, undefined, FIELD_MANAGER));
    } catch (err) {
      throw kubeError(err, `create ${describe(object)}`);
    }
  }

  /** Replaces the object (optimistic concurrency when metadata.resourceVersion is set). */
  async replace<T extends KubeObject>(object: T): Promise<T> {
    try {
      return plain<T>(await this.objects.replace(object as KubernetesObject, undefined, undefined, FIELD_MANAGER));
    } catch (err) {
      throw kubeError(err, `replace ${describe(object)}`);
    }
  }

  /** JSON merge patch (RFC 7386): `patch` holds apiVersion, kind, metadata.name/namespace and the changes. */
  async mergePatch<T extends KubeObject>(patch: T): Promise<T> {
    try {
      return plain<T>(await this.objects.patch(patch as KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch));
    } catch (err) {
      throw kubeError(err, `patch ${describe(patch)}`);
    }
  }

  /** Deletes the object (background propagation); a missing object is not an error. Returns false then. */
  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.objects.delete(objectHeader(apiVersion, kind, namespace, name), undefined, undefined, undefined, undefined, 'Background');
      return true;
    } catch (err) {
      const e = kubeError(err, `delete ${kind} ${where(namespace, name)}`);
      if (e.code === 404) return false;
      throw e;
    }
  }

  /** Merge-patches the /status subresource of a namespaced custom object. */
  async patchStatus<T extends KubeObject>(apiVersion: string, plural: string, namespace: string, name: string, status: Record<string, unknown>): Promise<T> {
    const { group, version } = groupVersion(apiVersion);
    try {
      const result: unknown = await this.custom.patchNamespacedCustomObjectStatus(
        { group, version, namespace, plural, name, body: { status }, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return plain<T>(result);
    } catch (err) {
      throw kubeError(err, `update status of ${plural} ${namespace}/${name}`);
    }
  }

  /**
   * Opens a watch on a collection path. `onEvent` gets each event; `onDone` is called once,
   * when the stream ends or fails (also after `abort()`). Returns at once; the handle works
   * even before the server answered.
   */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (type: string, object: unknown) => void, onDone: (err: unknown) => void): WatchHandle {
    let aborted = false;
    let controller: AbortController | undefined;
    let doneCalled = false;
    const done = (err: unknown): void => {
      if (doneCalled) return;
      doneCalled = true;
      onDone(err);
    };
    this.watcher
      .watch(path, query, (type, object) => { if (!aborted) onEvent(type, object); }, done)
      .then((c) => {
        controller = c;
        if (aborted) c.abort();
      })
      .catch(done);
    return {
      abort: () => {
        aborted = true;
        controller?.abort();
        done(new Error('watch aborted'));
      },
    };
  }
}

export const FIELD_MANAGER = 'vigil';

/** KubernetesObjectApi with its cached discovery of a kind's resource (plural, scope) exposed. */
class ObjectApi extends KubernetesObjectApi {
  static make(kc: KubeConfig): ObjectApi {
    const client = kc.makeApiClient(ObjectApi);
    client.setDefaultNamespace(kc);
    return client;
  }

  async resourceOf(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return await this.resource(apiVersion, kind);
  }
}

/** `{apiVersion, kind, metadata: {name, namespace}}` typed for the generic API (plain JSON, not model instances). */
function objectHeader(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubernetesObject & { metadata: { name: string } } {
  const header: Record<string, unknown> = { apiVersion, kind, metadata: namespace ? { name, namespace } : { name } };
  return header as unknown as KubernetesObject & { metadata: { name: string } };
}

function where(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function describe(object: KubeObject): string {
  return `${object.kind ?? 'object'} ${where(object.metadata.namespace, object.metadata.name)}`;
}

/**
 * A wire-level fake Kubernetes API server for tests and benchmarks: a real HTTP server speaking
 * the Kubernetes REST protocol closely enough that the real @kubernetes/client-node (CoreV1Api,
 * BatchV1Api, CustomObjectsApi, KubernetesObjectApi, Watch, makeInformer...) works against it
 * unmodified. Tests control it directly: seed and inspect objects, count requests, inject
 * failures (status codes, hangs, dropped connections), compact history (410 Gone), and drive
 * the CronJob → Job → Pod lifecycle (workloads).
 *
 *   const fake = await FakeKubeServer.start();
 *   const core = fake.kubeConfig().makeApiClient(CoreV1Api);
 *
 * Fidelity and known limits: docs/adr/0010-fake-kubernetes-api-server.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { toYaml } from '../../../agent/src/core/yaml.js';
import { defaultResources, type ResourceDef } from './resources.js';
import { ApiHandler, statusObject } from './server.js';
import { ObjectStore, type DeletePropagation, type KubeObject } from './store.js';
import { Workloads } from './workloads.js';

export type { ResourceDef } from './resources.js';
export { builtinResources, defaultResources, kratixResources, kubevirtResources, resourceDefsFromCrd, crdsFromFile } from './resources.js';
export type { KubeObject } from './store.js';
export type { PodOutcome, FiredJob } from './workloads.js';

export interface FakeKubeOptions {
  /** Served resources; default: defaultResources() (built-ins, platform.kratix.io, kubevirt.io). */
  resources?: ResourceDef[];
  /** Interval of BOOKMARK events on watches that allow them; default: none sent except at watch timeout. */
  bookmarkIntervalMs?: number;
  /** Require `Authorization: Bearer <token>`; 401 without it. Default: not required (the kubeconfig still sends one). */
  token?: string;
  /** Namespaces that exist from the start; default ['default', 'kube-system', 'kube-public']. */
  namespaces?: string[];
  /** Refuse a watch from a compacted resourceVersion with an in-stream ERROR event (default, like the watch cache) or an HTTP 410. */
  tooOldWatch?: 'event' | 'status';
  /** Clock for timestamps (creationTimestamp, workload times). */
  now?: () => number;
  /** Port to listen on (127.0.0.1); default: any free port. Useful to restart a server on the same address. */
  port?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** Epoch ms when the request arrived. */
  time: number;
  contentType?: string;
  /** Response status, once answered (undefined for hung or dropped requests and open watches). */
  status?: number;
}

export type RequestMatcher =
  | { method?: string; path?: string | RegExp; watch?: boolean }
  | ((req: LoggedRequest) => boolean);

export type FailureAction = number | 'hang' | 'drop';

interface PendingFailure {
  matcher: RequestMatcher;
  action: FailureAction;
  remaining: number;
}

function matchRequest(m: RequestMatcher, r: LoggedRequest): boolean {
  if (typeof m === 'function') return m(r);
  if (m.method !== undefined && m.method.toUpperCase() !== r.method) return false;
  if (m.watch !== undefined && m.watch !== r.watch) return false;
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? m.path !== r.path : !m.path.test(r.path)) return false;
  }
  return true;
}

/** The request log, for asserting how many API calls something made. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  count(matcher?: RequestMatcher): number {
    return matcher ? this.entries.filter((e) => matchRequest(matcher, e)).length : this.entries.length;
  }

  filter(matcher: RequestMatcher): LoggedRequest[] {
    return this.entries.filter((e) => matchRequest(matcher, e));
  }

  /** Requests other than GET (writes). */
  writes(): LoggedRequest[] {
    return this.entries.filter((e) => e.method !== 'GET');
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/** Test-side access to the stored objects (bypasses validation and HTTP; emits watch events). */
export interface StoreControl {
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** Creates or replaces (the object's apiVersion/kind/metadata.name/namespace say which). Bumps resourceVersion. */
  put(object: KubeObject): KubeObject;
  /** Sets the status of an existing object (like a controller writing /status). */
  putStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: unknown): KubeObject;
  /** Deletes (with garbage collection of dependents); returns whether it existed. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, propagation?: DeletePropagation): boolean;
  /** Last resourceVersion handed out. */
  readonly resourceVersion: string;
}

export class FakeKubeServer {
  readonly requests = new RequestLog();
  readonly store: StoreControl;
  /** CronJob → Job → Pod lifecycle simulation. */
  readonly workloads: Workloads;
  private readonly failures: PendingFailure[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly objects: ObjectStore,
    private readonly handler: ApiHandler,
    private readonly token: string | undefined,
    readonly now: () => number,
  ) {
    const s = objects;
    this.store = {
      get: (apiVersion, kind, ns, name) => s.get(s.mustKind(apiVersion, kind), ns, name),
      list: (apiVersion, kind, ns) => s.list(s.mustKind(apiVersion, kind), ns),
      put: (object) => {
        if (!object.apiVersion || !object.kind || !object.metadata.name) throw new Error('fake-kube store.put: apiVersion, kind and metadata.name are required');
        const def = s.mustKind(object.apiVersion, object.kind);
        const current = s.get(def, object.metadata.namespace, object.metadata.name);
        return current ? s.replace(def, current, { ...object, metadata: { ...object.metadata } }) : s.insert(def, object);
      },
      putStatus: (apiVersion, kind, ns, name, status) => {
        const def = s.mustKind(apiVersion, kind);
        const current = s.get(def, ns, name);
        if (!current) throw new Error(`fake-kube store.putStatus: ${kind} ${ns ?? ''}/${name} not found`);
        return s.replace(def, current, { ...current, status });
      },
      delete: (apiVersion, kind, ns, name, propagation = 'Background') => {
        const def = s.mustKind(apiVersion, kind);
        const current = s.get(def, ns, name);
        if (!current) return false;
        s.delete(def, current, propagation);
        return true;
      },
      get resourceVersion() {
        return String(s.rv);
      },
    };
    this.workloads = new Workloads(objects, this.store, handler.podLogs, now);
  }

  static async start(opts: FakeKubeOptions = {}): Promise<FakeKubeServer> {
    const now = opts.now ?? (() => Date.now());
    const objects = new ObjectStore(opts.resources ?? defaultResources(), now);
    const handler = new ApiHandler(objects, { ...(opts.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}), tooOldWatch: opts.tooOldWatch ?? 'event' }, now);
    const nsDef = objects.byPlural('', 'v1', 'namespaces');
    if (nsDef) for (const name of opts.namespaces ?? ['default', 'kube-system', 'kube-public']) objects.insert(nsDef, { metadata: { name } });
    const holder: { self?: FakeKubeServer } = {};
    const server = createServer((req, res) => {
      if (holder.self) holder.self.onRequest(req, res);
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => { resolve(); });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('fake-kube: no TCP address');
    const created = new FakeKubeServer(server, `http://127.0.0.1:${address.port}`, objects, handler, opts.token, now);
    holder.self = created;
    server.on('connection', (socket) => {
      created.sockets.add(socket);
      socket.on('close', () => created.sockets.delete(socket));
    });
    return created;
  }

  /** The port the server listens on. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** A KubeConfig for the real client: cluster at `url`, user with a bearer token, context `fake`. */
  kubeConfig(options: { token?: string } = {}): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml(options));
    return kc;
  }

  /** The same as kubeconfig YAML text, for processes (write it to a file). */
  kubeconfigYaml(options: { token?: string; namespace?: string } = {}): string {
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token: options.token ?? this.token ?? 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', ...(options.namespace ? { namespace: options.namespace } : {}) } }],
      'current-context': 'fake',
    });
  }

  /**
   * Makes the next `times` (default 1) requests matching `matcher` fail: with a status code
   * (a Status body with the matching reason), `'hang'` (never answered until close), or
   * `'drop'` (the connection is destroyed without a response). Returns a function cancelling it.
   */
  failNext(matcher: RequestMatcher, action: FailureAction, options: { times?: number } = {}): () => void {
    const f: PendingFailure = { matcher, action, remaining: options.times ?? 1 };
    this.failures.push(f);
    return () => {
      const i = this.failures.indexOf(f);
      if (i >= 0) this.failures.splice(i, 1);
    };
  }

  /** Forgets the event history: watches and continue tokens from any earlier resourceVersion get 410 Gone. */
  compact(options: { expireWatches?: boolean } = {}): void {
    this.objects.compact();
    if (options.expireWatches) this.handler.expireWatches();
  }

  /** Ends every open watch stream cleanly (as the server's watch timeout does). */
  endWatches(): void {
    this.handler.endWatches();
  }

  /** Open watch streams. */
  get openWatches(): number {
    return this.handler.watches.size;
  }

  /** Registers an extra resource (as if its CRD were installed). */
  addResource(def: ResourceDef): void {
    this.objects.addResource(def);
  }

  /** Stops serving a resource and drops its objects (as if its CRD were deleted). */
  removeResource(def: ResourceDef): void {
    this.objects.removeResource(def);
  }

  async close(): Promise<void> {
    this.handler.endWatches();
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => { resolve(); });
      for (const s of this.sockets) s.destroy();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      watch: url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
      time: Date.now(),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
    };
    this.requests.entries.push(entry);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((code: number, ...rest: unknown[]) => {
      entry.status = code;
      return (origWriteHead as (c: number, ...r: unknown[]) => ServerResponse)(code, ...rest);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const failure = this.failures.find((f) => matchRequest(f.matcher, entry));
      if (failure) {
        failure.remaining--;
        if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
        if (failure.action === 'drop') {
          req.socket.destroy();
          return;
        }
        if (failure.action === 'hang') {
          this.hung.add(res);
          res.on('close', () => this.hung.delete(res));
          return;
        }
        const code = failure.action;
        this.handler.sendJson(res, code, statusObject(code, `injected failure (${code})`));
        return;
      }
      if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
        this.handler.sendJson(res, 401, statusObject(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      void this.handler.handle(req, res, url, Buffer.concat(chunks).toString('utf8'));
    });
  }
}

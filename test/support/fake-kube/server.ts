/**
 * HTTP side of the fake API server: routing of Kubernetes REST paths (core and named groups,
 * namespaced and cluster-scoped, subresources), discovery documents, the verbs (get, list,
 * watch, create, update, patch, delete, deletecollection) and their error Status objects, as
 * the real kube-apiserver answers them. See index.ts for the test-control API.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { apiVersionOf, resourceDefsFromCrd, type ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector, SelectorError, type FieldSelector, type Selector } from './selectors.js';
import { clone, jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch.js';
import { timestamp, type DeletePropagation, type KubeObject, type ObjectStore, type StoreEvent } from './store.js';
import { validateObject, type Cause } from './validation.js';

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function statusObject(code: number, message: string, reason?: string, details?: Record<string, unknown>): StatusObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? REASONS[code] ?? 'Unknown',
    ...(details ? { details } : {}),
    code,
  };
}

export class HttpError extends Error {
  constructor(readonly status: StatusObject) {
    super(status.message);
  }
}

function fail(code: number, message: string, reason?: string, details?: Record<string, unknown>): never {
  throw new HttpError(statusObject(code, message, reason, details));
}

/** `configmaps` / `jobs.batch`: how the API server names a resource in messages. */
function qualified(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

function notFound(def: ResourceDef, name: string): never {
  fail(404, `${qualified(def)} "${name}" not found`, 'NotFound', { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
}

function conflict(def: ResourceDef, name: string): never {
  fail(409, `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 'Conflict', {
    name,
    ...(def.group ? { group: def.group } : {}),
    kind: def.plural,
  });
}

function invalid(def: ResourceDef, name: string, causes: Cause[]): never {
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
  fail(422, `${def.kind}${def.group ? `.${def.group}` : ''} "${name}" is invalid: ${joined}`, 'Invalid', {
    name,
    ...(def.group ? { group: def.group } : {}),
    kind: def.kind,
    causes,
  });
}

export interface WatchOptions {
  bookmarkIntervalMs?: number;
  /** How a watch from a compacted resourceVersion is refused: an ERROR event in a 200 stream (as the watch cache does) or a 410 response. */
  tooOldWatch: 'event' | 'status';
}

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

type Query = URLSearchParams;

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function generateSuffix(): string {
  return [...randomBytes(5)].map((b) => GENERATE_CHARS[b % GENERATE_CHARS.length]).join('');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An open watch stream. */
interface OpenWatch {
  res: ServerResponse;
  end(): void;
  send(type: string, object: unknown): void;
}

export class ApiHandler {
  readonly watches = new Set<OpenWatch>();
  /** Pod logs served at pods/<name>/log, per `namespace/pod/container`. */
  readonly podLogs = new Map<string, string>();
  /** Last applied configuration per object uid and field manager (server-side apply approximation). */
  private readonly applied = new Map<string, unknown>();

  constructor(
    private readonly store: ObjectStore,
    private readonly watchOptions: WatchOptions,
    private readonly now: () => number,
  ) {}

  /** Handles one request whose body has been read. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    try {
      this.route(req, res, url, body);
    } catch (err) {
      if (err instanceof HttpError) { this.sendJson(res, err.status.code, err.status); return; }
      if (err instanceof PatchError) { this.sendJson(res, err.status, statusObject(err.status, err.message)); return; }
      if (err instanceof SelectorError) { this.sendJson(res, 400, statusObject(400, err.message)); return; }
      this.sendJson(res, 500, statusObject(500, err instanceof Error ? err.message : String(err)));
    }
    await Promise.resolve();
  }

  sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (segs.length === 1 && segs[0] === 'version') { this.sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-vigil-fake', platform: 'linux/amd64' }); return; }
    if (segs.length === 1 && (segs[0] === 'healthz' || segs[0] === 'readyz' || segs[0] === 'livez')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (segs[0] === 'api') {
      if (segs.length === 1) { this.sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }] }); return; }
      if (segs.length === 2) { this.discoveryResources(res, '', segs[1]!); return; }
      this.resourceRequest(req, res, url, body, '', segs[1]!, segs.slice(2), method); return;
    }
    if (segs[0] === 'apis') {
      if (segs.length === 1) { this.sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() }); return; }
      if (segs.length === 2) {
        const g = this.groups().find((x) => x.name === segs[1]);
        if (!g) fail(404, 'the server could not find the requested resource', 'NotFound');
        this.sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g }); return;
      }
      if (segs.length === 3) { this.discoveryResources(res, segs[1]!, segs[2]!); return; }
      this.resourceRequest(req, res, url, body, segs[1]!, segs[2]!, segs.slice(3), method); return;
    }
    fail(404, 'the server could not find the requested resource', 'NotFound');
  }

  private groups(): { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } }[] {
    const by = new Map<string, Set<string>>();
    for (const d of this.store.resources()) {
      if (!d.group) continue;
      if (!by.has(d.group)) by.set(d.group, new Set());
      by.get(d.group)!.add(d.version);
    }
    return [...by.entries()].map(([name, versions]) => {
      const vs = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: vs, preferredVersion: vs[0]! };
    });
  }

  private discoveryResources(res: ServerResponse, group: string, version: string): void {
    const defs = this.store.resources().filter((d) => d.group === group && d.version === version);
    if (defs.length === 0) fail(404, 'the server could not find the requested resource', 'NotFound');
    const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    const resources = defs.flatMap((d) => [
      { name: d.plural, singularName: d.singular ?? d.kind.toLowerCase(), namespaced: d.namespaced, kind: d.kind, verbs, ...(d.shortNames ? { shortNames: d.shortNames } : {}) },
      ...(d.statusSubresource ? [{ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ...(d.kind === 'Pod' && !d.group ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
    ]);
    this.sendJson(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources });
  }

  private parseRoute(group: string, version: string, rest: string[]): Route {
    const unknown = (): never => fail(404, 'the server could not find the requested resource', 'NotFound');
    let namespace: string | undefined;
    let r = rest;
    if (r[0] === 'namespaces' && r.length >= 3 && !(r.length === 3 && (r[2] === 'status' || r[2] === 'finalize')) && !group) {
      namespace = r[1];
      r = r.slice(2);
    } else if (r[0] === 'namespaces' && r.length >= 3 && group) {
      namespace = r[1];
      r = r.slice(2);
    }
    const def = this.store.byPlural(group, version, r[0] ?? '');
    if (!def || r.length > 3) return unknown();
    if (namespace !== undefined && !def.namespaced) return unknown();
    if (namespace === undefined && def.namespaced && r.length > 1) return unknown();
    return { def, ...(namespace !== undefined ? { namespace } : {}), ...(r[1] !== undefined ? { name: r[1] } : {}), ...(r[2] !== undefined ? { subresource: r[2] } : {}) };
  }

  private resourceRequest(req: IncomingMessage, res: ServerResponse, url: URL, body: string, group: string, version: string, rest: string[], method: string): void {
    const route = this.parseRoute(group, version, rest);
    const q = url.searchParams;
    const { def } = route;
    if (route.subresource !== undefined && !(route.subresource === 'status' && def.statusSubresource) && !(route.subresource === 'log' && def.kind === 'Pod' && !def.group)) {
      fail(404, 'the server could not find the requested resource', 'NotFound');
    }
    if (route.name === undefined) {
      if (method === 'GET') {
        if (q.get('watch') === 'true' || q.get('watch') === '1') { this.watch(res, route, q); return; }
        this.sendJson(res, 200, this.list(route, q)); return;
      }
      if (method === 'POST') { this.create(res, route, q, parseJson(body)); return; }
      if (method === 'DELETE') { this.sendJson(res, 200, this.deleteCollection(route, q)); return; }
      fail(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed');
    }
    const name = route.name;
    if (route.subresource === 'log') {
      if (method !== 'GET') fail(405, 'the server does not allow this method on the requested resource');
      const text = this.podLog(route, q);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    switch (method) {
      case 'GET': {
        const obj = this.store.get(def, route.namespace, name);
        if (!obj) notFound(def, name);
        this.sendJson(res, 200, obj); return;
      }
      case 'PUT':
        { this.sendJson(res, 200, this.update(route, q, parseJson(body))); return; }
      case 'PATCH':
        { this.patch(res, route, q, req.headers['content-type'] ?? '', body); return; }
      case 'DELETE':
        { this.delete(res, route, q, body); return; }
      default:
        fail(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed');
    }
  }

  // ------------------------------------------------------------------ list & watch

  private selectors(route: Route, q: Query): { labels: Selector; fields: FieldSelector } {
    return {
      labels: parseLabelSelector(q.get('labelSelector')),
      fields: parseFieldSelector(q.get('fieldSelector'), route.def.fieldSelectors ?? [], route.def.kind),
    };
  }

  private listItem(def: ResourceDef, obj: KubeObject): KubeObject {
    if (def.custom) return obj;
    // Built-in kinds are listed without apiVersion/kind on the items, as the real server encodes them.
    const rest = { ...obj };
    delete rest.apiVersion;
    delete rest.kind;
    return rest;
  }

  list(route: Route, q: Query): Record<string, unknown> {
    const { def } = route;
    const { labels, fields } = this.selectors(route, q);
    let items = this.store.list(def, route.namespace).filter((o) => labels(o.metadata.labels) && fields(o));
    let listRv = this.store.rv;
    const cont = q.get('continue');
    if (cont) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rv: number; start: string };
      } catch {
        fail(400, 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)', 'BadRequest');
      }
      if (token.rv < this.store.compactedRv) {
        fail(410, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.', 'Expired');
      }
      listRv = token.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}` > token.start);
    }
    const limit = Number(q.get('limit') ?? '0');
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (limit > 0 && items.length > limit) {
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1]!;
      metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, start: `${last.metadata.namespace ?? ''}/${last.metadata.name ?? ''}` })).toString('base64');
      if (!q.get('labelSelector') && !q.get('fieldSelector')) metadata.remainingItemCount = remaining;
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items: items.map((o) => this.listItem(def, o)) };
  }

  private watch(res: ServerResponse, route: Route, q: Query): void {
    const { def } = route;
    const { labels, fields } = this.selectors(route, q);
    const rid = this.store.rid(def);
    const matches = (o: KubeObject | undefined): boolean =>
      o !== undefined && (route.namespace === undefined || !def.namespaced || o.metadata.namespace === route.namespace) && labels(o.metadata.labels) && fields(o);
    const rvParam = q.get('resourceVersion');
    let backlog: StoreEvent[] | undefined;
    if (rvParam && rvParam !== '0') {
      const n = Number(rvParam);
      if (!Number.isFinite(n)) fail(400, `resourceVersion: Invalid value: "${rvParam}": must be a number`, 'BadRequest');
      backlog = this.store.eventsSince(n);
      if (backlog === undefined && this.watchOptions.tooOldWatch === 'status') {
        fail(410, `too old resource version: ${rvParam} (${this.store.compactedRv})`, 'Expired');
      }
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => undefined;
    const w: OpenWatch = {
      res,
      send: (type, object) => {
        if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
      },
      end: () => {
        for (const t of timers) clearTimeout(t);
        unsubscribe();
        this.watches.delete(w);
        if (!res.writableEnded) res.end();
      },
    };
    this.watches.add(w);
    res.on('close', () => { w.end(); });
    if (rvParam && rvParam !== '0' && backlog === undefined) {
      w.send('ERROR', statusObject(410, `too old resource version: ${rvParam} (${this.store.compactedRv})`, 'Expired'));
      w.end();
      return;
    }
    const deliver = (e: StoreEvent): void => {
      if (e.rid !== rid) return;
      const now = matches(e.object);
      if (e.type === 'MODIFIED') {
        const before = matches(e.old);
        if (now && before) w.send('MODIFIED', e.object);
        else if (now) w.send('ADDED', e.object);
        else if (before) w.send('DELETED', e.object);
      } else if (now) w.send(e.type, e.object);
    };
    if (backlog === undefined) {
      // No resourceVersion (or "0"): the current state as synthetic ADDED events, then changes.
      for (const o of this.store.list(def, route.namespace)) if (matches(o)) w.send('ADDED', o);
    } else {
      for (const e of backlog) deliver(e);
    }
    unsubscribe = this.store.subscribe(deliver);
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const bookmark = (): void => { w.send('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.store.rv) } }); };
    if (bookmarks && this.watchOptions.bookmarkIntervalMs) {
      const interval = this.watchOptions.bookmarkIntervalMs;
      const tick = (): void => {
        bookmark();
        timers.push(setTimeout(tick, interval));
      };
      timers.push(setTimeout(tick, interval));
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) {
      timers.push(setTimeout(() => {
        if (bookmarks) bookmark();
        w.end();
      }, timeout * 1000));
    }
  }

  /** Ends every open watch with an in-stream 410 ERROR event, as when the watch cache drops a watcher. */
  expireWatches(): void {
    for (const w of [...this.watches]) {
      w.send('ERROR', statusObject(410, `too old resource version: ${this.store.compactedRv}`, 'Expired'));
      w.end();
    }
  }

  endWatches(): void {
    for (const w of [...this.watches]) w.end();
  }

  private podLog(route: Route, q: Query): string {
    const pod = this.store.get(route.def, route.namespace, route.name!);
    if (!pod) notFound(route.def, route.name!);
    const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
    const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name);
    let container = q.get('container');
    if (!container) {
      if ((spec.containers ?? []).length !== 1) {
        fail(400, `a container name must be specified for pod ${route.name!}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`, 'BadRequest');
      }
      container = spec.containers![0]!.name;
    }
    if (!names.includes(container)) fail(400, `container ${container} is not valid for pod ${route.name!}`, 'BadRequest');
    let text = this.podLogs.get(`${route.namespace ?? ''}/${route.name!}/${container}`) ?? '';
    const tail = q.get('tailLines');
    if (tail) {
      const lines = text.split('\n');
      const trailing = text.endsWith('\n');
      const body = trailing ? lines.slice(0, -1) : lines;
      text = body.slice(-Number(tail)).join('\n') + (trailing ? '\n' : '');
    }
    const limit = q.get('limitBytes');
    if (limit) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
    return text;
  }

  // ------------------------------------------------------------------ writes

  private checkKind(def: ResourceDef, obj: Record<string, unknown>): void {
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(def)) {
      fail(400, `the API version in the data (${JSON.stringify(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`, 'BadRequest');
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      fail(400, `the kind in the data (${JSON.stringify(obj.kind)}) does not match the expected kind (${def.kind})`, 'BadRequest');
    }
  }

  private asObject(def: ResourceDef, body: unknown): KubeObject {
    if (!isRecord(body)) fail(400, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`, 'BadRequest');
    this.checkKind(def, body);
    const obj = clone(body) as KubeObject;
    if (!isRecord(obj.metadata)) obj.metadata = {};
    return obj;
  }

  private checkNamespace(route: Route, obj: KubeObject): void {
    if (!route.def.namespaced) return;
    const ns = obj.metadata.namespace;
    if (ns !== undefined && ns !== '' && ns !== route.namespace) {
      fail(400, 'the namespace of the provided object does not match the namespace sent on the request', 'BadRequest');
    }
    obj.metadata.namespace = route.namespace;
  }

  private requireNamespace(route: Route): void {
    if (!route.def.namespaced || route.namespace === undefined) return;
    const nsDef = this.store.byPlural('', 'v1', 'namespaces');
    if (nsDef && !this.store.get(nsDef, undefined, route.namespace)) {
      fail(404, `namespaces "${route.namespace}" not found`, 'NotFound', { name: route.namespace, kind: 'namespaces' });
    }
  }

  /** Creates; used by POST and by server-side apply of a missing object. */
  private createObject(route: Route, q: Query, obj: KubeObject): KubeObject {
    const { def } = route;
    if (route.namespace === undefined && def.namespaced) fail(404, 'the server could not find the requested resource', 'NotFound');
    this.checkNamespace(route, obj);
    const meta = obj.metadata;
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
      const base = meta.generateName.length > 58 ? meta.generateName.slice(0, 58) : meta.generateName;
      meta.name = base + generateSuffix();
    }
    delete meta.resourceVersion;
    if (def.statusSubresource && (def.custom || ['Pod', 'Job', 'CronJob'].includes(def.kind))) delete obj.status;
    const causes = validateObject(def, obj);
    if (def.kind === 'CustomResourceDefinition' && def.group === 'apiextensions.k8s.io') causes.push(...this.crdCauses(obj));
    if (causes.length > 0) invalid(def, meta.name ?? '', causes);
    this.requireNamespace(route);
    if (this.store.get(def, route.namespace, meta.name!)) {
      fail(409, `${qualified(def)} "${meta.name!}" already exists`, 'AlreadyExists', { name: meta.name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
    }
    if (q.get('dryRun') === 'All') return obj;
    if (def.kind === 'CustomResourceDefinition' && def.group === 'apiextensions.k8s.io') {
      obj.status = {
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: timestamp(this.now()) },
          { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: timestamp(this.now()) },
        ],
        acceptedNames: (obj.spec as { names: unknown }).names,
        storedVersions: ((obj.spec as { versions: { name: string; storage?: boolean }[] }).versions.filter((v) => v.storage).map((v) => v.name)),
      };
      for (const d of resourceDefsFromCrd(obj)) this.store.addResource(d);
    }
    return this.store.insert(def, obj);
  }

  private crdCauses(obj: KubeObject): Cause[] {
    const spec = obj.spec as { group?: string; names?: { plural?: string } } | undefined;
    const expected = `${spec?.names?.plural ?? ''}.${spec?.group ?? ''}`;
    if (obj.metadata.name !== expected) return [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${JSON.stringify(obj.metadata.name)}: must be spec.names.plural+"."+spec.group` }];
    return [];
  }

  private create(res: ServerResponse, route: Route, q: Query, body: unknown): void {
    const obj = this.asObject(route.def, body);
    this.sendJson(res, 201, this.createObject(route, q, obj));
  }

  /** The object an update of `current` with `next` stores, honouring the status subresource. */
  private commitUpdate(route: Route, q: Query, current: KubeObject, next: KubeObject): KubeObject {
    const { def } = route;
    const name = current.metadata.name!;
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      fail(400, `the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`, 'BadRequest');
    }
    next.metadata.name = name;
    this.checkNamespace(route, next);
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) conflict(def, name);
    let result: KubeObject;
    if (route.subresource === 'status') {
      result = clone(current);
      if (next.status === undefined) delete result.status;
      else result.status = next.status;
    } else {
      result = next;
      if (def.statusSubresource) {
        if (current.status === undefined) delete result.status;
        else result.status = clone(current.status);
      }
    }
    const causes = validateObject(def, result);
    if (causes.length > 0) invalid(def, name, causes);
    if (q.get('dryRun') === 'All') return result;
    return this.store.replace(def, current, result);
  }

  private update(route: Route, q: Query, body: unknown): KubeObject {
    const obj = this.asObject(route.def, body);
    const current = this.store.get(route.def, route.namespace, route.name!);
    if (!current) notFound(route.def, route.name!);
    return this.commitUpdate(route, q, current, obj);
  }

  private patch(res: ServerResponse, route: Route, q: Query, contentType: string, body: string): void {
    const { def } = route;
    const type = contentType.split(';')[0]!.trim();
    const current = this.store.get(def, route.namespace, route.name!);
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+json') {
      const manager = q.get('fieldManager');
      if (!manager) fail(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'Invalid');
      let applied: unknown;
      try {
        applied = parseYamlDocument(body);
      } catch (e) {
        fail(400, `error decoding YAML: ${e instanceof Error ? e.message : String(e)}`, 'BadRequest');
      }
      const cfg = this.asObject(def, applied);
      if (cfg.apiVersion === undefined || cfg.kind === undefined) fail(400, 'apiVersion and kind must be set in an apply patch', 'BadRequest');
      if (cfg.metadata.name !== undefined && cfg.metadata.name !== route.name) {
        fail(400, `the name of the object (${cfg.metadata.name}) does not match the name on the URL (${route.name!})`, 'BadRequest');
      }
      cfg.metadata.name = route.name;
      if (!current) {
        const created = this.createObject(route, q, clone(cfg));
        if (q.get('dryRun') !== 'All') this.applied.set(`${String(created.metadata.uid)}/${manager}`, cfg);
        this.sendJson(res, 201, created); return;
      }
      const previous = this.applied.get(`${String(current.metadata.uid)}/${manager}`);
      const removals = previous === undefined ? {} : removedFields(previous, cfg);
      const next = strategicMergePatch(mergePatch(current, removals), cfg) as KubeObject;
      if (cfg.metadata.resourceVersion === undefined) next.metadata.resourceVersion = current.metadata.resourceVersion;
      const result = this.commitUpdate(route, q, current, next);
      if (q.get('dryRun') !== 'All') this.applied.set(`${String(current.metadata.uid)}/${manager}`, cfg);
      this.sendJson(res, 200, result); return;
    }
    if (!current) notFound(def, route.name!);
    const patchBody = parseJson(body);
    let next: unknown;
    switch (type) {
      case 'application/json-patch+json':
        next = jsonPatch(current, patchBody);
        break;
      case 'application/merge-patch+json':
        next = mergePatch(current, patchBody);
        break;
      case 'application/strategic-merge-patch+json':
        if (def.custom) fail(415, 'strategic merge patch is not supported for custom resources', 'UnsupportedMediaType');
        next = strategicMergePatch(current, patchBody);
        break;
      default:
        fail(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${def.custom ? '' : ', application/strategic-merge-patch+json'}`, 'UnsupportedMediaType');
    }
    const obj = this.asObject(def, next);
    // A patch carries a resourceVersion precondition only when it sets one itself.
    const patchedRv = isRecord(patchBody) && isRecord(patchBody.metadata) ? patchBody.metadata.resourceVersion : undefined;
    if (type !== 'application/json-patch+json' && patchedRv === undefined) obj.metadata.resourceVersion = current.metadata.resourceVersion;
    this.sendJson(res, 200, this.commitUpdate(route, q, current, obj));
  }

  private propagation(route: Route, q: Query, body: string): { policy: DeletePropagation; warning?: string; preconditions?: { uid?: string; resourceVersion?: string } } {
    let opts: Record<string, unknown> = {};
    if (body.trim() !== '') {
      const parsed = parseJson(body);
      if (isRecord(parsed)) opts = parsed;
    }
    let policy = (q.get('propagationPolicy') ?? opts.propagationPolicy) as string | undefined;
    const orphan = q.get('orphanDependents') ?? opts.orphanDependents;
    if (policy === undefined && (orphan === true || orphan === 'true')) policy = 'Orphan';
    if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      fail(422, `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, 'Invalid');
    }
    const preconditions = isRecord(opts.preconditions) ? (opts.preconditions as { uid?: string; resourceVersion?: string }) : undefined;
    if (policy === undefined && route.def.kind === 'Job' && route.def.group === 'batch') {
      // batch/v1 Jobs keep their pods by default when deleted through the API.
      return {
        policy: 'Orphan',
        warning: '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"',
        ...(preconditions ? { preconditions } : {}),
      };
    }
    return { policy: (policy ?? 'Background'), ...(preconditions ? { preconditions } : {}) };
  }

  private delete(res: ServerResponse, route: Route, q: Query, body: string): void {
    const { def } = route;
    const name = route.name!;
    const current = this.store.get(def, route.namespace, name);
    if (!current) notFound(def, name);
    const { policy, warning, preconditions } = this.propagation(route, q, body);
    if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
      fail(409, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(current.metadata.uid)}`, 'Conflict', { name, kind: def.plural });
    }
    if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
      fail(409, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${String(current.metadata.resourceVersion)}`, 'Conflict', { name, kind: def.plural });
    }
    const headers: Record<string, string> = warning ? { Warning: warning } : {};
    if (q.get('dryRun') === 'All') { this.sendJson(res, 200, current, headers); return; }
    const { object, pending } = this.store.delete(def, current, policy);
    if (!pending && def.kind === 'CustomResourceDefinition' && def.group === 'apiextensions.k8s.io') {
      for (const d of resourceDefsFromCrd(current)) this.store.removeResource(d);
    }
    if (pending || def.custom) { this.sendJson(res, 200, object, headers); return; }
    this.sendJson(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: current.metadata.uid },
    }, headers);
  }

  private deleteCollection(route: Route, q: Query): Record<string, unknown> {
    const { def } = route;
    const { policy } = this.propagation(route, q, '');
    const list = this.list(route, new URLSearchParams({ ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}), ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}) }));
    const items = list.items as KubeObject[];
    const deleted: KubeObject[] = [];
    for (const o of items) {
      const cur = this.store.get(def, o.metadata.namespace, o.metadata.name!);
      if (cur) deleted.push(this.listItem(def, this.store.delete(def, cur, policy).object));
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.store.rv) }, items: deleted };
  }
}

function parseJson(body: string): unknown {
  if (body.trim() === '') fail(400, 'the request body is empty', 'BadRequest');
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    fail(400, `the body of the request was in an unknown format - accepted media types include: application/json: ${e instanceof Error ? e.message : String(e)}`, 'BadRequest');
  }
}

/** A merge patch removing every map key `previous` set that `next` no longer sets (server-side apply approximation). */
export function removedFields(previous: unknown, next: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isRecord(previous) || !isRecord(next)) return out;
  for (const [k, v] of Object.entries(previous)) {
    if (!Object.hasOwn(next, k)) out[k] = null;
    else if (isRecord(v) && isRecord(next[k])) {
      const sub = removedFields(v, next[k]);
      if (Object.keys(sub).length > 0) out[k] = sub;
    }
  }
  return out;
}

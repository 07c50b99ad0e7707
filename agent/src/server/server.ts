/**
 * The agent's HTTP server, on fastify (ADR 0022): liveness and readiness, the JSON status
 * API with run-now, Prometheus metrics, the khealth-style health endpoint, Kuberhealthy's
 * status pages and reporting protocol, the run signal, and the dashboard hook at `GET /`.
 * Every error body is JSON (`{error, code?}`); mutating endpoints need the bearer token
 * (ADR 0023); requests are logged at debug level without headers.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../metrics/metrics.js';
import type { ReportRegistry } from '../reporting/ReportRegistry.js';
import { registerReportRoutes } from '../reporting/routes.js';
import { statusV2, statusV3 } from '../reporting/status-pages.js';
import type { SignalControl } from '../control/signals.js';
import { isSignalState } from '../control/signals.js';
import { TokenAuth, isLoopbackHost } from './auth.js';
import { healthAnswer } from './health.js';
import type { RunStatus, StatusProvider } from './provider.js';

export type { StatusProvider } from './provider.js';

export interface AgentServerOptions {
  host: string;
  port: number;
  provider: StatusProvider;
  logger: Logger;
  /** Bearer token of the mutating (and optionally reading) endpoints. */
  auth?: TokenAuth;
  /** Require the token for reads too (all but /healthz, /readyz and check reports). */
  requireTokenForReads?: boolean;
  /** No mutating endpoints (run-now, signal changes) at all; check reports are still accepted. */
  readOnly?: boolean;
  metrics?: AgentMetrics;
  /** Open report windows of running checks (the Kuberhealthy reporting protocol). */
  reports?: ReportRegistry;
  signals?: SignalControl;
  /** The agent's name on the Kuberhealthy pages (CurrentMaster): its destination. */
  agentName?: string;
  /** Registers the dashboard (at least `GET /`) on the server; without it `GET /` lists the endpoints. */
  dashboard?: (app: FastifyInstance) => void | Promise<void>;
  /** Largest accepted request body in bytes (default 64 KiB). */
  bodyLimit?: number;
}

/** Thrown when the configuration would expose mutating endpoints without a token. */
export class UnsafeListenError extends Error {
  override name = 'UnsafeListenError';
}

const OTHER_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH'] as const;
const ENDPOINTS = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /api/v1/status',
  'GET /api/v1/definitions',
  'GET /api/v1/definitions/:namespace/:name',
  'POST /api/v1/definitions/:namespace/:name/run',
  'POST /api/run?namespace=&healthcheck=',
  'GET /api/v1/runs/:id',
  'GET /api/v1/health/:namespace/:name',
  'GET /api/v1/problems',
  'GET /api/v1/records',
  'GET|POST /api/v1/signal',
  'GET /json',
  'GET /kuberhealthy',
  'POST /externalCheckStatus[/:runId]',
  'POST /check[/:runId]',
];

export class AgentServer {
  private app: FastifyInstance | undefined;
  private readonly auth: TokenAuth;

  constructor(private readonly options: AgentServerOptions) {
    this.auth = options.auth ?? new TokenAuth(undefined);
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async start(): Promise<{ host: string; port: number; url: string }> {
    const o = this.options;
    if (o.readOnly !== true && !this.auth.enabled && !isLoopbackHost(o.host)) {
      throw new UnsafeListenError(
        `server.listen: ${o.host} is not a loopback address and no token is set: set server.tokenFile (or the VIGIL_TOKEN environment variable), or server.readOnly: true, or listen on 127.0.0.1`,
      );
    }
    const app = this.build();
    if (o.dashboard) await o.dashboard(app);
    else app.get('/', () => Promise.resolve({ name: 'vigil', endpoints: ENDPOINTS }));
    await app.listen({ port: o.port, host: o.host });
    this.app = app;
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` };
  }

  async stop(): Promise<void> {
    const app = this.app;
    if (!app) return;
    this.app = undefined;
    app.server.closeAllConnections();
    await app.close();
  }

  private build(): FastifyInstance {
    const o = this.options;
    const p = o.provider;
    const log = o.logger;
    const app = Fastify({
      logger: false,
      bodyLimit: o.bodyLimit ?? 64 * 1024,
      keepAliveTimeout: 5_000,
      requestTimeout: 15_000,
      connectionTimeout: 15_000,
      return503OnClosing: true,
      routerOptions: { ignoreTrailingSlash: true },
    });

    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('Cache-Control', 'no-store');
      reply.header('X-Content-Type-Options', 'nosniff');
      return payload;
    });
    app.addHook('onResponse', async (req, reply) => {
      log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'http request');
    });
    app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) {
        log.error({ err, method: req.method, url: req.url }, 'HTTP endpoint failed');
        return reply.status(status).send({ error: 'internal error' });
      }
      return reply.status(status).send({ error: err.message, ...(err.code ? { code: err.code } : {}) });
    });
    app.setNotFoundHandler(async (req, reply) => reply.status(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0] ?? ''}` }));

    const readGuard = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (o.requireTokenForReads === true && !this.auth.accepts(req.headers.authorization)) await unauthorized(reply);
    };
    const writeGuard = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (o.readOnly === true) {
        await reply.status(403).send({ error: 'mutating endpoints are disabled (server.readOnly: true)' });
        return;
      }
      if (this.auth.enabled && !this.auth.accepts(req.headers.authorization)) await unauthorized(reply);
    };
    const get = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown, open = false): void => {
      app.get(url, { ...(open ? {} : { preHandler: readGuard }) }, (req, reply) => Promise.resolve(handler(req, reply)));
      app.route({ method: [...OTHER_METHODS], url, handler: async (req, reply) => methodNotAllowed(req, reply, 'GET, HEAD') });
    };

    get('/healthz', () => ({ status: 'ok' }), true);
    get('/readyz', (_req, reply) => (p.isReady() ? { status: 'ready' } : reply.status(503).send({ status: 'loading definitions' })), true);
    get('/api/v1/status', () => p.summary());
    get('/api/v1/definitions', (req, reply) => {
      const q = req.query as { namespace?: string; state?: string; history?: string };
      const list = (v: string | undefined): string[] | undefined => (v ? v.split(',').map((x) => x.trim()).filter((x) => x !== '') : undefined);
      const history = q.history === undefined ? undefined : Number(q.history);
      if (history !== undefined && (!Number.isInteger(history) || history < 0)) return reply.status(400).send({ error: `history must be a whole number >= 0, got ${JSON.stringify(q.history)}` });
      const namespaces = list(q.namespace);
      const states = list(q.state);
      return { items: p.definitions({ ...(namespaces ? { namespaces } : {}), ...(states ? { states } : {}), ...(history !== undefined ? { history } : {}) }) };
    });
    get('/api/v1/definitions/:namespace/:name', (req, reply) => {
      const { namespace, name } = req.params as { namespace: string; name: string };
      const d = p.definition(namespace, name);
      return d === undefined ? reply.status(404).send({ error: `definition ${namespace}/${name} not found` }) : d;
    });
    get('/api/v1/problems', () => ({ items: p.problems() }));
    get('/api/v1/records', () => ({ items: p.records() }));

    const runNow = (namespace: string, name: string, reply: FastifyReply): FastifyReply => {
      if (!p.runNow) return reply.status(501).send({ error: 'this agent cannot run definitions on demand' });
      const r = p.runNow(namespace, name);
      if (!r.ok) return reply.status(r.status).send({ error: r.error });
      log.info({ definition: `${namespace}/${name}`, run: r.runId }, 'run requested over HTTP');
      const location = `/api/v1/runs/${r.runId}`;
      return reply.status(202).header('Location', location).send({ runId: r.runId, status: location });
    };
    app.post('/api/v1/definitions/:namespace/:name/run', { preHandler: writeGuard }, (req, reply) => {
      const { namespace, name } = req.params as { namespace: string; name: string };
      return Promise.resolve(runNow(namespace, name, reply));
    });
    // Kuberhealthy v3's trigger, `POST /api/run?namespace=<ns>&healthcheck=<name>` (202, 409 when running), for its clients.
    app.post('/api/run', { preHandler: writeGuard }, (req, reply) => {
      const { namespace, healthcheck } = req.query as { namespace?: string; healthcheck?: string };
      if (!namespace || !healthcheck) return Promise.resolve(reply.status(400).send({ error: 'namespace and healthcheck query parameters are required' }));
      return Promise.resolve(runNow(namespace, healthcheck, reply));
    });
    app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: '/api/v1/definitions/:namespace/:name/run', handler: async (req, reply) => methodNotAllowed(req, reply, 'POST') });
    get('/api/v1/runs/:id', (req, reply) => {
      const { id } = req.params as { id: string };
      if (!p.run) return reply.status(501).send({ error: 'this agent does not track runs' });
      const r = p.run(id);
      return r === undefined ? reply.status(404).send({ error: `run ${id} not found (unknown, or forgotten: only recent runs are kept)` }) : runJson(r);
    });

    get('/api/v1/health/:namespace/:name', (req, reply) => {
      const { namespace, name } = req.params as { namespace: string; name: string };
      const { status, text } = healthAnswer(p.check ? p.check(namespace, name) : undefined, `${namespace}/${name}`, p.check !== undefined);
      return reply.status(status).type('text/plain; charset=utf-8').send(`${text}\n`);
    });

    const khPage = (build: typeof statusV2) => (req: FastifyRequest, reply: FastifyReply): unknown => {
      if (!p.checks) return reply.status(501).send({ error: 'this agent has no typed check status' });
      const q = (req.query as { namespace?: string }).namespace;
      const namespaces = q ? q.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
      return build(p.checks(), { agent: o.agentName ?? 'vigil', ...(namespaces ? { namespaces } : {}) });
    };
    get('/json', khPage(statusV3));
    get('/kuberhealthy', khPage(statusV2));

    get('/metrics', async (_req, reply) => {
      if (!o.metrics) return reply.status(501).send({ error: 'metrics are not enabled' });
      const { contentType, text } = await o.metrics.render();
      return reply.type(contentType).send(text);
    });

    // The run signal (RUN/PAUSE/STOP), same state as the Krkn-compatible signal listener.
    app.get('/api/v1/signal', { preHandler: readGuard }, async (_req, reply) => {
      if (!o.signals) return reply.status(501).send({ error: 'signals are not enabled' });
      return { state: o.signals.state, since: new Date(o.signals.changedAt).toISOString() };
    });
    const setSignal = async (state: unknown, req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      if (!o.signals) return reply.status(501).send({ error: 'signals are not enabled' });
      if (typeof state !== 'string' || !isSignalState(state.toUpperCase())) return reply.status(400).send({ error: 'state must be one of RUN, PAUSE, STOP' });
      const s = state.toUpperCase() as 'RUN' | 'PAUSE' | 'STOP';
      if (!o.signals.set(s, `HTTP ${req.ip}`)) return reply.status(409).send({ error: `the agent is stopping; state ${s} cannot be set`, state: o.signals.state });
      return { state: o.signals.state, since: new Date(o.signals.changedAt).toISOString() };
    };
    app.post('/api/v1/signal', { preHandler: writeGuard }, async (req, reply) => setSignal((req.body as { state?: unknown } | undefined)?.state, req, reply));
    app.post('/api/v1/signal/:state', { preHandler: writeGuard }, async (req, reply) => setSignal((req.params as { state: string }).state, req, reply));
    app.route({ method: ['PUT', 'DELETE', 'PATCH'], url: '/api/v1/signal', handler: async (req, reply) => methodNotAllowed(req, reply, 'GET, HEAD, POST') });

    if (o.reports) registerReportRoutes(app, { reports: o.reports, logger: log });
    return app;
  }
}

async function unauthorized(reply: FastifyReply): Promise<void> {
  await reply.status(401).header('WWW-Authenticate', 'Bearer realm="vigil"').send({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
}

async function methodNotAllowed(req: FastifyRequest, reply: FastifyReply, allow: string): Promise<FastifyReply> {
  return reply.status(405).header('Allow', allow).send({ error: `method ${req.method} not allowed on ${req.url.split('?')[0] ?? ''}` });
}

function runJson(r: RunStatus): unknown {
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    runId: r.runId,
    definition: { namespace: r.namespace, name: r.name },
    trigger: r.trigger,
    phase: r.phase,
    submittedAt: iso(r.submittedAt),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    result: r.result ? { state: r.result.state, reason: r.result.reason ?? null, message: r.result.message ?? null, details: r.result.details } : null,
    ...(r.cancelReason !== undefined ? { cancelReason: r.cancelReason } : {}),
  };
}

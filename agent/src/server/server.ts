/**
 * The agent's HTTP surface (read-only for now): liveness, readiness and a JSON status API.
 * Built on node:http with a tiny router; every response is JSON. Mutating endpoints, auth,
 * metrics and peer protocols are added behind the same router.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What the server needs from the agent. */
export interface StatusProvider {
  isReady(): boolean;
  summary(): unknown;
  definitions(): unknown[];
  definition(namespace: string, name: string): unknown;
  problems(): unknown[];
  records(): unknown[];
}

export interface AgentServerOptions {
  host: string;
  port: number;
  provider: StatusProvider;
  logger: Logger;
}

type Handler = (params: string[], req: IncomingMessage) => { status: number; body: unknown };

export class AgentServer {
  private server: Server | undefined;
  private readonly routes: { pattern: RegExp; handler: Handler }[];

  constructor(private readonly options: AgentServerOptions) {
    const p = options.provider;
    this.routes = [
      { pattern: /^\/healthz$/, handler: () => ({ status: 200, body: { status: 'ok' } }) },
      {
        pattern: /^\/readyz$/,
        handler: () => (p.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'loading definitions' } }),
      },
      { pattern: /^\/api\/v1\/status$/, handler: () => ({ status: 200, body: p.summary() }) },
      { pattern: /^\/api\/v1\/definitions$/, handler: () => ({ status: 200, body: { items: p.definitions() } }) },
      {
        pattern: /^\/api\/v1\/definitions\/([^/]+)\/([^/]+)$/,
        handler: ([ns, name]) => {
          const d = p.definition(ns!, name!);
          return d === undefined ? { status: 404, body: { error: `definition ${ns!}/${name!} not found` } } : { status: 200, body: d };
        },
      },
      { pattern: /^\/api\/v1\/problems$/, handler: () => ({ status: 200, body: { items: p.problems() } }) },
      { pattern: /^\/api\/v1\/records$/, handler: () => ({ status: 200, body: { items: p.records() } }) },
    ];
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async start(): Promise<{ host: string; port: number; url: string }> {
    const server = createServer((req, res) => { this.handle(req, res); });
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => { resolve(); });
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      send(res, 400, { error: 'malformed URL' });
      return;
    }
    const route = this.routes.find((r) => r.pattern.test(path));
    if (!route) {
      send(res, 404, { error: `no such endpoint: ${path}` });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, { error: `method ${req.method ?? '?'} not allowed on ${path}` });
      return;
    }
    try {
      const params = route.pattern.exec(path)!.slice(1);
      const { status, body } = route.handler(params, req);
      send(res, status, body, req.method === 'HEAD');
    } catch (err) {
      this.options.logger.error({ err, path }, 'status endpoint failed');
      send(res, 500, { error: 'internal error' });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(headOnly ? undefined : text);
}

/**
 * Krkn's signal server API on its own listener (Krkn `server.py`): `GET /` answers the
 * state as plain text (RUN, PAUSE or STOP); `POST /RUN`, `/PAUSE` and `/STOP` set it and
 * answer 200 with an empty body, so Krkn's set_stop_signal.py and get_status() work
 * unchanged. Off loopback the POSTs need the token (Bearer, or Basic with the token as the
 * password); other paths answer a JSON 404 where Krkn sends nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { TokenAuth, isLoopbackHost } from '../server/auth.js';
import { isSignalState, type SignalControl } from './signals.js';

export interface SignalServerOptions {
  host: string;
  port: number;
  signals: SignalControl;
  logger: Logger;
  auth?: TokenAuth;
  /** Require the token for `GET /` too. */
  requireTokenForReads?: boolean;
}

export class SignalServer {
  private server: Server | undefined;
  private readonly auth: TokenAuth;

  constructor(private readonly options: SignalServerOptions) {
    this.auth = options.auth ?? new TokenAuth(undefined);
  }

  async start(): Promise<{ url: string; port: number }> {
    const o = this.options;
    if (!this.auth.enabled && !isLoopbackHost(o.host)) {
      throw new Error(`signals.listen: ${o.host} is not a loopback address and no token is set: set server.tokenFile (or the VIGIL_TOKEN environment variable), or listen on 127.0.0.1`);
    }
    const server = createServer((req, res) => { this.handle(req, res); });
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { url: `http://${host}:${a.port}`, port: a.port };
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
    // Drain any body (bounded): Krkn's client posts an empty dict; nothing in it matters.
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 64 * 1024) req.destroy();
    });
    req.on('end', () => { this.respond(req, res); });
    req.on('error', () => { res.destroy(); });
  }

  private respond(req: IncomingMessage, res: ServerResponse): void {
    const o = this.options;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      if (o.requireTokenForReads === true && !this.auth.accepts(req.headers.authorization)) {
        json(res, 401, { error: 'a valid bearer token is required' });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : o.signals.state);
      return;
    }
    const state = path.slice(1).toUpperCase();
    if (path.lastIndexOf('/') === 0 && isSignalState(state)) {
      if (method !== 'POST') {
        res.setHeader('Allow', 'POST');
        json(res, 405, { error: `use POST ${path}` });
        return;
      }
      if (this.auth.enabled && !this.auth.accepts(req.headers.authorization)) {
        o.logger.warn({ signal: state, from: req.socket.remoteAddress }, 'signal refused: missing or wrong token');
        res.setHeader('WWW-Authenticate', 'Bearer realm="vigil"');
        json(res, 401, { error: 'a valid bearer token is required' });
        return;
      }
      if (!o.signals.set(state, `signal listener ${req.socket.remoteAddress ?? '?'}`)) {
        json(res, 409, { error: `the agent is stopping; state ${state} cannot be set` });
        return;
      }
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    json(res, 404, { error: `no such endpoint: ${method} ${path} (GET /, POST /RUN, /PAUSE, /STOP)` });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

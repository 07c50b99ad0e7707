/**
 * A reporting-only HTTP listener for one-shot runs (`vigil run`): the same Kuberhealthy
 * report routes as the agent's server (routes.ts), on an ephemeral loopback port, for as long
 * as the run lasts. Nothing else is served: no status, no mutating endpoint, so no token is
 * needed. Error bodies are JSON, as on the agent's server.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ReportRegistry } from './ReportRegistry.js';
import { registerReportRoutes } from './routes.js';
export { khEnv } from './protocol.js';

export interface ReportListener {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export interface ReportListenerOptions {
  reports: ReportRegistry;
  logger: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export async function startReportListener(options: ReportListenerOptions): Promise<ReportListener> {
  const log = options.logger;
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, keepAliveTimeout: 5_000, requestTimeout: 15_000, connectionTimeout: 15_000 });
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      log.error({ err, method: req.method, url: req.url }, 'report endpoint failed');
      return reply.status(status).send({ error: 'internal error' });
    }
    return reply.status(status).send({ error: err.message, ...(err.code ? { code: err.code } : {}) });
  });
  app.setNotFoundHandler(async (req, reply) => reply.status(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0] ?? ''} (this listener only takes check reports)` }));
  registerReportRoutes(app, { reports: options.reports, logger: log });
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}


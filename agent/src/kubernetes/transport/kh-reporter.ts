/**
 * The pod-local Kuberhealthy reporting endpoint (ADR 0013). A Kuberhealthy-style check posts
 * `{OK, Errors}` to KH_REPORTING_URL during its run; in Kubernetes mode that URL is
 * `http://127.0.0.1:<port>/externalCheckStatus` inside the check pod, served by
 * `vigil k8s-adapter --kh-listen` running as a native sidecar (an init container with
 * `restartPolicy: Always`, started before the user's containers). The accepted report is written
 * to a file on an emptyDir the adapter container reads at the end of the run; it then leaves the
 * pod with the rest of the result (termination message and HealthState). No network path to the
 * agent is needed, and a report survives the agent being down.
 *
 * The protocol is the agent's (reporting/routes.ts): POST only (405), JSON only (415), the run
 * uuid in the `kh-run-uuid` header or the last path segment must be this pod's (400), the
 * report must be valid (400), and one report per run before the deadline (410 after).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import type { Logger } from '../../core/interfaces.js';
import type { CheckReport } from '../../core/result.js';
import { KH_RUN_UUID_HEADER, parseReport } from '../../reporting/protocol.js';
import { encodeReport } from './report.js';

/** Port of the pod-local reporter (loopback only; the pod's network namespace). */
export const KH_REPORTER_PORT = 8754;
export const KH_REPORT_PATHS = ['/externalCheckStatus', '/check'] as const;
const MAX_BODY_BYTES = 1024 * 1024;

export interface KhReporterOptions {
  /** host:port to listen on, normally 127.0.0.1:8754. */
  host: string;
  port: number;
  /** The run's uuid (the pod's uid): reports naming another run are refused. */
  runUuid: string;
  /** Where the accepted report goes (written atomically). */
  reportFile: string;
  /**
   * Also written at once: the sidecar's termination message, so the report leaves the pod even
   * when a user container fails afterwards and the adapter never runs (the report wins, as locally).
   */
  terminationLogPath?: string;
  /** Epoch ms after which reports are refused with 410. */
  deadline: number;
  logger: Logger;
  now?: () => number;
}

export interface KhReporter {
  readonly port: number;
  /** The accepted report, once one came. */
  readonly report: CheckReport | undefined;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the reporter; resolves once it listens. */
export async function startKhReporter(opts: KhReporterOptions): Promise<KhReporter> {
  const now = opts.now ?? Date.now;
  let accepted: CheckReport | undefined;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const base = `/${segments[0] ?? ''}`;
    if (!(KH_REPORT_PATHS as readonly string[]).includes(base) || segments.length > 2) {
      send(res, 404, { error: `not found: report to ${KH_REPORT_PATHS.join(' or ')}` });
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      send(res, 405, { error: `method ${req.method ?? ''} not allowed: report with POST` });
      return;
    }
    const type = req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/json')) {
      send(res, 415, { error: `Content-Type must be application/json, got ${type === '' ? 'none' : JSON.stringify(type)}` });
      return;
    }
    const fromPath = segments[1];
    const header = req.headers[KH_RUN_UUID_HEADER];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    const runId = fromPath ?? (fromHeader === '' ? undefined : fromHeader);
    if (runId === undefined) {
      send(res, 400, { error: `request missing ${KH_RUN_UUID_HEADER} header (or the run id in the path)` });
      return;
    }
    if (runId !== opts.runUuid || (fromHeader !== undefined && fromHeader !== '' && fromHeader !== runId)) {
      send(res, 400, { error: `run uuid ${runId} is invalid: this pod reports for run ${opts.runUuid}` });
      return;
    }
    if (now() > opts.deadline) {
      send(res, 410, { error: `run ${runId} is past its deadline (${new Date(opts.deadline).toISOString()})` });
      return;
    }
    if (accepted) {
      send(res, 410, { error: `run ${runId} has already reported` });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      send(res, 400, { error: 'the report is not valid JSON' });
      return;
    }
    const parsed = parseReport(value);
    if (!parsed.ok) {
      send(res, 400, { error: parsed.error });
      return;
    }
    try {
      const tmp = `${opts.reportFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(parsed.report), { mode: 0o644 });
      renameSync(tmp, opts.reportFile);
    } catch (err) {
      opts.logger.error({ err: (err as Error).message }, `cannot write the report to ${opts.reportFile}`);
      send(res, 500, { error: 'the report could not be stored' });
      return;
    }
    accepted = parsed.report;
    if (opts.terminationLogPath !== undefined) {
      try {
        writeFileSync(opts.terminationLogPath, encodeReport({ v: 1, output: 'missing', finishedAt: now(), kh: parsed.report }));
      } catch (err) {
        opts.logger.warn({ err: (err as Error).message }, `cannot write the termination message ${opts.terminationLogPath}`);
      }
    }
    opts.logger.info({ ok: parsed.report.ok, errors: parsed.report.errors.length }, 'Kuberhealthy report received');
    send(res, 200, { ok: true, runId });
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        send(res, 413, { error: `the report is larger than ${MAX_BODY_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!res.headersSent) handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { resolve(); });
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : opts.port;
  opts.logger.info({ listen: `${opts.host}:${port}`, deadline: new Date(opts.deadline).toISOString() }, 'Kuberhealthy reporting endpoint listening');
  return {
    port,
    get report() {
      return accepted;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => { resolve(); });
      server.closeAllConnections();
    }),
  };
}

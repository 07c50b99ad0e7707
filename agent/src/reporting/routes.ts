/**
 * The Kuberhealthy reporting endpoints: `POST /externalCheckStatus` (v2) and `POST /check`
 * (v3), each also with the run id as a last path segment (vigil puts it in KH_REPORTING_URL,
 * so clients that never send the `kh-run-uuid` header, such as the npm `kuberhealthy`
 * client, still work). Answers, each with a JSON body: 200 accepted; 400 unknown run or an
 * invalid report; 405 not a POST; 410 past the deadline, superseded or already reported;
 * 415 not JSON. The run id in an unguessable UUID is the check's credential: no bearer token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ReportRegistry } from './ReportRegistry.js';
import { KH_RUN_UUID_HEADER, parseReport } from './protocol.js';

export interface ReportRoutesOptions {
  reports: ReportRegistry;
  logger: Logger;
}

export const REPORT_PATHS = ['/externalCheckStatus', '/check'] as const;

export function registerReportRoutes(app: FastifyInstance, options: ReportRoutesOptions): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (req.method !== 'POST') return reply.status(405).header('Allow', 'POST').send({ error: `method ${req.method} not allowed: report with POST` });
    const type = req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/json')) {
      return reply.status(415).send({ error: `Content-Type must be application/json, got ${type === '' ? 'none' : JSON.stringify(type)}` });
    }
    const fromPath = (req.params as { runId?: string }).runId;
    const header = req.headers[KH_RUN_UUID_HEADER];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    if (fromPath !== undefined && fromHeader !== undefined && fromHeader !== '' && fromPath !== fromHeader) {
      return reply.status(400).send({ error: `the run id in the path (${fromPath}) and the ${KH_RUN_UUID_HEADER} header (${fromHeader}) differ` });
    }
    const runId = fromPath ?? fromHeader;
    if (runId === undefined || runId === '') return reply.status(400).send({ error: `request missing ${KH_RUN_UUID_HEADER} header (or the run id in the path)` });
    const parsed = parseReport(req.body);
    if (!parsed.ok) return reply.status(400).send({ error: parsed.error });
    const answer = options.reports.receive(runId, parsed.report);
    if (answer.status !== 200) {
      options.logger.warn({ run: runId, status: answer.status, error: answer.error }, 'check report refused');
      return reply.status(answer.status).send({ error: answer.error });
    }
    options.logger.debug({ run: runId, definition: `${answer.window.namespace}/${answer.window.name}`, ok: parsed.report.ok }, 'check report received');
    return reply.status(200).send({ ok: true, runId });
  };
  for (const path of REPORT_PATHS) {
    app.all(path, handler);
    app.all(`${path}/:runId`, handler);
  }
}

/**
 * The adapter: the last container of a check pod. It reads /kratix/output/health-status.yaml
 * with the local runtime's safety rules (no links, size limit), writes its report as the
 * container's termination message (the fallback transport, ≤ 4096 bytes), then creates the
 * HealthState named after the Job with the pod's service account (ADR 0013). It cannot see
 * the exit codes of the user's containers: it only runs when they all exited 0.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/interfaces.js';
import type { PromiseRef, ResourceRef } from '../../core/model.js';
import { parseHealthStatus } from '../../core/health-status.js';
import { parseReport } from '../../reporting/protocol.js';
import { DEFAULT_MAX_OUTPUT_FILE_BYTES, readStatusFile } from '../../runtimes/output-file.js';
import { kubeError } from '../client.js';
import { buildHealthState, HEALTH_STATE, HEALTH_STATE_META, type HealthStateObject } from './health-state.js';
import { encodeReport, HEALTH_STATE_DETAILS_MAX_BYTES, TERMINATION_MESSAGE_MAX_BYTES, type AdapterReport } from './report.js';

/** Who the adapter reports for, from its environment (see resources/pod.ts ADAPTER_ENV). */
export interface AdapterIdentity {
  namespace: string;
  jobName: string;
  jobUid: string;
  podName: string;
  podUid: string;
  definition: string;
  definitionUid: string;
  promiseRef: PromiseRef;
  resourceRef?: ResourceRef;
}

export interface AdapterOptions {
  outputDir: string;
  terminationLogPath: string;
  maxOutputBytes?: number;
  maxDetailsBytes?: number;
  /** Kuberhealthy-style check: the report the pod-local reporter stored (kh-reporter.ts), read if present. */
  khReportFile?: string;
  identity: AdapterIdentity;
  /** Undefined: only the termination message is written (no API access). */
  kubeConfig?: KubeConfig;
  logger: Logger;
  now?: () => number;
  /** Attempts to create the HealthState on transient errors (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 500). */
  retryDelayMs?: number;
}

export interface AdapterResult {
  report: AdapterReport;
  terminationMessage: 'written' | 'failed';
  healthState: 'created' | 'exists' | 'failed' | 'skipped';
  error?: string;
}

/** Reads the output file into a report. Never throws. */
export function readReport(outputDir: string, maxOutputBytes: number, now: number): AdapterReport {
  let root: string;
  let output: string;
  try {
    output = realpathSync(outputDir);
    root = dirname(output);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { v: 1, output: 'missing', finishedAt: now };
    return { v: 1, output: 'invalid', message: `cannot open the output directory ${outputDir}: ${code ?? (err as Error).message}`, finishedAt: now };
  }
  const file = readStatusFile({ root, output, input: '', metadata: '', tmp: '' }, maxOutputBytes);
  if (file.kind === 'missing') return { v: 1, output: 'missing', finishedAt: now };
  if (file.kind === 'refused') return { v: 1, output: 'invalid', message: file.message, finishedAt: now };
  const parsed = parseHealthStatus(file.content, maxOutputBytes);
  if (!parsed.ok) return { v: 1, output: 'invalid', message: parsed.message, finishedAt: now };
  return { v: 1, output: 'status', state: parsed.status.state, finishedAt: now, ...(parsed.status.details ? { details: parsed.status.details } : {}) };
}

/** The stored Kuberhealthy report, or undefined when the check did not report (or the file is unusable, logged). */
export function readKhReport(file: string, log: Logger): AdapterReport['kh'] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: (err as Error).message }, `cannot read the Kuberhealthy report ${file}`);
    return undefined;
  }
  try {
    const parsed = parseReport(JSON.parse(text));
    if (parsed.ok) return parsed.report;
    log.warn(`the Kuberhealthy report ${file} is not valid: ${parsed.error}`);
  } catch {
    log.warn(`the Kuberhealthy report ${file} is not JSON`);
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function transient(code: number | undefined): boolean {
  return code === undefined || code === 429 || code >= 500;
}

/** Runs the adapter once: report, termination message, HealthState. */
export async function runAdapter(opts: AdapterOptions): Promise<AdapterResult> {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ definition: opts.identity.definition, job: opts.identity.jobName });
  let report = readReport(opts.outputDir, opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES, now());
  if (opts.khReportFile !== undefined) {
    const kh = readKhReport(opts.khReportFile, log);
    if (kh) report = { ...report, kh };
  }
  const result: AdapterResult = { report, terminationMessage: 'failed', healthState: 'skipped' };
  try {
    writeFileSync(opts.terminationLogPath, encodeReport(report, TERMINATION_MESSAGE_MAX_BYTES));
    result.terminationMessage = 'written';
  } catch (err) {
    log.warn({ err }, `cannot write the termination message to ${opts.terminationLogPath}`);
  }
  if (!opts.kubeConfig) return result;

  const body = buildHealthState({
    namespace: opts.identity.namespace,
    jobName: opts.identity.jobName,
    jobUid: opts.identity.jobUid,
    podUid: opts.identity.podUid,
    definitionUid: opts.identity.definitionUid,
    promiseRef: opts.identity.promiseRef,
    ...(opts.identity.resourceRef ? { resourceRef: opts.identity.resourceRef } : {}),
    report,
    maxDetailsBytes: opts.maxDetailsBytes ?? HEALTH_STATE_DETAILS_MAX_BYTES,
  });
  const api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const target = { group: HEALTH_STATE.group, version: HEALTH_STATE.version, namespace: opts.identity.namespace, plural: HEALTH_STATE.plural };
  const attempts = Math.max(1, opts.attempts ?? 5);
  let delay = opts.retryDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await api.createNamespacedCustomObject({ ...target, body });
      result.healthState = 'created';
      log.info({ state: body.data?.state, output: report.output }, `created HealthState ${opts.identity.namespace}/${opts.identity.jobName}`);
      return result;
    } catch (err) {
      const e = kubeError(err, `creating HealthState ${opts.identity.namespace}/${opts.identity.jobName}`);
      if (e.code === 409) return alreadyExists(api, target, opts, result, log);
      if (!transient(e.code) || attempt >= attempts) {
        result.healthState = 'failed';
        result.error = e.message;
        log.error({ code: e.code }, `${e.message}; the result is still in the termination message`);
        return result;
      }
      log.warn({ code: e.code, attempt }, `${e.message}; retrying in ${delay} ms`);
      await sleep(delay);
      delay *= 2;
    }
  }
}

/** A HealthState with the Job's name exists: ours from an earlier attempt (fine), or someone else's (an error). */
async function alreadyExists(
  api: CustomObjectsApi,
  target: { group: string; version: string; namespace: string; plural: string },
  opts: AdapterOptions,
  result: AdapterResult,
  log: Logger,
): Promise<AdapterResult> {
  try {
    const existing = (await api.getNamespacedCustomObject({ ...target, name: opts.identity.jobName })) as HealthStateObject;
    if (existing.metadata?.labels?.[HEALTH_STATE_META.podUid] === opts.identity.podUid) {
      result.healthState = 'exists';
      return result;
    }
    result.error = `HealthState ${opts.identity.namespace}/${opts.identity.jobName} already exists and was written by another pod; the result is in the termination message only`;
  } catch (err) {
    result.error = kubeError(err, `reading HealthState ${opts.identity.namespace}/${opts.identity.jobName}`).message;
  }
  result.healthState = 'failed';
  log.error(result.error);
  return result;
}

/**
 * Kuberhealthy's status JSON shapes built from vigil's check views, so tools that read
 * Kuberhealthy's status page keep working: v2 (`GET /` of Kuberhealthy 2, served by vigil at
 * `/kuberhealthy`) and v3 (`GET /json`). Both are keyed `namespace/name` (v3 itself keys by
 * name only, which lets same-named checks overwrite each other). Pure.
 */
import type { CheckView, RunView } from '../server/provider.js';

/** Whether a run counts as OK for Kuberhealthy: healthy or ready. A check that has not run yet is OK with no errors. */
export function runOk(run: RunView | undefined): boolean {
  return run === undefined || run.state === 'healthy' || run.state === 'ready';
}

/** The error strings of a run as Kuberhealthy would list them. */
export function runErrors(run: RunView | undefined, key: string): string[] {
  if (run === undefined || runOk(run)) return [];
  if (run.errors && run.errors.length > 0) return run.errors;
  if (run.reason) return [`Check execution error: ${key}: ${run.reason}${run.message ? `: ${run.message}` : ''}`];
  if (run.message) return [run.message];
  return [`${key} is ${run.state}`];
}

/** A Go `time.Duration` string ("1.5s", "250ms"), as KH v2 writes RunDuration. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds - h * 3600 - m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${trim(s)}s`;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

export interface StatusPageOptions {
  /** Reported as CurrentMaster / AuthoritativePod: the agent's destination. */
  agent: string;
  /** Only these namespaces (v3 `?namespace=a,b`). */
  namespaces?: string[];
}

function select(checks: CheckView[], namespaces: string[] | undefined): CheckView[] {
  if (!namespaces || namespaces.length === 0) return checks;
  const set = new Set(namespaces);
  return checks.filter((c) => set.has(c.namespace));
}

/** Kuberhealthy v2 status: `{OK, Errors, CheckDetails, JobDetails, CurrentMaster}`. */
export function statusV2(checks: CheckView[], options: StatusPageOptions): unknown {
  const details: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const c of select(checks, options.namespaces)) {
    const key = `${c.namespace}/${c.name}`;
    const last = c.history[0];
    const errs = runErrors(last, key);
    errors.push(...errs);
    details[key] = {
      OK: runOk(last),
      Errors: errs,
      RunDuration: last ? goDuration(last.durationMs) : '',
      Namespace: c.namespace,
      Node: '',
      LastRun: last ? new Date(last.finishedAt).toISOString() : null,
      AuthoritativePod: options.agent,
      uuid: c.running?.runId ?? '',
    };
  }
  return { OK: errors.length === 0, Errors: errors, CheckDetails: details, JobDetails: {}, CurrentMaster: options.agent };
}

/** Kuberhealthy v3 status (`/json`): `{OK, Errors, CheckDetails, CurrentMaster, Metadata}`. */
export function statusV3(checks: CheckView[], options: StatusPageOptions): unknown {
  const details: Record<string, unknown> = {};
  const errors: string[] = [];
  const unix = (ms: number | undefined): number => (ms === undefined ? 0 : Math.floor(ms / 1000));
  for (const c of select(checks, options.namespaces)) {
    const key = `${c.namespace}/${c.name}`;
    const last = c.history[0];
    const errs = runErrors(last, key);
    errors.push(...errs);
    details[key] = {
      ok: runOk(last),
      errors: errs,
      consecutiveFailures: c.stats.consecutiveFailures,
      runDuration: last ? Math.round(last.durationMs * 1e6) : 0,
      namespace: c.namespace,
      currentUUID: c.running?.runId ?? '',
      lastRunUnix: unix(last?.startedAt),
      successCount: c.stats.successCount,
      failureCount: c.stats.failureCount,
      lastOKUnix: unix(c.stats.lastOKAt),
      lastFailureUnix: unix(c.stats.lastFailureAt),
      additionalMetadata: '',
      nextRunUnix: unix(c.nextRun),
      podName: '',
      timeoutSeconds: c.timeoutSeconds,
      runIntervalSeconds: c.intervalSeconds ?? 0,
    };
  }
  return { OK: errors.length === 0, Errors: errors, CheckDetails: details, CurrentMaster: options.agent, Metadata: {} };
}

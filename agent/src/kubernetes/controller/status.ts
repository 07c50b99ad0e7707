/**
 * The HealthDefinition's `status`, computed from what the controller knows. Pure.
 *
 * - `observedGeneration`: the generation last reconciled (valid or not);
 * - `cronJobName`, `state`, `lastRun` (unix seconds) and `lastRunTime`, `nextRunTime`;
 * - `waitingJob`: a Job stuck before its check runs (unschedulable, image pull...), and why;
 * - conditions, each with `lastTransitionTime` kept while its status does not change:
 *   - `Ready`: True when the objects are in place; False with reason `InvalidSpec` (the
 *     message names the field), `ApplyFailed`, or `Suspended` (True, for visibility);
 *   - `Failing`: True when the last run's check broke (reason from the vocabulary:
 *     `ExitCode`, `Timeout`, `ImagePull`, ...), or a scheduled run never started
 *     (`MissedSchedule`); False (`Succeeded`) otherwise.
 */
import type { ReasonCode } from '../../core/reasons.js';
import type { HealthState } from '../../core/model.js';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface DefinitionStatus {
  observedGeneration?: number;
  cronJobName?: string;
  state?: HealthState;
  lastRun?: number;
  lastRunTime?: string;
  /** Scheduled time of the last run (its identity with the definition). */
  lastScheduleTime?: string;
  nextRunTime?: string;
  conditions: Condition[];
  /** The last `health.vigil.dev/run-now` annotation value acted upon. */
  runNowHandled?: string;
  /** The last run's Job and why it failed, if it did. */
  lastJob?: string;
  /** A Job that has not started its check yet and why (e.g. `pod unschedulable: ...`); removed when it moves on. */
  waitingJob?: string;
  [field: string]: unknown;
}

export interface StatusFacts {
  generation?: number;
  cronJobName?: string;
  /** Problems that stop the definition from running (field paths included). */
  invalid?: string[];
  applyError?: string;
  suspended?: boolean;
  lastRun?: { scheduledAt: number; finishedAt: number; state: HealthState; reason?: ReasonCode; message?: string; jobName: string };
  /** A scheduled run that should have started and did not. */
  missed?: { scheduledAt: number; message: string };
  nextRunAt?: number;
  runNowHandled?: string;
  /** The current Job is stuck before its check could run. */
  waiting?: { jobName: string; message: string };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The new status; conditions whose status did not change keep their transition time from `previous`. */
export function buildStatus(facts: StatusFacts, previous: Partial<DefinitionStatus> | undefined, now: number): DefinitionStatus {
  const prior = new Map((Array.isArray(previous?.conditions) ? previous.conditions : []).map((c) => [c.type, c]));
  const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => {
    const before = prior.get(type);
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : iso(now),
      ...(facts.generation !== undefined ? { observedGeneration: facts.generation } : {}),
    };
  };
  const conditions: Condition[] = [];
  if (facts.invalid && facts.invalid.length > 0) {
    conditions.push(cond('Ready', 'False', 'InvalidSpec', facts.invalid.join('; ')));
  } else if (facts.applyError) {
    conditions.push(cond('Ready', 'False', 'ApplyFailed', facts.applyError));
  } else if (facts.suspended) {
    conditions.push(cond('Ready', 'True', 'Suspended', `CronJob ${facts.cronJobName ?? ''} is suspended (spec.suspend: true); no new runs start`));
  } else {
    conditions.push(cond('Ready', 'True', 'Reconciled', `CronJob ${facts.cronJobName ?? ''} is up to date`));
  }
  const run = facts.lastRun;
  if (facts.missed && (!run || run.scheduledAt < facts.missed.scheduledAt)) {
    conditions.push(cond('Failing', 'True', 'MissedSchedule', facts.missed.message));
  } else if (run?.reason) {
    conditions.push(cond('Failing', 'True', run.reason, run.message ?? `the check of Job ${run.jobName} failed (${run.reason})`));
  } else if (run) {
    conditions.push(cond('Failing', 'False', 'Succeeded', `Job ${run.jobName} reported ${run.state}`));
  } else if (!facts.invalid?.length) {
    conditions.push(cond('Failing', 'Unknown', 'NoRunYet', 'no run has finished yet'));
  }
  const carried = previous ?? {};
  const lastRun = run ? Math.floor(run.finishedAt / 1000) : typeof carried.lastRun === 'number' ? carried.lastRun : undefined;
  const state = run?.state ?? carried.state;
  return {
    ...(facts.generation !== undefined ? { observedGeneration: facts.generation } : {}),
    ...(facts.cronJobName ? { cronJobName: facts.cronJobName } : {}),
    ...(state ? { state } : {}),
    ...(lastRun !== undefined ? { lastRun, lastRunTime: iso(lastRun * 1000) } : {}),
    ...(run ? { lastScheduleTime: iso(run.scheduledAt) } : typeof carried.lastScheduleTime === 'string' ? { lastScheduleTime: carried.lastScheduleTime } : {}),
    ...(facts.nextRunAt !== undefined && !facts.suspended && !facts.invalid?.length ? { nextRunTime: iso(facts.nextRunAt) } : {}),
    ...(run ? { lastJob: run.jobName } : typeof carried.lastJob === 'string' ? { lastJob: carried.lastJob } : {}),
    ...(facts.waiting ? { waitingJob: `${facts.waiting.jobName}: ${facts.waiting.message}` } : {}),
    ...(facts.runNowHandled !== undefined ? { runNowHandled: facts.runNowHandled } : typeof carried.runNowHandled === 'string' ? { runNowHandled: carried.runNowHandled } : {}),
    conditions,
  };
}

/** True when two statuses say the same thing (a status write would change nothing). */
export function sameStatus(a: Partial<DefinitionStatus> | undefined, b: DefinitionStatus): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * interpretRun: what a Job (and its pod, and the HealthState its adapter wrote) says about
 * one run. Still running, or finished with a RunResult in the same vocabulary as the local
 * runtime: a user container exiting non-zero → ExitCode, the Job's DeadlineExceeded →
 * Timeout, ErrImagePull/ImagePullBackOff → ImagePull, CreateContainerConfigError →
 * StartFailed, a pod unschedulable past a deadline → Unschedulable, and otherwise what the
 * adapter reported from health-status.yaml. Pure: works on objects as listed or watched
 * (dates as Date or as RFC 3339 strings).
 */
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Plain } from './plain.js';
import type { ContainerOutcome, OutputFile, RunOutcome } from '../../core/interfaces.js';
import type { ExitCodeMode } from '../../core/model.js';
import { REASONS, type ReasonCode } from '../../core/reasons.js';
import { mapOutcome, type MapOptions, type RunResult } from '../../core/result.js';
import { decodeReport, type AdapterReport } from '../transport/report.js';
import { HEALTH_STATE_META, reportFromHealthState, type HealthStateObject } from '../transport/health-state.js';
import { ADAPTER_CONTAINER, KH_REPORTER_CONTAINER } from './pod.js';
import { ANNOTATIONS, JOB_POD_LABELS } from './names.js';

export interface InterpretOptions {
  exitCodeMode?: ExitCodeMode;
  /** The run's time limit (for the Timeout message). */
  timeoutSeconds?: number;
  /** A pod still unschedulable this long after its creation ends the run as Unschedulable (default 300). */
  unschedulableAfterSeconds?: number;
  /** An image pull or container configuration error lasting this long ends the run (default 120). */
  startErrorAfterSeconds?: number;
  /** The HealthState named after the Job (healthStateName(job name)), when it exists. */
  healthState?: HealthStateObject;
  /** Limit of health-status.yaml content (passed to the result mapper). */
  maxOutputBytes?: number;
  /** A Kuberhealthy-style check: without a report or a file the run is NoReport (as locally). */
  expectReport?: boolean;
}

export type ResultSource = 'healthState' | 'terminationMessage' | 'job';

export type RunInterpretation =
  | {
      phase: 'running';
      jobName: string;
      /** Epoch ms: the CronJob's scheduled time, or the Job's creation for run-now Jobs. */
      scheduledAt: number;
      /** Why it is not making progress yet, e.g. `pod unschedulable: 0/3 nodes are available`. */
      waiting?: string;
    }
  | {
      phase: 'finished';
      jobName: string;
      scheduledAt: number;
      startedAt: number;
      finishedAt: number;
      result: RunResult;
      /** Where the result came from. */
      source: ResultSource;
      /** The Job is still active (stuck on scheduling or an image): the caller should delete it. */
      stuck: boolean;
      /** Things worth logging, e.g. a HealthState that did not match its Job and was ignored. */
      warnings: string[];
    };

const DEFAULT_UNSCHEDULABLE_AFTER_S = 300;
const DEFAULT_START_ERROR_AFTER_S = 120;
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const IMMEDIATE_REASONS = new Set(['InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Epoch ms of a Kubernetes time (Date from a typed list, RFC 3339 string from a watch). */
export function timeMs(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * The run's scheduled time (epoch ms): the CronJob controller's
 * `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation, else the Job's creation
 * time. Together with the definition it identifies a run, for de-duplication.
 */
export function jobScheduledTime(job: Plain<V1Job>): number {
  return timeMs(job.metadata?.annotations?.[ANNOTATIONS.scheduledTimestamp]) ?? timeMs(job.metadata?.creationTimestamp) ?? 0;
}

/** The pods of `job` among `pods` (by the Job controller's uid label or owner reference), newest first. */
export function podsOfJob(job: Plain<V1Job>, pods: readonly Plain<V1Pod>[]): Plain<V1Pod>[] {
  const uid = job.metadata?.uid;
  return pods
    .filter((p) => uid !== undefined && (p.metadata?.labels?.[JOB_POD_LABELS.controllerUid] === uid || (p.metadata?.ownerReferences ?? []).some((o) => o.uid === uid)))
    .sort((a, b) => (timeMs(b.metadata?.creationTimestamp) ?? 0) - (timeMs(a.metadata?.creationTimestamp) ?? 0));
}

interface Terminal {
  failed: boolean;
  reason?: string;
  message?: string;
  at?: number;
}

function terminalCondition(job: Plain<V1Job>): Terminal | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    const at = timeMs(c.lastTransitionTime);
    const base = { ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}), ...(at !== undefined ? { at } : {}) };
    if (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') return { failed: false, ...base };
    if (c.type === 'Failed' || c.type === 'FailureTarget') return { failed: true, ...base };
  }
  return undefined;
}

function failure(reason: ReasonCode, message: string, extra: Record<string, unknown> = {}): RunResult {
  return { state: 'unknown', details: { error: { reason, message, ...extra } }, reason, message, source: 'error' };
}

function captured(text: string): ContainerOutcome['stdout'] {
  return { text, bytes: Buffer.byteLength(text), truncated: false };
}

/** Start problems visible on the pod: scheduling, image pulls, container configuration. */
function startProblem(pod: Plain<V1Pod>, now: number, opts: InterpretOptions, final: boolean): { waiting: string; result?: RunResult } | undefined {
  const created = timeMs(pod.metadata?.creationTimestamp) ?? now;
  const age = (now - created) / 1000;
  const scheduled = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False' && scheduled.reason === 'Unschedulable') {
    const waiting = `pod unschedulable: ${scheduled.message ?? 'no node fits'}`;
    if (final || age >= (opts.unschedulableAfterSeconds ?? DEFAULT_UNSCHEDULABLE_AFTER_S)) {
      return { waiting, result: failure(REASONS.Unschedulable, `pod ${pod.metadata?.name ?? ''} could not be scheduled for ${Math.round(age)}s: ${scheduled.message ?? 'no node fits'}`) };
    }
    return { waiting };
  }
  const statuses: Plain<V1ContainerStatus>[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const w = s.state?.waiting;
    if (!w?.reason) continue;
    const isPull = IMAGE_PULL_REASONS.has(w.reason);
    if (!isPull && !CONFIG_REASONS.has(w.reason)) continue;
    const what = s.name === ADAPTER_CONTAINER ? `the vigil adapter container (${s.image})` : `container "${s.name}"`;
    const waiting = `${what}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    if (final || IMMEDIATE_REASONS.has(w.reason) || age >= (opts.startErrorAfterSeconds ?? DEFAULT_START_ERROR_AFTER_S)) {
      const reason = isPull ? REASONS.ImagePull : REASONS.StartFailed;
      const message = isPull ? `image "${s.image}" of container "${s.name}" could not be pulled: ${w.reason}${w.message ? `: ${w.message}` : ''}` : `container "${s.name}" could not start: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
      return { waiting, result: failure(reason, message, { container: s.name }) };
    }
    return { waiting };
  }
  return undefined;
}

/** The adapter's report: a HealthState matching this Job (and pod), else the adapter's termination message. */
function findReport(job: Plain<V1Job>, pods: Plain<V1Pod>[], opts: InterpretOptions, warnings: string[]): { report: AdapterReport; source: ResultSource } | undefined {
  const hs = opts.healthState;
  if (hs) {
    const labels = hs.metadata?.labels ?? {};
    const podUids = pods.map((p) => p.metadata?.uid).filter((u): u is string => u !== undefined);
    const where = `HealthState ${hs.metadata?.namespace ?? ''}/${hs.metadata?.name ?? ''}`;
    if (labels[HEALTH_STATE_META.jobUid] !== job.metadata?.uid) {
      warnings.push(`${where} ignored: it names Job uid ${labels[HEALTH_STATE_META.jobUid] ?? '(none)'}, not ${job.metadata?.uid ?? '(none)'}`);
    } else if (podUids.length > 0 && !podUids.includes(labels[HEALTH_STATE_META.podUid] ?? '')) {
      warnings.push(`${where} ignored: it was not written by a pod of Job ${job.metadata?.name ?? ''}`);
    } else {
      const decoded = reportFromHealthState(hs);
      if (decoded.ok) return { report: decoded.report, source: 'healthState' };
      warnings.push(`${where} ignored: ${decoded.message}`);
    }
  }
  for (const pod of pods) {
    const adapter = (pod.status?.containerStatuses ?? []).find((s) => s.name === ADAPTER_CONTAINER);
    const message = adapter?.state?.terminated?.message;
    if (message === undefined || message === '') continue;
    const decoded = decodeReport(message);
    if (decoded.ok) return { report: decoded.report, source: 'terminationMessage' };
    warnings.push(`pod ${pod.metadata?.name ?? ''}: ${decoded.message}`);
  }
  // A Kuberhealthy-style check whose adapter never ran (a user container failed after reporting):
  // the pod-local reporter's own termination message carries the report.
  for (const pod of pods) {
    const reporter = (pod.status?.initContainerStatuses ?? []).find((s) => s.name === KH_REPORTER_CONTAINER);
    const message = reporter?.state?.terminated?.message ?? reporter?.lastState?.terminated?.message;
    if (message === undefined || message === '') continue;
    const decoded = decodeReport(message);
    if (decoded.ok && decoded.report.kh) return { report: decoded.report, source: 'terminationMessage' };
    warnings.push(`pod ${pod.metadata?.name ?? ''}: the Kuberhealthy reporter's message ignored: ${decoded.ok ? 'it has no report' : decoded.message}`);
  }
  return undefined;
}

function outputOf(report: AdapterReport | undefined): OutputFile {
  if (!report || report.output === 'missing') return { kind: 'missing' };
  if (report.output === 'invalid') return { kind: 'refused', message: report.message };
  // JSON is YAML: the result mapper parses and validates it like the file itself.
  return { kind: 'present', content: JSON.stringify({ state: report.state, ...(report.details ? { details: report.details } : {}) }) };
}

/** The user's containers as the pod reports them, in workflow order, up to the first that did not finish. */
function userContainers(job: Plain<V1Job>, pod: Plain<V1Pod> | undefined, allSucceeded: boolean): ContainerOutcome[] {
  // The KH reporter is vigil's sidecar, not a step of the user's workflow.
  const specs = (job.spec?.template.spec?.initContainers ?? []).filter((c) => c.name !== KH_REPORTER_CONTAINER);
  const statuses = new Map((pod?.status?.initContainerStatuses ?? []).map((s) => [s.name, s]));
  const out: ContainerOutcome[] = [];
  for (const c of specs) {
    const s = statuses.get(c.name);
    const t = s?.state?.terminated;
    const base = { name: c.name, image: c.image ?? '', via: 'kubernetes' as const, durationMs: 0 };
    if (allSucceeded && !t) {
      out.push({ ...base, exitCode: 0, signal: null, stdout: captured(''), stderr: captured('') });
      continue;
    }
    if (t) {
      const text = t.message?.trim() || (t.exitCode !== 0 ? (t.reason ?? '') : '');
      const started = timeMs(t.startedAt);
      const finished = timeMs(t.finishedAt);
      out.push({
        ...base,
        exitCode: t.exitCode,
        signal: null,
        durationMs: started !== undefined && finished !== undefined ? finished - started : 0,
        stdout: captured(text),
        stderr: captured(text),
      });
      if (t.exitCode !== 0) break;
      continue;
    }
    if (s?.state?.running) out.push({ ...base, exitCode: null, signal: null, stdout: captured(''), stderr: captured('') });
    break;
  }
  return out;
}

/**
 * What a Job says about its run. `pods` may contain pods of other Jobs (they are filtered);
 * `now` (epoch ms) decides when a stuck pod counts as failed.
 */
export function interpretRun(job: Plain<V1Job>, pods: readonly Plain<V1Pod>[], now: number, opts: InterpretOptions = {}): RunInterpretation {
  const jobName = job.metadata?.name ?? '';
  const scheduledAt = jobScheduledTime(job);
  const mine = podsOfJob(job, pods);
  const pod = mine[0];
  const terminal = terminalCondition(job);
  const podDone = pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed';
  const startedAt = timeMs(job.status?.startTime) ?? timeMs(job.metadata?.creationTimestamp) ?? scheduledAt;
  const warnings: string[] = [];

  if (!terminal && !podDone) {
    const problem = pod ? startProblem(pod, now, opts, false) : undefined;
    if (problem?.result) {
      return { phase: 'finished', jobName, scheduledAt, startedAt, finishedAt: now, result: problem.result, source: 'job', stuck: true, warnings };
    }
    return { phase: 'running', jobName, scheduledAt, ...(problem ? { waiting: problem.waiting } : {}) };
  }

  const found = findReport(job, mine, opts, warnings);
  const finishedAt = found?.report.finishedAt ?? timeMs(job.status?.completionTime) ?? terminal?.at ?? now;
  const done = (result: RunResult, source: ResultSource): RunInterpretation => ({ phase: 'finished', jobName, scheduledAt, startedAt, finishedAt, result, source, stuck: false, warnings });

  if (found) {
    // The adapter runs only after every user container exited 0.
    const outcome: RunOutcome = {
      runId: jobName,
      startedAt,
      finishedAt,
      containers: userContainers(job, pod, true),
      timedOut: false,
      aborted: false,
      output: outputOf(found.report),
    };
    return done(mapOutcome(outcome, { ...mapOptions(opts), ...(found.report.kh ? { report: found.report.kh } : {}) }), found.source);
  }

  // No report: the pod failed before (or while) the adapter ran, or it is gone.
  if (pod) {
    const problem = startProblem(pod, now, opts, terminal?.failed === true);
    if (problem?.result) return done(problem.result, 'job');
  } else if (terminal?.failed && terminal.reason === 'DeadlineExceeded' && (job.status?.active ?? 0) === 0 && !job.status?.startTime) {
    // No pod was ever seen and the Job never started.
    return done(failure(REASONS.Unschedulable, `Job ${jobName} reached its deadline without starting a pod`), 'job');
  }
  const containers = userContainers(job, pod, false);
  const timedOut = terminal?.failed === true && terminal.reason === 'DeadlineExceeded';
  const adapter = (pod?.status?.containerStatuses ?? []).find((s) => s.name === ADAPTER_CONTAINER)?.state?.terminated;
  if (!timedOut && !containers.some((c) => c.exitCode !== 0) && adapter && adapter.exitCode !== 0) {
    return done(failure(REASONS.StartFailed, `the vigil adapter container exited with code ${adapter.exitCode}${adapter.message ? `: ${adapter.message.slice(0, 512)}` : ''}`, { container: ADAPTER_CONTAINER }), 'job');
  }
  if (!pod && !timedOut) {
    const message = terminal?.failed
      ? `Job ${jobName} failed (${terminal.reason ?? 'unknown reason'}${terminal.message ? `: ${terminal.message}` : ''}) and its pod was deleted before vigil could read which container failed`
      : `Job ${jobName} completed but its result is no longer available (no HealthState and the pod was deleted)`;
    return done(failure(terminal?.failed ? REASONS.ExitCode : REASONS.MissingOutput, message), 'job');
  }
  const outcome: RunOutcome = { runId: jobName, startedAt, finishedAt, containers, timedOut, aborted: false, output: { kind: 'missing' } };
  return done(mapOutcome(outcome, mapOptions(opts)), 'job');
}

function mapOptions(opts: InterpretOptions): MapOptions {
  return {
    ...(opts.exitCodeMode !== undefined ? { exitCodeMode: opts.exitCodeMode } : {}),
    ...(opts.timeoutSeconds !== undefined ? { timeoutSeconds: opts.timeoutSeconds } : {}),
    ...(opts.maxOutputBytes !== undefined ? { maxOutputBytes: opts.maxOutputBytes } : {}),
    ...(opts.expectReport !== undefined ? { expectReport: opts.expectReport } : {}),
  };
}

/**
 * What the HTTP server needs from whatever runs checks (the local Agent, or the Kubernetes
 * controller). The first six methods return ready-made JSON; the optional typed views feed
 * the metrics, the Kuberhealthy status pages and the khealth endpoint, and the optional
 * actions back the mutating endpoints. An endpoint whose method a provider lacks answers
 * 501 with a JSON error.
 */
import type { HealthState } from '../core/model.js';
import type { ReasonCode } from '../core/reasons.js';

export type RunTrigger = 'schedule' | 'start' | 'manual';

/** One finished run, as kept in a definition's short history. Times in ms since the epoch. */
export interface RunView {
  runId: string;
  trigger: RunTrigger;
  scheduledAt?: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  state: HealthState;
  reason?: ReasonCode;
  message?: string;
  /** Error strings a Kuberhealthy-style report carried (`details.errors`). */
  errors?: string[];
}

/** Counters kept per definition since the agent started (Kuberhealthy v3 status fields). */
export interface CheckStats {
  successCount: number;
  failureCount: number;
  consecutiveFailures: number;
  lastOKAt?: number;
  lastFailureAt?: number;
}

/** The typed status of one definition. */
export interface CheckView {
  namespace: string;
  name: string;
  schedule: string;
  timeZone: string;
  suspended: boolean;
  timeoutSeconds: number;
  /** Typical seconds between runs (from the schedule), when known. */
  intervalSeconds?: number;
  nextRun?: number;
  running?: { runId: string; startedAt: number };
  /** Newest first, short. */
  history: RunView[];
  stats: CheckStats;
}

export interface QueueStats {
  queued: number;
  running: number;
}

export interface StoreStats {
  kind: string;
  pending: number;
  oldestPendingSince?: number;
  /** Failed delivery attempts since start. */
  errors: number;
}

/** The state of one run by id, as `GET /api/v1/runs/:id` shows it. */
export interface RunStatus {
  runId: string;
  namespace: string;
  name: string;
  trigger: RunTrigger;
  phase: 'queued' | 'running' | 'finished' | 'cancelled';
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  result?: { state: HealthState; reason?: ReasonCode; message?: string; details: Record<string, unknown> };
  /** Why a queued run was cancelled (paused, definition removed, shutdown). */
  cancelReason?: string;
}

/** The answer to a run-now request. */
export type RunNowResult =
  | { ok: true; runId: string }
  | { ok: false; status: 404 | 409 | 503; error: string };

/** Told of every finished run and removed definition (the metrics listen). */
export interface RunObserver {
  runFinished(namespace: string, name: string, run: RunView): void;
  definitionRemoved(namespace: string, name: string): void;
}

/** Narrows `GET /api/v1/definitions` (`?namespace=a,b&state=unhealthy,pending&history=3`). */
export interface DefinitionsQuery {
  namespaces?: string[];
  /** Health states of the last run, or `pending` for definitions that have not run. */
  states?: string[];
  /** Most history entries per definition. */
  history?: number;
}

export interface StatusProvider {
  isReady(): boolean;
  summary(): unknown;
  /** Providers may ignore the query; the server then returns everything. */
  definitions(query?: DefinitionsQuery): unknown[];
  definition(namespace: string, name: string): unknown;
  problems(): unknown[];
  records(): unknown[];
  /** Typed status of every definition (metrics, Kuberhealthy pages, khealth). */
  checks?(): CheckView[];
  check?(namespace: string, name: string): CheckView | undefined;
  queueStats?(): QueueStats;
  storeStats?(): StoreStats[];
  /** Runs a definition now (outside its schedule). */
  runNow?(namespace: string, name: string): RunNowResult;
  run?(runId: string): RunStatus | undefined;
}

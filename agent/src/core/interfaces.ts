/**
 * The small interfaces adapters implement. Core depends on nothing; sources,
 * runtimes, stores and the server depend on these and on nothing of each other.
 */
import type { Logger } from 'pino';
import type { HealthDefinition, HealthRecord } from './model.js';
import type { Issue } from './issues.js';

export type { Logger };

/** Wall-clock source, injectable for tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

// ---------------------------------------------------------------- sources

export type SourceEvent =
  /** A definition appeared or changed (content differs from what was last emitted). */
  | { type: 'upsert'; definition: HealthDefinition; origin: string; warnings: Issue[] }
  /** A definition is gone (its file or document was removed). */
  | { type: 'delete'; key: string; origin: string }
  /**
   * The full, current list of problems of one origin (a file), replacing the previous list;
   * an empty list means the origin is fine now. For a problem whose object could be
   * identified (`key`), the previously accepted version of that definition stays in force.
   */
  | { type: 'problems'; origin: string; problems: SourceProblem[] }
  /** The initial load is complete. Emitted once. */
  | { type: 'synced' };

export interface SourceProblem {
  /** `namespace/name`, or a location such as `document 2 (line 14)` when the object has no identity. */
  object: string;
  key?: string;
  issues: Issue[];
}

export interface DefinitionSource {
  readonly kind: string;
  /** Starts delivering events; resolves after the initial load ('synced' has been emitted). */
  start(onEvent: (event: SourceEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- runtimes

/** Bounded capture of a stream: the head and the tail are kept, the middle is counted. */
export interface CapturedOutput {
  /** Captured text (head, and tail if truncated, joined by a marker line). */
  text: string;
  /** Total bytes the stream produced. */
  bytes: number;
  truncated: boolean;
}

export interface ContainerOutcome {
  name: string;
  image: string;
  /** How it ran locally: a mapped or explicit command, a container engine, or an in-process plugin. */
  via: 'process' | 'container' | 'plugin' | 'kubernetes';
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
}

/** What the runtime found at output/health-status.yaml after the run. */
export type OutputFile =
  | { kind: 'present'; content: string }
  | { kind: 'missing' }
  /** Present but refused before parsing (symlink, not a regular file, too large...). */
  | { kind: 'refused'; message: string };

export interface RunRequest {
  runId: string;
  definition: HealthDefinition;
  /** Nominal fire time (ms) for scheduled runs; undefined for on-demand runs. */
  scheduledAt?: number;
  timeoutMs: number;
  /** Extra environment offered to every container before the user's env (e.g. VIGIL_AGENT_URL). */
  env?: Record<string, string>;
  /** Aborting cancels the run (agent shutdown): processes are killed, the outcome is marked aborted. */
  signal?: AbortSignal;
  logger: Logger;
}

export interface RunOutcome {
  runId: string;
  startedAt: number;
  finishedAt: number;
  /** Containers that were started, in order. A failed container stops the rest (init-container semantics). */
  containers: ContainerOutcome[];
  timedOut: boolean;
  aborted: boolean;
  /** Set when a container could not be started at all. */
  startFailure?: { container?: string; message: string; reason?: 'StartFailed' | 'ImagePull' };
  output: OutputFile;
}

export interface CheckRuntime {
  readonly kind: string;
  run(request: RunRequest): Promise<RunOutcome>;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------- stores

export interface RecordRef {
  namespace: string;
  name: string;
}

export interface StateStore {
  readonly kind: string;
  /** Writes (creates or replaces) a record. Idempotent. */
  put(record: HealthRecord): Promise<void>;
  /** Removes a record; removing a missing record is not an error. */
  delete(ref: RecordRef): Promise<void>;
  /** Every record the store holds (used to find orphans and records already present). */
  list(): Promise<HealthRecord[]>;
  /** A human-readable location, e.g. a directory or URL, for logs. */
  describe(): string;
  close(): Promise<void>;
}

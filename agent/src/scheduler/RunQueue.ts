/**
 * Bounded-concurrency run queue with CronJob `concurrencyPolicy: Forbid` semantics: a key
 * that is already running or already queued is not submitted again (the new run is
 * skipped), everything else starts at once while under the limit or waits in FIFO order.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from '../core/interfaces.js';

/** Performs one run. A rejection is logged; it never stalls the queue. */
export type Execute<T> = (key: string, job: T) => Promise<void>;

export interface RunQueueOptions<T> {
  /** Maximum runs in flight. Default: available parallelism × 4 (runs mostly wait on I/O). */
  concurrency?: number;
  logger: Logger;
  execute: Execute<T>;
}

/** The outcome of `submit`. `skipped`: the key is busy (Forbid) or the queue is draining. */
export type SubmitResult = 'started' | 'queued' | 'skipped';

/** What `drain` reports once every running job has finished. */
export interface DrainResult {
  /** Queued jobs that were dropped without running. */
  dropped: number;
}

/** The default concurrency: available parallelism × 4. */
export function defaultConcurrency(): number {
  return availableParallelism() * 4;
}

function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`RunQueue concurrency must be an integer >= 1, got ${value}`);
  }
  return value;
}

export class RunQueue<T> {
  private readonly logger: Logger;
  private readonly execute: Execute<T>;
  private limit: number;
  private readonly running = new Set<string>();
  /** Waiting jobs; a Map iterates in insertion order, so it is the FIFO and the Forbid index at once. */
  private readonly waiting = new Map<string, T>();
  private draining: Promise<DrainResult> | undefined;
  private resolveDrain: (() => void) | undefined;

  constructor(options: RunQueueOptions<T>) {
    this.logger = options.logger;
    this.execute = options.execute;
    this.limit = checkConcurrency(options.concurrency ?? defaultConcurrency());
  }

  /** Jobs waiting for a free slot. */
  get depth(): number {
    return this.waiting.size;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running.size;
  }

  /** The current concurrency limit. */
  get concurrency(): number {
    return this.limit;
  }

  /** True while `key` is running or queued. */
  isBusy(key: string): boolean {
    return this.running.has(key) || this.waiting.has(key);
  }

  /** Starts `job` now if a slot is free, queues it otherwise; skips it if `key` is busy or the queue drains. */
  submit(key: string, job: T): SubmitResult {
    if (this.draining !== undefined || this.isBusy(key)) return 'skipped';
    if (this.running.size < this.limit) {
      this.start(key, job);
      return 'started';
    }
    this.waiting.set(key, job);
    return 'queued';
  }

  /** Drops `key`'s queued job (e.g. its definition was deleted); returns whether there was one. */
  cancelQueued(key: string): boolean {
    return this.waiting.delete(key);
  }

  /** Changes the limit; a raised limit starts queued jobs at once, a lowered one lets running jobs finish. */
  setConcurrency(concurrency: number): void {
    this.limit = checkConcurrency(concurrency);
    this.pump();
  }

  /**
   * Stops accepting work (submit returns 'skipped' from now on), drops the queued jobs and
   * resolves once the running ones have finished. Calling it again returns the same promise.
   */
  drain(): Promise<DrainResult> {
    if (this.draining) return this.draining;
    const dropped = this.waiting.size;
    this.waiting.clear();
    this.draining = new Promise<void>((resolve) => {
      this.resolveDrain = resolve;
      this.settleDrain();
    }).then(() => ({ dropped }));
    return this.draining;
  }

  private start(key: string, job: T): void {
    this.running.add(key);
    // Run from a microtask: the submitter (a scheduler dispatching many fires) is never
    // held up by a job's synchronous start-up work, and a synchronous throw becomes a rejection.
    void Promise.resolve()
      .then(() => this.execute(key, job))
      .catch((err: unknown) => {
        this.logger.error({ err, definition: key }, 'run failed unexpectedly');
      })
      .finally(() => {
        this.running.delete(key);
        this.pump();
        this.settleDrain();
      });
  }

  private pump(): void {
    while (this.running.size < this.limit && this.waiting.size > 0) {
      const next = this.waiting.entries().next();
      if (next.done === true) return;
      const [key, job] = next.value;
      this.waiting.delete(key);
      this.start(key, job);
    }
  }

  private settleDrain(): void {
    if (this.resolveDrain !== undefined && this.running.size === 0) {
      this.resolveDrain();
      this.resolveDrain = undefined;
    }
  }
}

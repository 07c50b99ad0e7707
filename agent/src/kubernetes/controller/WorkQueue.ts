/**
 * The controller's work queue, as client-go's: a key is queued at most once however many
 * events name it; a key is never processed by two workers at once (an event arriving while
 * it is processed queues it again, once); a failed key is retried after a per-key
 * exponential backoff, and a success resets that backoff. One bad key never blocks others.
 */
import type { Logger } from 'pino';

export interface WorkQueueOptions {
  /** Processes one key; throwing schedules a retry. */
  process: (key: string) => Promise<void>;
  concurrency?: number;
  /** First retry delay (doubles per failure up to maxRetryMs). Default 500 ms. */
  retryMs?: number;
  maxRetryMs?: number;
  logger: Logger;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys that were added while being processed: queue again when done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;
  private processedCount = 0;

  constructor(private readonly options: WorkQueueOptions) {}

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.retryTimers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.retryTimers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Keys waiting (not being processed, not waiting for a retry). */
  get depth(): number {
    return this.queue.length;
  }

  get retrying(): number {
    return this.retryTimers.size;
  }

  get processed(): number {
    return this.processedCount;
  }

  /** Consecutive failures of a key (0 when its last attempt succeeded). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Forgets a key's backoff and pending retry (its object is gone). */
  forget(key: string): void {
    this.failures.delete(key);
    const timer = this.retryTimers.get(key);
    if (timer) clearTimeout(timer);
    this.retryTimers.delete(key);
  }

  /** Resolves when nothing is queued or processing (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    try {
      await this.options.process(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const base = this.options.retryMs ?? 500;
      const delay = Math.min(this.options.maxRetryMs ?? 60_000, base * 2 ** Math.min(n - 1, 20));
      this.options.logger.warn({ key, attempt: n, retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed; will retry');
      if (!this.stopped && !this.dirty.has(key)) {
        const timer = setTimeout(() => {
          this.retryTimers.delete(key);
          this.add(key);
        }, delay);
        timer.unref();
        this.retryTimers.set(key, timer);
      }
    } finally {
      this.processedCount++;
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}

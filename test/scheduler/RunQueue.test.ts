import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { RunQueue, defaultConcurrency } from '../../agent/src/scheduler/RunQueue.js';
import { captureLogger } from './fakes.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (job starts and completions) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A queue whose jobs run until the test resolves or rejects them. */
function controlled(concurrency: number) {
  const started: string[] = [];
  const finished: string[] = [];
  const pending = new Map<string, Deferred>();
  let running = 0;
  let maxRunning = 0;
  const queue = new RunQueue<string>({
    concurrency,
    logger: silentLogger(),
    execute: async (key, job) => {
      expect(job).toBe(`job:${key}`);
      started.push(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      const d = deferred();
      pending.set(key, d);
      try {
        await d.promise;
      } finally {
        running--;
        finished.push(key);
      }
    },
  });
  const finish = async (key: string) => {
    const d = pending.get(key);
    if (!d) throw new Error(`${key} is not running`);
    pending.delete(key);
    d.resolve();
    await settle();
  };
  return { queue, started, finished, finish, maxRunning: () => maxRunning, submit: (key: string) => queue.submit(key, `job:${key}`) };
}

describe('RunQueue', () => {
  it('never runs more than the limit and runs the rest in FIFO order', async () => {
    const q = controlled(2);
    const results = ['a', 'b', 'c', 'd', 'e'].map((k) => q.submit(k));
    expect(results).toEqual(['started', 'started', 'queued', 'queued', 'queued']);
    expect(q.queue.active).toBe(2);
    expect(q.queue.depth).toBe(3);
    await settle();
    expect(q.started).toEqual(['a', 'b']);
    await q.finish('b');
    expect(q.started).toEqual(['a', 'b', 'c']);
    await q.finish('a');
    await q.finish('c');
    await q.finish('d');
    await q.finish('e');
    expect(q.started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.finished).toEqual(['b', 'a', 'c', 'd', 'e']);
    expect(q.maxRunning()).toBe(2);
    expect(q.queue.active).toBe(0);
    expect(q.queue.depth).toBe(0);
  });

  it('skips a key that is already running or already queued (Forbid)', async () => {
    const q = controlled(1);
    expect(q.submit('a')).toBe('started');
    expect(q.submit('b')).toBe('queued');
    expect(q.submit('a')).toBe('skipped');
    expect(q.submit('b')).toBe('skipped');
    expect(q.queue.isBusy('a')).toBe(true);
    expect(q.queue.isBusy('b')).toBe(true);
    expect(q.queue.isBusy('c')).toBe(false);
    await settle();
    await q.finish('a');
    expect(q.queue.isBusy('a')).toBe(false);
    expect(q.submit('a')).toBe('queued'); // free again; b holds the only slot
    await q.finish('b');
    await q.finish('a');
    expect(q.started).toEqual(['a', 'b', 'a']);
  });

  it('drops a cancelled queued job', async () => {
    const q = controlled(1);
    q.submit('a');
    q.submit('b');
    q.submit('c');
    expect(q.queue.cancelQueued('b')).toBe(true);
    expect(q.queue.cancelQueued('b')).toBe(false);
    expect(q.queue.cancelQueued('a')).toBe(false); // running jobs are not cancelled
    expect(q.queue.depth).toBe(1);
    await settle();
    await q.finish('a');
    await q.finish('c');
    expect(q.started).toEqual(['a', 'c']);
  });

  it('drain waits for running jobs, drops queued ones and refuses new work', async () => {
    const q = controlled(2);
    ['a', 'b', 'c', 'd'].forEach((k) => q.submit(k));
    await settle();
    let drained: { dropped: number } | undefined;
    const draining = q.queue.drain().then((result) => (drained = result));
    expect(q.queue.drain()).toBe(q.queue.drain());
    expect(q.queue.depth).toBe(0);
    expect(q.submit('e')).toBe('skipped');
    await q.finish('a');
    expect(drained).toBeUndefined();
    await q.finish('b');
    await draining;
    expect(drained).toEqual({ dropped: 2 });
    expect(q.started).toEqual(['a', 'b']);
  });

  it('drain resolves at once when idle', async () => {
    const q = controlled(1);
    await expect(q.queue.drain()).resolves.toEqual({ dropped: 0 });
  });

  it('logs a failing run and keeps going, whether it rejects or throws', async () => {
    const { logger, lines } = captureLogger();
    const ran: string[] = [];
    const queue = new RunQueue<number>({
      concurrency: 1,
      logger,
      execute: (key) => {
        ran.push(key);
        if (key === 'throws') throw new Error('sync boom');
        if (key === 'rejects') return Promise.reject(new Error('async boom'));
        return Promise.resolve();
      },
    });
    expect(queue.submit('throws', 1)).toBe('started');
    expect(queue.submit('rejects', 2)).toBe('queued');
    expect(queue.submit('fine', 3)).toBe('queued');
    await settle();
    expect(ran).toEqual(['throws', 'rejects', 'fine']);
    expect(queue.active).toBe(0);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors.map((l) => [l.definition, (l.err as { message: string }).message])).toEqual([
      ['throws', 'sync boom'],
      ['rejects', 'async boom'],
    ]);
  });

  it('setConcurrency starts queued jobs when raised and lets running ones finish when lowered', async () => {
    const q = controlled(1);
    ['a', 'b', 'c', 'd'].forEach((k) => q.submit(k));
    q.queue.setConcurrency(3);
    expect(q.queue.concurrency).toBe(3);
    expect(q.queue.active).toBe(3);
    await settle();
    expect(q.started).toEqual(['a', 'b', 'c']);
    q.queue.setConcurrency(1);
    await q.finish('a');
    expect(q.started).toEqual(['a', 'b', 'c']); // still two running, above the new limit
    await q.finish('b');
    await q.finish('c');
    expect(q.started).toEqual(['a', 'b', 'c', 'd']);
    await q.finish('d');
    expect(() => {
      q.queue.setConcurrency(0);
    }).toThrow(/concurrency.*0/);
  });

  it('defaults to available parallelism × 4 and rejects a bad limit', () => {
    expect(defaultConcurrency()).toBe(availableParallelism() * 4);
    const queue = new RunQueue({ logger: silentLogger(), execute: () => Promise.resolve() });
    expect(queue.concurrency).toBe(availableParallelism() * 4);
    expect(() => new RunQueue({ concurrency: 1.5, logger: silentLogger(), execute: () => Promise.resolve() })).toThrow(/concurrency.*1\.5/);
  });
});

/**
 * Deterministic time and small hand-written schedules for the scheduler tests.
 */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../../agent/src/core/interfaces.js';
import type { Schedule } from '../../agent/src/core/schedule/index.js';
import { createLogger } from '../../agent/src/logging/logger.js';
import type { TimerHandle, Timers } from '../../agent/src/scheduler/Scheduler.js';

export const MINUTE = 60_000;
/** 2030-01-01T00:00:00Z, minute-aligned. */
export const T0 = Date.UTC(2030, 0, 1);

interface PendingTimer {
  at: number;
  id: number;
  callback: () => void;
}

/**
 * A monotonic timer queue plus a wall clock that normally moves with it; `jump` moves only
 * the wall clock, as an NTP step or a suspended laptop does.
 */
export class FakeTime implements Clock, Timers {
  private monotonic = 0;
  private skew: number;
  private nextId = 1;
  private readonly timers = new Map<number, PendingTimer>();
  /** How many times setTimeout was called. */
  armed = 0;

  constructor(wallStart: number) {
    this.skew = wallStart;
  }

  now(): number {
    return this.monotonic + this.skew;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`bad timer delay ${ms}`);
    const id = this.nextId++;
    this.timers.set(id, { at: this.monotonic + ms, id, callback });
    this.armed++;
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers armed and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves both clocks forward by `ms`, firing due timers in order at their exact times. */
  advance(ms: number): void {
    const end = this.monotonic + ms;
    for (;;) {
      let first: PendingTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= end && (!first || timer.at < first.at || (timer.at === first.at && timer.id < first.id))) {
          first = timer;
        }
      }
      if (!first) break;
      this.timers.delete(first.id);
      this.monotonic = first.at;
      first.callback();
    }
    this.monotonic = end;
  }

  /** Moves the wall clock only (positive: forward, negative: backward). */
  jump(ms: number): void {
    this.skew += ms;
  }
}

function schedule(
  expression: string,
  minIntervalMs: number,
  next: (afterMs: number) => number | undefined,
): Schedule {
  return { expression, normalized: expression, timeZone: 'UTC', minIntervalMs, next };
}

/** Fires at every multiple of `periodMs` (plus `phaseMs`), like "* * * * *" when periodMs is a minute. */
export function every(periodMs: number, phaseMs = 0): Schedule {
  return schedule(`every ${periodMs}ms+${phaseMs}`, periodMs, (after) => {
    const k = Math.floor((after - phaseMs) / periodMs) + 1;
    return phaseMs + k * periodMs;
  });
}

/** Fires at exactly these instants. */
export function at(...instants: number[]): Schedule {
  const sorted = [...instants].sort((a, b) => a - b);
  let minInterval = Number.POSITIVE_INFINITY;
  for (let i = 1; i < sorted.length; i++) minInterval = Math.min(minInterval, sorted[i]! - sorted[i - 1]!);
  return schedule(`at ${sorted.join(',')}`, minInterval, (after) => sorted.find((t) => t > after));
}

/** Never fires (e.g. February 30th). */
export function never(): Schedule {
  return schedule('never', Number.POSITIVE_INFINITY, () => undefined);
}

/** A JSON logger whose lines are collected in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', pretty: false, destination }), lines };
}

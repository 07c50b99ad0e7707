/**
 * The local scheduler: fires every registered key on its cron schedule.
 *
 * One timer serves all keys. Next-fire times live in an indexed binary min-heap (typed
 * arrays, O(log n) upsert and remove); the timer is armed for the heap top, capped at
 * `maxSleepMs` so wall-clock jumps are noticed. Each key fires at its cron slot plus a
 * stable spread offset. Slots missed while the process slept or the clock jumped collapse
 * into one late fire (as a Kubernetes CronJob does). See docs/adr/0004-local-scheduler.md.
 */
import type { Clock, Logger } from '../core/interfaces.js';
import type { Schedule } from '../core/schedule/index.js';
import { IndexedMinHeap } from './heap.js';
import { spreadOffsetMs } from './spread.js';

/** What `onFire` learns about one fire. All times are epoch milliseconds. */
export interface Fire {
  /** When the fire was due: `nominalAt` plus the key's spread offset. */
  scheduledAt: number;
  /** The cron slot this fire stands for. */
  nominalAt: number;
  /** How late the fire was dispatched: now minus `scheduledAt` (never negative). */
  lateMs: number;
  /**
   * Further slots that fell due before the dispatch and were skipped (collapsed into this
   * fire). Counted exactly up to MAX_COUNTED_MISSED; a longer gap reports that limit.
   */
  missed: number;
}

/** Hands a fire over to the caller. Must be cheap (queue the run, do not perform it). */
export type FireHandler = (key: string, fire: Fire) => void;

/** Opaque handle returned by `Timers.setTimeout`. */
export type TimerHandle = unknown;

/** The timer functions the scheduler uses; injectable so tests can drive time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface SchedulerOptions {
  /** Wall clock: cron slots are wall-clock times. */
  clock: Clock;
  logger: Logger;
  onFire: FireHandler;
  /** Width of the stable per-key spread window; 0 fires at exact cron times. Default 30 s. */
  spreadMs?: number;
  /** Longest single sleep, so that wall-clock jumps are noticed. Default 60 s. */
  maxSleepMs?: number;
  /**
   * A backward wall-clock jump larger than this re-plans every key from the new time (slots
   * in between may then fire a second time, once each). A smaller jump only delays fires
   * until the clock catches up, so no slot fires twice. Default 5 min.
   */
  rewindThresholdMs?: number;
  /** Default: the global setTimeout/clearTimeout. */
  timers?: Timers;
}

export interface UpsertOptions {
  /** As CronJob `spec.suspend`: the key stays registered but does not fire. */
  suspended?: boolean;
}

/** Skipped slots beyond this many are not counted one by one (bounds the work after a long sleep). */
export const MAX_COUNTED_MISSED = 100;

const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Longest run of fires (wall ms) in one timer callback before yielding to the event loop. */
export const DISPATCH_SLICE_MS = 20;

/** Node clamps larger delays to 1 ms, so never ask for more than this. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Scheduler option ${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onFire: FireHandler;
  private readonly spreadMs: number;
  private readonly maxSleepMs: number;
  private readonly rewindThresholdMs: number;
  private readonly timers: Timers;

  /** key -> slot; the slot indexes the per-key arrays below and is the heap handle. */
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private keys: string[] = [];
  private schedules: (Schedule | undefined)[] = [];
  private nominals = new Float64Array(1024);
  private offsets = new Int32Array(1024);
  /** Holds exactly the keys that have an upcoming fire, by scheduledAt (a suspended key is not in it). */
  private readonly heap = new IndexedMinHeap(1024);

  private started = false;
  private dispatching = false;
  private timer: TimerHandle = undefined;
  private timerArmed = false;
  /** Wall time the armed timer is meant to wake at. */
  private armedFor = Number.POSITIVE_INFINITY;
  /** The latest wall time seen, to detect backward jumps. */
  private latestNow = Number.NEGATIVE_INFINITY;

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.logger = options.logger;
    this.onFire = options.onFire;
    this.spreadMs = nonNegative('spreadMs', options.spreadMs ?? 30_000);
    this.maxSleepMs = nonNegative('maxSleepMs', options.maxSleepMs ?? 60_000);
    if (this.maxSleepMs < 1) throw new RangeError(`Scheduler option maxSleepMs must be >= 1, got ${this.maxSleepMs}`);
    this.rewindThresholdMs = nonNegative('rewindThresholdMs', options.rewindThresholdMs ?? 300_000);
    this.timers = options.timers ?? systemTimers;
  }

  /** Number of registered keys (including suspended and never-firing ones). */
  get size(): number {
    return this.slots.size;
  }

  /** Number of keys with an upcoming fire (registered, not suspended, schedule not exhausted). */
  get pending(): number {
    return this.heap.size;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** When `key` fires next (scheduledAt, epoch ms), or undefined if it is unknown, suspended or never fires. */
  nextFire(key: string): number | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.heap.priorityOf(slot);
  }

  /** The spread offset (ms) applied to `key`'s slots under `schedule`. Stable for a given key. */
  offsetFor(key: string, schedule: Schedule): number {
    return spreadOffsetMs(key, this.spreadMs, schedule.minIntervalMs);
  }

  /**
   * Adds `key` or replaces its schedule and suspension. The next fire is the first slot whose
   * scheduledAt is after now; upserting an unchanged (same instance) schedule keeps the pending fire.
   */
  upsert(key: string, schedule: Schedule, options: UpsertOptions = {}): void {
    const suspend = options.suspended === true;
    const existing = this.slots.get(key);
    if (existing !== undefined && this.schedules[existing] === schedule && !suspend && this.heap.has(existing)) {
      return; // same schedule, still pending: keep the fire that is already planned
    }
    const slot = existing ?? this.allocateSlot(key);
    const offset = this.offsetFor(key, schedule);
    this.schedules[slot] = schedule;
    this.offsets[slot] = offset;
    if (suspend) {
      this.heap.delete(slot);
    } else {
      this.plan(slot, this.observeNow());
    }
    this.arm();
  }

  /** Unregisters `key`; returns false when it was not registered. */
  remove(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.heap.delete(slot);
    this.keys[slot] = '';
    this.schedules[slot] = undefined;
    this.freeSlots.push(slot);
    return true;
  }

  /** Starts firing. Slots that fell due before start fire once, late (collapsed). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.observeNow();
    this.arm();
  }

  /** Stops firing and cancels the timer. Registrations are kept; `start()` resumes. */
  stop(): void {
    this.started = false;
    this.disarm();
  }

  // ------------------------------------------------------------------ internals

  private allocateSlot(key: string): number {
    const slot = this.freeSlots.pop() ?? this.slots.size;
    if (slot >= this.nominals.length) this.grow(slot + 1);
    this.slots.set(key, slot);
    this.keys[slot] = key;
    return slot;
  }

  private grow(needed: number): void {
    const capacity = Math.max(needed, this.nominals.length * 2);
    const nominals = new Float64Array(capacity);
    nominals.set(this.nominals);
    this.nominals = nominals;
    const offsets = new Int32Array(capacity);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }

  /** Puts `slot` in the heap at its first slot due after `now`, or out of it if there is none. */
  private plan(slot: number, now: number): void {
    const offset = this.offsets[slot]!;
    const nominal = this.nextSlot(slot, now - offset);
    if (nominal === undefined) {
      this.heap.delete(slot);
      return;
    }
    this.nominals[slot] = nominal;
    this.heap.set(slot, nominal + offset);
  }

  /** Reads the clock; a large backward jump re-plans every pending key from the new time. */
  private observeNow(): number {
    const now = this.clock.now();
    if (now < this.latestNow - this.rewindThresholdMs) {
      this.logger.warn(
        { jumpedBackMs: this.latestNow - now, keys: this.heap.size },
        'wall clock jumped backwards; re-planning every schedule from the new time',
      );
      this.replanAll(now);
      this.latestNow = now;
    } else if (now > this.latestNow) {
      this.latestNow = now;
    }
    return now;
  }

  private replanAll(now: number): void {
    for (const slot of this.slots.values()) {
      if (this.heap.has(slot)) this.plan(slot, now);
    }
  }

  private arm(): void {
    if (!this.started || this.dispatching) return;
    const top = this.heap.peekPriority();
    if (top === undefined) {
      this.disarm(); // nothing to fire: an idle, empty scheduler never wakes
      return;
    }
    const now = this.clock.now();
    const wakeAt = Math.min(top, now + this.maxSleepMs);
    if (this.timerArmed) {
      if (this.armedFor <= wakeAt) return;
      this.timers.clearTimeout(this.timer);
    }
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(wakeAt - now)));
    this.armedFor = wakeAt;
    this.timerArmed = true;
    this.timer = this.timers.setTimeout(this.wake, delay);
  }

  private disarm(): void {
    if (!this.timerArmed) return;
    this.timers.clearTimeout(this.timer);
    this.timerArmed = false;
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private readonly wake = (): void => {
    this.timerArmed = false;
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!this.started) return;
    this.dispatching = true;
    try {
      this.dispatchDue();
    } finally {
      this.dispatching = false;
    }
    this.arm();
  };

  /** Fires every key whose scheduledAt has come, re-planning each before its handler runs. */
  private dispatchDue(): void {
    const sliceStart = this.observeNow();
    while (this.started) {
      const slot = this.heap.peek();
      if (slot < 0) return;
      const scheduledAt = this.heap.peekPriority()!;
      // Read the clock per fire: a long batch then reports true lateness and picks up keys
      // that came due while it ran.
      const now = this.clock.now();
      if (scheduledAt > now) return;
      // Yield after a slice so that a burst (100k keys due at once, or a long clock jump)
      // never blocks the event loop for long; the timer is re-armed at once for the rest.
      if (now - sliceStart >= DISPATCH_SLICE_MS) return;
      const nominalAt = this.nominals[slot]!;
      const missed = this.advance(slot, nominalAt, now);
      const key = this.keys[slot]!;
      try {
        this.onFire(key, { scheduledAt, nominalAt, lateMs: now - scheduledAt, missed });
      } catch (err) {
        this.logger.error({ err, definition: key }, 'scheduler fire handler threw; continuing');
      }
    }
  }

  /**
   * Moves `slot` from the slot `nominalAt` to its first slot due after `now`, and returns how
   * many slots in between were skipped (each skipped slot would already be due as well).
   */
  private advance(slot: number, nominalAt: number, now: number): number {
    const offset = this.offsets[slot]!;
    const horizon = now - offset;
    let missed = 0;
    let next = this.nextSlot(slot, nominalAt);
    while (next !== undefined && next <= horizon) {
      if (missed === MAX_COUNTED_MISSED) {
        next = this.nextSlot(slot, horizon);
        break;
      }
      missed++;
      next = this.nextSlot(slot, next);
    }
    if (next === undefined) {
      this.heap.delete(slot);
    } else {
      this.nominals[slot] = next;
      this.heap.set(slot, next + offset);
    }
    return missed;
  }

  /** `schedule.next(afterMs)` for `slot`; a schedule that throws is logged and treated as exhausted. */
  private nextSlot(slot: number, afterMs: number): number | undefined {
    try {
      return this.schedules[slot]!.next(afterMs);
    } catch (err) {
      this.logger.error({ err, definition: this.keys[slot] }, 'schedule cannot compute its next fire; the definition will not fire');
      return undefined;
    }
  }
}

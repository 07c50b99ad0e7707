import { describe, expect, it } from 'vitest';
import { parseSchedule, type Schedule } from '../../agent/src/core/schedule/index.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { DISPATCH_SLICE_MS, MAX_COUNTED_MISSED, Scheduler, type Fire, type SchedulerOptions } from '../../agent/src/scheduler/Scheduler.js';
import { spreadOffsetMs } from '../../agent/src/scheduler/spread.js';
import { FakeTime, MINUTE, T0, at, captureLogger, every, never } from './fakes.js';

interface Fired extends Fire {
  key: string;
  /** Wall time at dispatch. */
  now: number;
}

function setup(options: Partial<SchedulerOptions> = {}, wallStart = T0 + 1_000) {
  const time = new FakeTime(wallStart);
  const fired: Fired[] = [];
  const scheduler = new Scheduler({
    clock: time,
    timers: time,
    logger: silentLogger(),
    onFire: (key, fire) => fired.push({ key, now: time.now(), ...fire }),
    spreadMs: 0,
    ...options,
  });
  return { time, fired, scheduler };
}

const perMinute = every(MINUTE);

describe('Scheduler: firing', () => {
  it('fires every key in order at its exact time', () => {
    const { time, fired, scheduler } = setup();
    const phases = [0, 5_000, 5_000, 59_999, 30_000, 1_000];
    phases.forEach((phase, i) => {
      scheduler.upsert(`ns/k${i}`, every(MINUTE, phase));
    });
    scheduler.start();
    time.advance(3 * MINUTE);
    expect(fired).toHaveLength(phases.length * 3);
    for (const f of fired) {
      expect(f.now).toBe(f.scheduledAt);
      expect(f.lateMs).toBe(0);
      expect(f.missed).toBe(0);
      expect(f.nominalAt).toBe(f.scheduledAt);
    }
    const times = fired.map((f) => f.scheduledAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Started at T0+1s: the phase-1s key's first slot is the next minute's.
    expect(fired.slice(0, 6).map((f) => f.key)).toEqual(['ns/k1', 'ns/k2', 'ns/k4', 'ns/k3', 'ns/k0', 'ns/k5']);
  });

  it('reports nextFire, has, size and pending', () => {
    const { scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    scheduler.upsert('ns/b', never());
    scheduler.upsert('ns/c', perMinute, { suspended: true });
    expect(scheduler.size).toBe(3);
    expect(scheduler.pending).toBe(1);
    expect(scheduler.nextFire('ns/a')).toBe(T0 + MINUTE);
    expect(scheduler.nextFire('ns/b')).toBeUndefined();
    expect(scheduler.nextFire('ns/c')).toBeUndefined();
    expect(scheduler.nextFire('ns/missing')).toBeUndefined();
    expect(scheduler.has('ns/b')).toBe(true);
    expect(scheduler.has('ns/missing')).toBe(false);
  });

  it('does not fire before start nor after stop, and start collapses what fell due meanwhile', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    time.advance(5 * MINUTE);
    expect(fired).toHaveLength(0);
    scheduler.start();
    time.advance(0);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ nominalAt: T0 + MINUTE, missed: 4, lateMs: 4 * MINUTE + 1_000 });
    scheduler.stop();
    expect(time.pendingTimers).toBe(0);
    time.advance(10 * MINUTE);
    expect(fired).toHaveLength(1);
  });
});

describe('Scheduler: spread', () => {
  it('adds each key its stable offset, the same every slot', () => {
    const { time, fired, scheduler } = setup({ spreadMs: 30_000 });
    const keys = Array.from({ length: 200 }, (_, i) => `ns/check-${i}`);
    for (const key of keys) scheduler.upsert(key, perMinute);
    scheduler.start();
    time.advance(3 * MINUTE);
    expect(fired).toHaveLength(keys.length * 3);
    const offsets = new Map<string, Set<number>>();
    for (const f of fired) {
      const offset = f.scheduledAt - f.nominalAt;
      expect(offset).toBe(spreadOffsetMs(f.key, 30_000, MINUTE));
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(30_000);
      expect(f.nominalAt % MINUTE).toBe(0);
      expect(f.now).toBe(f.scheduledAt);
      offsets.set(f.key, (offsets.get(f.key) ?? new Set()).add(offset));
    }
    for (const set of offsets.values()) expect(set.size).toBe(1);
    // Spread out: the 200 keys of one slot do not share a handful of milliseconds.
    const firstSlot = fired.filter((f) => f.nominalAt === T0 + MINUTE).map((f) => f.scheduledAt);
    expect(new Set(firstSlot).size).toBeGreaterThan(190);
    expect(Math.max(...firstSlot) - Math.min(...firstSlot)).toBeGreaterThan(25_000);
  });

  it('works with real cron schedules from parseSchedule', () => {
    const { time, fired, scheduler } = setup({ spreadMs: 30_000 }, T0 + 30_000);
    scheduler.upsert('ns/five', parseSchedule('*/5 * * * *'));
    scheduler.upsert('ns/hourly', parseSchedule('@hourly'));
    scheduler.start();
    time.advance(2 * 60 * MINUTE); // up to T0+2h+30s
    expect(fired.filter((f) => f.key === 'ns/five').map((f) => (f.nominalAt - T0) / MINUTE)).toEqual(
      Array.from({ length: 24 }, (_, i) => 5 * (i + 1)),
    );
    expect(fired.filter((f) => f.key === 'ns/hourly').map((f) => (f.nominalAt - T0) / MINUTE)).toEqual([60, 120]);
    expect(fired.every((f) => f.lateMs === 0 && f.scheduledAt - f.nominalAt === spreadOffsetMs(f.key, 30_000, 5 * MINUTE))).toBe(
      true,
    );
  });

  it('caps the offset at half the schedule interval', () => {
    const { scheduler } = setup({ spreadMs: 600_000 });
    const twoMinutes = every(2 * MINUTE);
    for (let i = 0; i < 500; i++) expect(scheduler.offsetFor(`ns/k${i}`, twoMinutes)).toBeLessThan(MINUTE);
  });

  it('fires at exact cron times with spreadMs 0', () => {
    const { time, fired, scheduler } = setup({ spreadMs: 0 });
    for (let i = 0; i < 50; i++) scheduler.upsert(`ns/k${i}`, perMinute);
    scheduler.start();
    time.advance(MINUTE);
    expect(fired).toHaveLength(50);
    expect(fired.every((f) => f.scheduledAt === T0 + MINUTE && f.nominalAt === T0 + MINUTE)).toBe(true);
  });
});

describe('Scheduler: upsert and remove', () => {
  it('replaces a schedule: the old times never fire', () => {
    const { time, fired, scheduler } = setup();
    scheduler.start();
    scheduler.upsert('ns/a', at(T0 + MINUTE, T0 + 3 * MINUTE));
    scheduler.upsert('ns/a', at(T0 + 2 * MINUTE));
    expect(scheduler.nextFire('ns/a')).toBe(T0 + 2 * MINUTE);
    time.advance(5 * MINUTE);
    expect(fired.map((f) => f.nominalAt)).toEqual([T0 + 2 * MINUTE]);
  });

  it('keeps the planned fire when the same schedule instance is upserted again', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    scheduler.start();
    time.jump(MINUTE); // the slot is now due but the timer has not run yet
    scheduler.upsert('ns/a', perMinute);
    expect(scheduler.nextFire('ns/a')).toBe(T0 + MINUTE);
    scheduler.upsert('ns/a', every(MINUTE)); // an equal but new schedule re-plans from now
    expect(scheduler.nextFire('ns/a')).toBe(T0 + 2 * MINUTE);
    expect(fired).toHaveLength(0);
  });

  it('stops firing a removed key and fires it again after a re-upsert', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    scheduler.upsert('ns/b', perMinute);
    scheduler.start();
    time.advance(MINUTE);
    expect(scheduler.remove('ns/a')).toBe(true);
    expect(scheduler.remove('ns/a')).toBe(false);
    expect(scheduler.has('ns/a')).toBe(false);
    time.advance(2 * MINUTE);
    expect(fired.filter((f) => f.key === 'ns/a')).toHaveLength(1);
    expect(fired.filter((f) => f.key === 'ns/b')).toHaveLength(3);
    scheduler.upsert('ns/a', perMinute);
    time.advance(MINUTE);
    expect(fired.filter((f) => f.key === 'ns/a').map((f) => f.nominalAt)).toEqual([T0 + MINUTE, T0 + 4 * MINUTE]);
  });

  it('holds one entry per key however often it is upserted, and reuses removed slots', () => {
    const { time, fired, scheduler } = setup();
    scheduler.start();
    for (let i = 0; i < 1_000; i++) scheduler.upsert('ns/a', every(MINUTE, (i % 59) * 1_000));
    expect(scheduler.size).toBe(1);
    expect(scheduler.pending).toBe(1);
    for (let i = 0; i < 1_000; i++) {
      scheduler.upsert(`ns/tmp-${i}`, perMinute);
      scheduler.remove(`ns/tmp-${i}`);
    }
    expect(scheduler.size).toBe(1);
    expect(scheduler.pending).toBe(1);
    time.advance(MINUTE);
    expect(fired.map((f) => f.key)).toEqual(['ns/a']);
  });

  it('keeps a schedule that never fires registered without a pending fire or timer', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/never', never());
    scheduler.start();
    expect(scheduler.has('ns/never')).toBe(true);
    expect(scheduler.nextFire('ns/never')).toBeUndefined();
    expect(scheduler.pending).toBe(0);
    expect(time.pendingTimers).toBe(0);
    time.advance(60 * MINUTE);
    expect(fired).toHaveLength(0);
  });

  it('keeps a key whose schedule runs out after its last fire', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/once', at(T0 + 2 * MINUTE));
    scheduler.start();
    time.advance(10 * MINUTE);
    expect(fired).toHaveLength(1);
    expect(scheduler.has('ns/once')).toBe(true);
    expect(scheduler.nextFire('ns/once')).toBeUndefined();
    expect(time.pendingTimers).toBe(0);
  });

  it('does not fire a suspended key until it is upserted unsuspended', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute, { suspended: true });
    scheduler.upsert('ns/b', perMinute);
    scheduler.start();
    time.advance(3 * MINUTE);
    expect(fired.filter((f) => f.key === 'ns/a')).toHaveLength(0);
    expect(scheduler.has('ns/a')).toBe(true);
    scheduler.upsert('ns/a', perMinute, { suspended: false });
    expect(scheduler.nextFire('ns/a')).toBe(T0 + 4 * MINUTE);
    time.advance(MINUTE);
    expect(fired.filter((f) => f.key === 'ns/a').map((f) => f.missed)).toEqual([0]);
    scheduler.upsert('ns/a', perMinute, { suspended: true });
    time.advance(5 * MINUTE);
    expect(fired.filter((f) => f.key === 'ns/a')).toHaveLength(1);
  });

  it('may be changed from inside onFire', () => {
    const time = new FakeTime(T0 + 1_000);
    const keys: string[] = [];
    const scheduler = new Scheduler({
      clock: time,
      timers: time,
      logger: silentLogger(),
      spreadMs: 0,
      onFire: (key) => {
        keys.push(key);
        if (key === 'ns/a') {
          scheduler.remove('ns/b'); // due in the same batch: must not fire
          scheduler.upsert('ns/c', every(MINUTE, 1));
        }
      },
    });
    scheduler.upsert('ns/a', perMinute);
    scheduler.upsert('ns/b', perMinute);
    scheduler.start();
    time.advance(MINUTE + 1);
    expect(keys).toEqual(['ns/a', 'ns/c']);
    expect(time.pendingTimers).toBe(1);
  });
});

describe('Scheduler: clock jumps and missed slots', () => {
  it('collapses missed slots into one late fire with the count of skipped ones', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    scheduler.start();
    time.advance(MINUTE - 1_000); // fires the T0+1m slot
    expect(fired).toHaveLength(1);
    time.jump(9 * MINUTE); // the wall clock leaps ahead
    time.advance(MINUTE); // 10 minutes of wall time: slots T0+2m..T0+11m are due
    expect(fired).toHaveLength(2);
    expect(fired[1]).toMatchObject({ nominalAt: T0 + 2 * MINUTE, missed: 9, lateMs: 9 * MINUTE });
    expect(scheduler.nextFire('ns/a')).toBe(T0 + 12 * MINUTE);
    time.advance(MINUTE);
    expect(fired[2]).toMatchObject({ nominalAt: T0 + 12 * MINUTE, missed: 0, lateMs: 0 });
  });

  it('gives every key at most one late fire after a forward jump and notices it within maxSleepMs', () => {
    const { time, fired, scheduler } = setup({ spreadMs: 30_000, maxSleepMs: MINUTE }, T0 + 30_000);
    const periodOf = (key: string) => (Number(key.slice('ns/k'.length)) % 2 === 0 ? MINUTE : 60 * MINUTE);
    for (let i = 0; i < 300; i++) scheduler.upsert(`ns/k${i}`, every(periodOf(`ns/k${i}`)));
    scheduler.start();
    time.jump(61 * MINUTE);
    time.advance(MINUTE); // the first wake comes at most maxSleepMs after start
    const late = fired.filter((f) => f.nominalAt <= T0 + 61 * MINUTE);
    const perKey = new Map<string, Fired[]>();
    for (const f of late) perKey.set(f.key, [...(perKey.get(f.key) ?? []), f]);
    expect(perKey.size).toBe(300);
    expect([...perKey.values()].every((fires) => fires.length === 1)).toBe(true);
    // The late fire stands for the first due slot and counts every later slot due by then.
    for (const f of late) {
      const offset = f.scheduledAt - f.nominalAt;
      expect(f.missed).toBe(Math.floor((f.now - offset - f.nominalAt) / periodOf(f.key)));
    }
    // Per-minute keys skipped (at least) the slots T0+2m..T0+61m; hourly keys had only T0+1h due.
    expect(perKey.get('ns/k0')![0]!.nominalAt).toBe(T0 + MINUTE);
    expect(perKey.get('ns/k0')![0]!.missed).toBeGreaterThanOrEqual(60);
    expect(perKey.get('ns/k1')![0]).toMatchObject({ nominalAt: T0 + 60 * MINUTE, missed: 0 });
    expect(fired.filter((f) => f.nominalAt > T0 + 61 * MINUTE).every((f) => f.missed === 0)).toBe(true);
  });

  it('stops counting missed slots at MAX_COUNTED_MISSED and still plans the next slot after now', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/a', perMinute);
    scheduler.start();
    time.jump(24 * 60 * MINUTE);
    time.advance(MINUTE);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.missed).toBe(MAX_COUNTED_MISSED);
    expect(scheduler.nextFire('ns/a')).toBe(T0 + (24 * 60 + 2) * MINUTE);
  });

  it('does not storm or repeat a slot after a small backward jump', () => {
    // Started 30 s past T0, so no key's T0 slot (offset < 30 s) is still ahead.
    const { time, fired, scheduler } = setup({ spreadMs: 30_000 }, T0 + 30_000);
    for (let i = 0; i < 100; i++) scheduler.upsert(`ns/k${i}`, perMinute);
    scheduler.start();
    time.advance(2 * MINUTE); // slots T0+1m and T0+2m
    const before = fired.length;
    expect(before).toBe(200);
    time.jump(-3 * MINUTE);
    time.advance(5 * MINUTE);
    // Wall time advanced 2 minutes net of the jump: slots T0+3m and T0+4m, once per key.
    expect(fired.length - before).toBe(200);
    const seen = new Set(fired.map((f) => `${f.key}@${f.nominalAt}`));
    expect(seen.size).toBe(fired.length);
  });

  it('re-plans from the new time after a large backward jump, once per key per slot', () => {
    const { time, fired, scheduler } = setup({ spreadMs: 30_000 }, T0 + 30_000);
    for (let i = 0; i < 100; i++) scheduler.upsert(`ns/k${i}`, perMinute);
    scheduler.start();
    time.advance(2 * MINUTE);
    expect(fired).toHaveLength(200);
    time.jump(-60 * MINUTE);
    time.advance(2 * MINUTE); // noticed at the next wake (at most maxSleepMs later)
    const after = fired.slice(200);
    // No silence for the hour the clock went back, and no storm either.
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThanOrEqual(200);
    expect(after.every((f) => f.missed === 0 && f.nominalAt < T0)).toBe(true);
    const seen = new Set(after.map((f) => `${f.key}@${f.nominalAt}`));
    expect(seen.size).toBe(after.length);
  });
});

describe('Scheduler: robustness and timers', () => {
  it('logs a throwing onFire and keeps firing the other keys', () => {
    const { logger, lines } = captureLogger();
    const time = new FakeTime(T0 + 1_000);
    const keys: string[] = [];
    const scheduler = new Scheduler({
      clock: time,
      timers: time,
      logger,
      spreadMs: 0,
      onFire: (key) => {
        keys.push(key);
        if (key === 'ns/bad') throw new Error('boom');
      },
    });
    scheduler.upsert('ns/a', perMinute);
    scheduler.upsert('ns/bad', perMinute);
    scheduler.upsert('ns/z', perMinute);
    scheduler.start();
    time.advance(2 * MINUTE);
    expect(keys.filter((k) => k === 'ns/z')).toHaveLength(2);
    expect(keys.filter((k) => k === 'ns/a')).toHaveLength(2);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ definition: 'ns/bad', err: { message: 'boom' } });
  });

  it('logs a schedule whose next() throws, keeps the key registered and fires the others', () => {
    const { logger, lines } = captureLogger();
    const time = new FakeTime(T0 + 1_000);
    const keys: string[] = [];
    let calls = 0;
    const flaky: Schedule = {
      ...every(MINUTE),
      next: (after) => {
        if (++calls > 1) throw new RangeError('out of range');
        return perMinute.next(after);
      },
    };
    const scheduler = new Scheduler({ clock: time, timers: time, logger, spreadMs: 0, onFire: (key) => keys.push(key) });
    scheduler.upsert('ns/flaky', flaky);
    scheduler.upsert('ns/ok', perMinute);
    scheduler.start();
    time.advance(3 * MINUTE);
    expect(keys).toEqual(['ns/flaky', 'ns/ok', 'ns/ok', 'ns/ok']);
    expect(scheduler.has('ns/flaky')).toBe(true);
    expect(scheduler.nextFire('ns/flaky')).toBeUndefined();
    expect(lines.filter((l) => l.level === 50)).toMatchObject([{ definition: 'ns/flaky', err: { message: 'out of range' } }]);
  });

  it('uses a single timer, whatever the number of keys', () => {
    const time = new FakeTime(T0 + 1_000);
    let maxPending = 0;
    const scheduler = new Scheduler({
      clock: time,
      timers: time,
      logger: silentLogger(),
      onFire: () => {
        maxPending = Math.max(maxPending, time.pendingTimers);
      },
    });
    scheduler.start();
    for (let i = 0; i < 2_000; i++) {
      scheduler.upsert(`ns/k${i}`, every(MINUTE * (1 + (i % 5))));
      maxPending = Math.max(maxPending, time.pendingTimers);
    }
    for (let step = 0; step < 600; step++) {
      time.advance(1_000);
      maxPending = Math.max(maxPending, time.pendingTimers);
    }
    expect(time.pendingTimers).toBe(1);
    expect(maxPending).toBe(1);
  });

  it('yields to the event loop during a long burst and still fires every key once', () => {
    // A clock that advances 1 ms per reading, as if each dispatch took that long.
    const time = new FakeTime(T0 + 1_000);
    let drift = 0;
    const clock = { now: () => time.now() + drift++ };
    const fired: Fire[] = [];
    let maxPending = 0;
    const scheduler = new Scheduler({
      clock,
      timers: time,
      logger: silentLogger(),
      spreadMs: 0,
      onFire: (_key, fire) => {
        fired.push(fire);
        maxPending = Math.max(maxPending, time.pendingTimers);
      },
    });
    for (let i = 0; i < 200; i++) scheduler.upsert(`ns/k${i}`, perMinute);
    scheduler.start();
    const armedBefore = time.armed;
    time.advance(MINUTE);
    expect(fired).toHaveLength(200);
    expect(fired.every((f) => f.nominalAt === T0 + MINUTE && f.missed === 0)).toBe(true);
    // 200 fires at about 1 ms each, in slices of DISPATCH_SLICE_MS: several wakes, one timer at a time.
    expect(time.armed - armedBefore).toBeGreaterThan(200 / DISPATCH_SLICE_MS);
    expect(maxPending).toBe(0);
    expect(time.pendingTimers).toBe(1);
  });

  it('re-arms earlier when an earlier key is added', () => {
    const { time, fired, scheduler } = setup();
    scheduler.upsert('ns/late', every(60 * MINUTE));
    scheduler.start();
    scheduler.upsert('ns/soon', at(T0 + 10_000));
    expect(time.pendingTimers).toBe(1);
    time.advance(9_000);
    expect(fired.map((f) => f.key)).toEqual(['ns/soon']);
    expect(fired[0]!.lateMs).toBe(0);
  });

  it('wakes at most once per maxSleepMs when nothing is due', () => {
    const { time, fired, scheduler } = setup({ maxSleepMs: MINUTE });
    scheduler.upsert('ns/daily', every(24 * 60 * MINUTE));
    scheduler.start();
    const armedBefore = time.armed;
    time.advance(60 * MINUTE);
    expect(fired).toHaveLength(0);
    expect(time.armed - armedBefore).toBe(60);
  });

  it('rejects invalid options, naming them', () => {
    const base = { clock: new FakeTime(T0), logger: silentLogger(), onFire: () => undefined };
    expect(() => new Scheduler({ ...base, spreadMs: -1 })).toThrow(/spreadMs/);
    expect(() => new Scheduler({ ...base, maxSleepMs: 0 })).toThrow(/maxSleepMs/);
    expect(() => new Scheduler({ ...base, rewindThresholdMs: Number.NaN })).toThrow(/rewindThresholdMs/);
  });

  it('runs on the real timers by default', async () => {
    const start = Date.now();
    const soon: Schedule = {
      expression: 'soon',
      normalized: 'soon',
      timeZone: 'UTC',
      minIntervalMs: Number.POSITIVE_INFINITY,
      next: (after) => (after < start + 5 ? start + 5 : undefined),
    };
    const fire = await new Promise<Fire>((resolve) => {
      const scheduler = new Scheduler({
        clock: { now: () => Date.now() },
        logger: silentLogger(),
        spreadMs: 0,
        onFire: (_key, f) => {
          scheduler.stop();
          resolve(f);
        },
      });
      scheduler.upsert('ns/soon', soon);
      scheduler.start();
    });
    expect(fire.scheduledAt).toBe(start + 5);
    expect(Date.now()).toBeGreaterThanOrEqual(start + 5);
  });
});

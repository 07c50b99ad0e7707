import { describe, expect, it } from 'vitest';
import { hashKey, spreadOffsetMs, spreadWindowMs } from '../../agent/src/scheduler/spread.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

describe('hashKey', () => {
  it('is 32-bit unsigned and deterministic', () => {
    const h = hashKey('default/web-1');
    expect(h).toBe(hashKey('default/web-1'));
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    expect(hashKey('default/web-2')).not.toBe(h);
  });

  it('pins known values so offsets stay stable across releases', () => {
    // Changing these changes every definition's firing second; do it only on purpose.
    expect(hashKey('a')).toBe(444_641_715);
    expect(hashKey('default/redis-example')).toBe(6_501_500);
    expect(spreadOffsetMs('default/redis-example', 30_000, HOUR)).toBe(45);
  });
});

describe('spreadWindowMs', () => {
  it('is spreadMs, capped at half the smallest interval', () => {
    expect(spreadWindowMs(30_000, HOUR)).toBe(30_000);
    expect(spreadWindowMs(30_000, MINUTE)).toBe(30_000);
    expect(spreadWindowMs(300_000, MINUTE)).toBe(30_000);
    expect(spreadWindowMs(30_000, Number.POSITIVE_INFINITY)).toBe(30_000);
    expect(spreadWindowMs(0, HOUR)).toBe(0);
    expect(spreadWindowMs(30_000, Number.NaN)).toBe(0);
  });
});

describe('spreadOffsetMs', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `team-${i % 7}/check-${String(i).padStart(5, '0')}`);

  it('is stable for a key and independent of any other key', () => {
    const first = keys.map((k) => spreadOffsetMs(k, 30_000, HOUR));
    const again = [...keys].reverse().map((k) => spreadOffsetMs(k, 30_000, HOUR)).reverse();
    expect(again).toEqual(first);
  });

  it('stays within [0, window) as integer milliseconds', () => {
    for (const [spread, interval] of [
      [30_000, HOUR],
      [30_000, MINUTE],
      [1, MINUTE],
      [7, HOUR],
    ] as const) {
      const window = spreadWindowMs(spread, interval);
      for (const key of keys) {
        const offset = spreadOffsetMs(key, spread, interval);
        expect(Number.isInteger(offset)).toBe(true);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(window);
      }
    }
  });

  it('is 0 for every key when spreadMs is 0', () => {
    expect(keys.every((k) => spreadOffsetMs(k, 0, HOUR) === 0)).toBe(true);
  });

  it('spreads similar keys evenly over the window', () => {
    // 10,000 keys over 30 one-second buckets: about 333 each.
    const buckets = new Array<number>(30).fill(0);
    const distinct = new Set<number>();
    for (const key of keys) {
      const offset = spreadOffsetMs(key, 30_000, HOUR);
      distinct.add(offset);
      buckets[Math.floor(offset / 1_000)]!++;
    }
    for (const count of buckets) {
      expect(count).toBeGreaterThan(333 * 0.8);
      expect(count).toBeLessThan(333 * 1.2);
    }
    // No pile-up on a few milliseconds: most keys get a millisecond of their own.
    expect(distinct.size).toBeGreaterThan(8_000);
  });
});

import { describe, expect, it } from 'vitest';
import { intervalToCron, parseGoDuration } from '../../agent/src/khcheck/duration.js';
import { parseSchedule } from '../../agent/src/core/schedule/index.js';

describe('parseGoDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2h0m0s', 7_200_000],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '5', 'm', '5 minutes', '-5m', '1d', '.m'])('rejects %j', (text) => {
    expect(() => parseGoDuration(text)).toThrow(/is not a Go duration/);
  });
});

describe('intervalToCron', () => {
  it.each([
    ['1m', '* * * * *'],
    ['2m', '*/2 * * * *'],
    ['10m', '*/10 * * * *'],
    ['15m', '*/15 * * * *'],
    ['30m', '*/30 * * * *'],
    ['60m', '0 * * * *'],
    ['1h', '0 * * * *'],
    ['2h', '0 */2 * * *'],
    ['8h', '0 */8 * * *'],
    ['12h', '0 */12 * * *'],
    ['24h', '0 0 * * *'],
    ['168h', '0 0 * * 0'],
  ])('%s -> %s (a schedule vigil accepts)', (interval, cron) => {
    expect(intervalToCron(parseGoDuration(interval))).toBe(cron);
    expect(() => parseSchedule(cron)).not.toThrow();
  });

  it('rejects intervals that do not divide the hour, naming the nearest that work', () => {
    expect(() => intervalToCron(parseGoDuration('7m'))).toThrow(
      'no cron schedule fires exactly every 7m: a minute step must divide 60, an hour step must divide 24 (or be 168h); the nearest that can be expressed: 6m or 10m',
    );
    expect(() => intervalToCron(parseGoDuration('90m'))).toThrow(/every 1h30m.*nearest that can be expressed: 1h or 2h/);
    expect(() => intervalToCron(parseGoDuration('5h'))).toThrow(/every 5h.*4h or 6h/);
    expect(() => intervalToCron(parseGoDuration('48h'))).toThrow(/every 48h.*24h or 168h/);
  });

  it('rejects sub-minute and fractional-minute intervals', () => {
    expect(() => intervalToCron(parseGoDuration('30s'))).toThrow("30s is not a whole number of minutes; cron's resolution is one minute; the nearest that can be expressed: 1m");
    expect(() => intervalToCron(parseGoDuration('90s'))).toThrow(/90s is not a whole number of minutes/);
    expect(() => intervalToCron(0)).toThrow(/positive/);
  });
});

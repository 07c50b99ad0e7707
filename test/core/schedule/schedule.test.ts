import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../agent/src/core/schedule/index.js';
import { BruteForce, randomExpression, seededRandom } from './reference.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace(':00.000Z', 'Z'));

/** The next `count` fires after `after`, as ISO strings without seconds; stops at the first undefined. */
function fires(expression: string, timeZone: string | undefined, after: string, count: number): (string | undefined)[] {
  const schedule = parseSchedule(expression, timeZone);
  const out: (string | undefined)[] = [];
  let t = Date.parse(after);
  for (let i = 0; i < count; i++) {
    const next = schedule.next(t);
    out.push(iso(next));
    if (next === undefined) break;
    t = next;
  }
  return out;
}

/** [expression, zone, after, expected fires] */
type Vector = [string, string | undefined, string, (string | undefined)[]];

const UTC_VECTORS: Vector[] = [
  ['* * * * *', undefined, '2026-01-01T00:00:30Z', ['2026-01-01T00:01Z', '2026-01-01T00:02Z', '2026-01-01T00:03Z']],
  ['* * * * *', undefined, '2026-01-01T00:00:00Z', ['2026-01-01T00:01Z']],
  ['*/15 * * * *', undefined, '2026-01-31T23:40:00Z', ['2026-01-31T23:45Z', '2026-02-01T00:00Z', '2026-02-01T00:15Z', '2026-02-01T00:30Z']],
  [
    '5-10/2 8,20 * * *',
    undefined,
    '2026-05-01T08:06:00Z',
    ['2026-05-01T08:07Z', '2026-05-01T08:09Z', '2026-05-01T20:05Z', '2026-05-01T20:07Z', '2026-05-01T20:09Z', '2026-05-02T08:05Z'],
  ],
  ['30 5/20 * * *', undefined, '2026-06-01T00:00:00Z', ['2026-06-01T05:30Z', '2026-06-02T05:30Z']],
  ['0 12 * JAN,jul *', undefined, '2026-01-30T13:00:00Z', ['2026-01-31T12:00Z', '2026-07-01T12:00Z', '2026-07-02T12:00Z']],
  ['0 9 * * MON-FRI', undefined, '2026-01-02T10:00:00Z', ['2026-01-05T09:00Z', '2026-01-06T09:00Z', '2026-01-07T09:00Z']],
  // Both day fields restricted: OR. 2026-06-01 is a Monday; 1 July is a Wednesday.
  [
    '0 0 1,15 * 1',
    undefined,
    '2026-06-01T00:00:00Z',
    ['2026-06-08T00:00Z', '2026-06-15T00:00Z', '2026-06-22T00:00Z', '2026-06-29T00:00Z', '2026-07-01T00:00Z', '2026-07-06T00:00Z'],
  ],
  ['0 0 13 * 5', undefined, '2026-03-01T00:00:00Z', ['2026-03-06T00:00Z', '2026-03-13T00:00Z', '2026-03-20T00:00Z', '2026-03-27T00:00Z', '2026-04-03T00:00Z', '2026-04-10T00:00Z', '2026-04-13T00:00Z']],
  ['0 0 */2 * 1', undefined, '2026-06-01T00:00:00Z', ['2026-06-03T00:00Z', '2026-06-05T00:00Z', '2026-06-07T00:00Z', '2026-06-08T00:00Z', '2026-06-09T00:00Z']],
  // One day field a star (*, ?, */1): AND.
  ['0 0 * * 1', undefined, '2026-06-01T00:00:00Z', ['2026-06-08T00:00Z', '2026-06-15T00:00Z']],
  ['0 0 1 * *', undefined, '2026-06-01T00:00:00Z', ['2026-07-01T00:00Z', '2026-08-01T00:00Z']],
  ['0 0 */1 * 1', undefined, '2026-06-01T00:00:00Z', ['2026-06-08T00:00Z', '2026-06-15T00:00Z']],
  ['0 0 ? * 1', undefined, '2026-06-01T00:00:00Z', ['2026-06-08T00:00Z']],
  ['0 0 1,* * 1', undefined, '2026-06-01T00:00:00Z', ['2026-06-08T00:00Z']],
  // Month ends, year ends, leap years.
  ['0 0 31 * *', undefined, '2026-01-31T00:00:00Z', ['2026-03-31T00:00Z', '2026-05-31T00:00Z', '2026-07-31T00:00Z', '2026-08-31T00:00Z']],
  ['59 23 31 12 *', undefined, '2026-12-31T23:58:59Z', ['2026-12-31T23:59Z', '2027-12-31T23:59Z']],
  ['0 0 29 2 *', undefined, '2026-06-01T00:00:00Z', ['2028-02-29T00:00Z', '2032-02-29T00:00Z', '2036-02-29T00:00Z']],
  ['0 0 29 2 1', undefined, '2027-02-01T00:00:00Z', ['2027-02-08T00:00Z', '2027-02-15T00:00Z', '2027-02-22T00:00Z', '2028-02-07T00:00Z']],
  ['0 0 28 2 *', undefined, '2099-03-01T00:00:00Z', ['2100-02-28T00:00Z', '2101-02-28T00:00Z']],
  // Never fires, or not within 5 years (2100 is not a leap year; robfig gives up the same way).
  ['0 0 30 2 *', undefined, '2026-06-01T00:00:00Z', [undefined]],
  ['0 0 31 4,6,9,11 *', undefined, '2026-06-01T00:00:00Z', [undefined]],
  ['0 0 29 2 *', undefined, '2097-03-01T00:00:00Z', [undefined]],
  // Macros.
  ['@yearly', undefined, '2026-06-01T00:00:00Z', ['2027-01-01T00:00Z', '2028-01-01T00:00Z']],
  ['@annually', undefined, '2026-12-31T23:59:59Z', ['2027-01-01T00:00Z']],
  ['@monthly', undefined, '2026-12-15T00:00:00Z', ['2027-01-01T00:00Z', '2027-02-01T00:00Z']],
  ['@weekly', undefined, '2026-06-01T00:00:00Z', ['2026-06-07T00:00Z', '2026-06-14T00:00Z']],
  ['@daily', undefined, '2026-06-01T00:00:00Z', ['2026-06-02T00:00Z']],
  ['@midnight', undefined, '2026-06-01T23:59:59.999Z', ['2026-06-02T00:00Z']],
  ['@hourly', undefined, '2026-06-01T23:30:00Z', ['2026-06-02T00:00Z', '2026-06-02T01:00Z']],
  // Before 1970 (negative epoch ms).
  ['0 12 * * *', undefined, '1969-12-31T12:00:00Z', ['1970-01-01T12:00Z']],
];

const ZONE_VECTORS: Vector[] = [
  // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
  ['30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', ['2026-03-07T07:30Z', '2026-03-09T06:30Z', '2026-03-10T06:30Z']],
  ['0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', ['2026-03-08T06:00Z', '2026-03-08T07:00Z', '2026-03-08T08:00Z']],
  // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
  ['30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', ['2026-11-01T05:30Z', '2026-11-01T06:30Z', '2026-11-02T06:30Z']],
  ['0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', ['2026-11-01T05:00Z', '2026-11-01T06:00Z', '2026-11-01T07:00Z']],
  // London, 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
  ['30 1 * * *', 'Europe/London', '2026-03-28T12:00:00Z', ['2026-03-30T00:30Z', '2026-03-31T00:30Z']],
  ['30 1 * * *', 'Europe/London', '2026-10-24T12:00:00Z', ['2026-10-25T00:30Z', '2026-10-25T01:30Z', '2026-10-26T01:30Z']],
  // Lord Howe moves by 30 minutes: 2026-04-05 02:00 (+11) -> 01:30 (+10:30); 2026-10-04 02:00 (+10:30) -> 02:30 (+11).
  ['0 * * * *', 'Australia/Lord_Howe', '2026-04-04T13:30:00Z', ['2026-04-04T14:00Z', '2026-04-04T15:30Z', '2026-04-04T16:30Z']],
  // On 5 April 01:30 happens twice; in 2027 the 5th is a normal day at +10:30.
  ['*/30 1 5 4 *', 'Australia/Lord_Howe', '2026-04-04T00:00:00Z', ['2026-04-04T14:00Z', '2026-04-04T14:30Z', '2026-04-04T15:00Z', '2027-04-04T14:30Z', '2027-04-04T15:00Z']],
  ['15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T00:00:00Z', ['2026-10-02T15:45Z', '2026-10-04T15:15Z']],
  ['45 2 * * *', 'Australia/Lord_Howe', '2026-10-02T00:00:00Z', ['2026-10-02T16:15Z', '2026-10-03T15:45Z']],
  // Kolkata: +05:30 all year.
  ['0 9 * * *', 'Asia/Kolkata', '2026-06-30T12:00:00Z', ['2026-07-01T03:30Z', '2026-07-02T03:30Z']],
  ['30 * * * *', 'Asia/Kolkata', '2026-06-30T12:00:00Z', ['2026-06-30T13:00Z', '2026-06-30T14:00Z']],
  // Santiago changes at midnight: 2026-09-06 00:00 (-04) becomes 01:00 (-03), so midnight is skipped.
  ['0 0 * * *', 'America/Santiago', '2026-09-04T12:00:00Z', ['2026-09-05T04:00Z', '2026-09-07T03:00Z']],
  ['0 9 * * *', 'Etc/GMT+5', '2026-06-30T12:00:00Z', ['2026-06-30T14:00Z']],
  // Far future: the transition table is extended on demand. 2089-03-13 is the DST Sunday.
  ['0 2 * * 0', 'America/New_York', '2089-03-01T00:00:00Z', ['2089-03-06T07:00Z', '2089-03-20T06:00Z', '2089-03-27T06:00Z']],
  ['30 1 * * *', 'Europe/London', '2093-10-24T12:00:00Z', ['2093-10-25T00:30Z', '2093-10-25T01:30Z', '2093-10-26T01:30Z']],
];

describe('Schedule.next in UTC', () => {
  it.each(UTC_VECTORS)('%s after %s', (expression, zone, after, expected) => {
    expect(fires(expression, zone, after, expected.length)).toEqual(expected);
  });
});

describe('Schedule.next in zones with DST and odd offsets', () => {
  it.each(ZONE_VECTORS)('%s in %s after %s', (expression, zone, after, expected) => {
    expect(fires(expression, zone, after, expected.length)).toEqual(expected);
  });

  it('answers a query years ahead and then one years back', () => {
    expect(fires('0 12 1 7 *', 'Europe/Paris', '2301-01-01T00:00:00Z', 1)).toEqual(['2301-07-01T10:00Z']);
    expect(fires('0 12 1 7 *', 'Europe/Paris', '1995-01-01T00:00:00Z', 1)).toEqual(['1995-07-01T10:00Z']);
  });

  it('agrees with a minute-by-minute reference around the 2026 transitions of several zones', () => {
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kolkata'];
    const random = seededRandom(20_260_308);
    let compared = 0;
    for (const zone of zones) {
      const transitions = transitionsIn2026(zone);
      const around = transitions.length > 0 ? transitions : [Date.parse('2026-06-01T00:00:00Z')];
      for (let i = 0; i < 12; i++) {
        // Dense enough hours that most cases fire within the window.
        const expression = randomExpression(random).replace(/^(\S+) (\S+)/, (_m, minute: string) => `${minute} ${random() < 0.5 ? '*' : '0-5,22-23'}`);
        const after = around[i % around.length]! - 30 * 3_600_000 + Math.floor(random() * 48 * 60) * 60_000;
        const until = after + 3 * 86_400_000;
        const reference = new BruteForce(expression, zone).next(after, until);
        const actual = parseSchedule(expression, zone).next(after);
        const context = `${expression} in ${zone} after ${new Date(after).toISOString()}`;
        if (reference === undefined) expect(actual === undefined || actual > until, context).toBe(true);
        else expect(iso(actual), context).toBe(iso(reference));
        compared++;
      }
    }
    expect(compared).toBe(zones.length * 12);
  });
});

/** Instants in 2026 where the zone's offset changes, found by hourly sampling (to the hour, which is enough here). */
function transitionsIn2026(zone: string): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const found: number[] = [];
  let previous = format.format(Date.parse('2026-01-01T00:00:00Z')).split(' ').pop();
  for (let t = Date.parse('2026-01-01T01:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 3_600_000) {
    const offset = format.format(t).split(' ').pop();
    if (offset !== previous) found.push(t);
    previous = offset;
  }
  return found;
}

describe('Schedule.next inputs', () => {
  it('is strictly after the given instant and minute-aligned', () => {
    const schedule = parseSchedule('* * * * *');
    expect(schedule.next(Date.parse('2026-01-01T10:00:00Z'))).toBe(Date.parse('2026-01-01T10:01:00Z'));
    expect(schedule.next(Date.parse('2026-01-01T10:00:59.999Z'))).toBe(Date.parse('2026-01-01T10:01:00Z'));
  });

  it.each([Number.NaN, Infinity, -Infinity, Date.parse('0999-12-31T23:59:59Z'), Date.parse('+010000-01-01T00:00:00Z')])(
    'throws a RangeError naming the schedule for %s',
    (bad) => {
      expect(() => parseSchedule('@hourly').next(bad)).toThrow(RangeError);
      expect(() => parseSchedule('@hourly').next(bad)).toThrow('schedule "@hourly": next(afterMs)');
    },
  );
});

describe('Schedule.minIntervalMs', () => {
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  it.each<[string, number]>([
    ['* * * * *', MIN],
    ['*/15 * * * *', 15 * MIN],
    ['@hourly', HOUR],
    ['0,50 * * * *', 10 * MIN],
    ['0 */6 * * *', 6 * HOUR],
    ['0 9,17 * * *', 8 * HOUR],
    ['59 0,23 * * *', HOUR],
    ['@daily', DAY],
    ['0 9 * * MON-FRI', DAY],
    ['30 23 * * 6,0', DAY],
    ['0 9 * * 1', 7 * DAY],
    ['@weekly', 7 * DAY],
    ['0 0 1,15 * 1', DAY],
    ['@monthly', 28 * DAY],
    ['0 0 31 * *', 31 * DAY],
    ['@yearly', 365 * DAY],
    ['0 0 29 2 *', 1461 * DAY],
    ['0 0 30 2 *', Infinity],
  ])('%s: %d ms', (expression, expected) => {
    expect(parseSchedule(expression).minIntervalMs).toBe(expected);
  });

  it('ignores DST: a daily schedule is a day apart in every zone', () => {
    expect(parseSchedule('30 2 * * *', 'America/New_York').minIntervalMs).toBe(DAY);
  });
});

describe('parseSchedule interning', () => {
  it('returns the same frozen object for the same trimmed expression and zone', () => {
    const a = parseSchedule('0 */6 * * *');
    expect(parseSchedule('  0 */6 * * *\n')).toBe(a);
    expect(parseSchedule('0 */6 * * *', 'UTC')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { expression: string }).expression = 'x';
    }).toThrow(TypeError);
  });

  it('keeps zones apart and keeps each spelling as given', () => {
    const utc = parseSchedule('@hourly');
    const london = parseSchedule('@hourly', 'Europe/London');
    expect(london).not.toBe(utc);
    expect(london.timeZone).toBe('Europe/London');
    const spelled = parseSchedule('0 * * * *');
    expect(spelled.expression).toBe('0 * * * *');
    expect(utc.expression).toBe('@hourly');
    expect(spelled.normalized).toBe(utc.normalized);
    const t = Date.parse('2026-05-05T05:05:00Z');
    expect(spelled.next(t)).toBe(utc.next(t));
  });
});

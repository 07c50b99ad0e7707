import { describe, expect, it } from 'vitest';
import { ScheduleError, isValidTimeZone, parseSchedule } from '../../../agent/src/core/schedule/index.js';
import { zoneRules } from '../../../agent/src/core/schedule/zone.js';
import { seededRandom } from './reference.js';

describe('isValidTimeZone', () => {
  it.each(['UTC', 'Etc/UTC', 'GMT', 'Europe/London', 'America/New_York', 'America/Argentina/Buenos_Aires', 'America/Port-au-Prince', 'Etc/GMT+5', 'Etc/GMT-14', 'Asia/Kolkata', 'Asia/Calcutta', 'US/Eastern'])(
    'accepts %s',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(true);
    },
  );

  it.each(['', 'Local', 'local', 'Mars/Olympus', 'america/new_york', 'utc', 'etc/UTC', '+05:30', 'Europe/../London', 'Europe/London/', '/Europe/London', 'Europe//London', 'Etc/GMT+13', 'America/Indiana/Indianapolis_X', '-Europe', 'Europe/London '])(
    'rejects %j',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(false);
    },
  );
});

describe('parseSchedule time zones', () => {
  it.each<[string, string]>([
    ['', 'time zone must not be empty'],
    ['Local', '"Local" is not allowed: name an explicit IANA time zone such as "Europe/London" (Kubernetes rejects "Local")'],
    ['Mars/Olympus', '"Mars/Olympus" is not a known IANA time zone'],
    ['america/new_york', '"america/new_york" is not a known IANA time zone (names are case-sensitive, e.g. "America/New_York")'],
    ['../../etc/passwd', '"../../etc/passwd" is not a known IANA time zone'],
  ])('rejects %j with a timeZone error', (zone, fragment) => {
    let caught: unknown;
    try {
      parseSchedule('@hourly', zone);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScheduleError);
    expect((caught as ScheduleError).field).toBe('timeZone');
    expect((caught as ScheduleError).message).toContain(fragment);
  });

  it('defaults to UTC and keeps the name as given', () => {
    expect(parseSchedule('@daily').timeZone).toBe('UTC');
    expect(parseSchedule('@daily', 'Asia/Kolkata').timeZone).toBe('Asia/Kolkata');
  });
});

/** Offset (ms) at an instant according to Intl's longOffset name, e.g. "GMT+05:30". */
function intlOffset(zone: string, instant: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).format(instant).split(' ').pop()!;
  const match = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name);
  if (!match) throw new Error(`unexpected offset name ${name}`);
  if (match[1] === undefined) return 0;
  const ms = (Number(match[2]) * 60 + Number(match[3])) * 60_000;
  return match[1] === '-' ? -ms : ms;
}

describe('zone offset tables', () => {
  const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'Asia/Tehran', 'Africa/Casablanca', 'Asia/Kolkata'];

  it.each(zones)('%s: offsets agree with Intl at random instants from 1950 to 2100', (zone) => {
    const rules = zoneRules(zone);
    const random = seededRandom(zone.length * 7919);
    const from = Date.parse('1950-01-01T00:00:00Z');
    const to = Date.parse('2100-01-01T00:00:00Z');
    for (let i = 0; i < 150; i++) {
      const t = Math.floor((from + random() * (to - from)) / 1000) * 1000;
      expect(rules.segmentAt(t).offsetMs, `${zone} at ${new Date(t).toISOString()}`).toBe(intlOffset(zone, t));
    }
  });

  it('finds the 2026 New York transitions to the second', () => {
    const rules = zoneRules('America/New_York');
    const spring = rules.segmentAt(Date.parse('2026-03-08T07:00:00Z'));
    expect(spring.start).toBe(Date.parse('2026-03-08T07:00:00Z'));
    expect(spring.offsetMs).toBe(-4 * 3_600_000);
    expect(spring.end).toBe(Date.parse('2026-11-01T06:00:00Z'));
    expect(rules.segmentAt(spring.start - 1).offsetMs).toBe(-5 * 3_600_000);
  });

  it('gives fixed zones a single endless segment', () => {
    const segment = zoneRules('Etc/GMT+5').segmentAt(0);
    expect(segment).toEqual({ start: -Infinity, end: Infinity, offsetMs: -5 * 3_600_000 });
  });
});

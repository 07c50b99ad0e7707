/**
 * Time zones: validation with the rules of Kubernetes CronJob `spec.timeZone`, and UTC
 * offsets as segments of constant offset. UTC and the fixed-offset zones need no Intl after
 * setup; other zones get a lazily built table of offset transitions per calendar year,
 * discovered with Intl (sampled daily, each change located to the second).
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, civilFromDays, daysFromCivil } from './calendar.js';
import { ScheduleError, quote } from './errors.js';

/** A span of time [start, end) with one UTC offset (local minus UTC, ms). */
export interface OffsetSegment {
  readonly start: number;
  readonly end: number;
  readonly offsetMs: number;
}

/** The UTC offsets of one zone over time. */
export interface ZoneRules {
  /** The segment that contains `instant`. */
  segmentAt(instant: number): OffsetSegment;
}

/** K8s: each `/`-separated part of a zone name (IANA naming rules plus legacy digits and +). */
const NAME_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;
/** Zones whose offset never changes (Intl is asked once, for the offset). */
const FIXED_NAME = /^(Etc\/)?(UTC|UCT|GMT|GMT0|GMT[+-]\d{1,2}|Universal|Zulu|Greenwich)$/;

/** Rules of every zone accepted so far (valid names only, so the map stays small). */
const zones = new Map<string, ZoneRules>([['UTC', fixedRules(0)]]);

/** Why `name` is not an acceptable `spec.timeZone`, or undefined when it is. */
function timeZoneProblem(name: string): string | undefined {
  if (name === '') return 'time zone must not be empty (omit it for UTC)';
  if (name.toLowerCase() === 'local') {
    return `${quote(name)} is not allowed: name an explicit IANA time zone such as "Europe/London" (Kubernetes rejects "Local")`;
  }
  const unknown = `${quote(name)} is not a known IANA time zone`;
  for (const part of name.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !NAME_PART.test(part)) return unknown;
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return unknown;
  }
  // Intl ignores case, Kubernetes (Go's time.LoadLocation) does not.
  if (name.split('/').some((part) => !/^[A-Z]/.test(part)) || (resolved !== name && resolved.toLowerCase() === name.toLowerCase())) {
    return `${unknown} (names are case-sensitive, e.g. "America/New_York")`;
  }
  return undefined;
}

/**
 * True when `name` is an IANA zone Kubernetes and vigil both accept: not empty, not
 * "Local", K8s name characters, known to Node's Intl, spelled with the right case.
 */
export function isValidTimeZone(name: string): boolean {
  return zones.has(name) || timeZoneProblem(name) === undefined;
}

/** The offset rules of a zone (cached); throws ScheduleError (field `timeZone`) for an unacceptable name. */
export function zoneRules(name: string): ZoneRules {
  const cached = zones.get(name);
  if (cached) return cached;
  const problem = timeZoneProblem(name);
  if (problem !== undefined) throw new ScheduleError('timeZone', problem);
  const offsets = new IntlOffsets(name);
  const rules = FIXED_NAME.test(name) ? fixedRules(offsets.at(0)) : new TransitionTable(offsets);
  zones.set(name, rules);
  return rules;
}

function fixedRules(offsetMs: number): ZoneRules {
  const only: OffsetSegment = Object.freeze({ start: -Infinity, end: Infinity, offsetMs });
  return { segmentAt: () => only };
}

/** Reads UTC offsets from Intl, to the second. */
class IntlOffsets {
  private readonly format: Intl.DateTimeFormat;

  constructor(readonly zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset (ms) in force at `instant` (whole seconds are enough: offsets change on second boundaries). */
  at(instant: number): number {
    const text = this.format.format(instant);
    // en-US, h23: "M/D/YYYY, HH:MM:SS"; read the six numbers whatever the separators.
    const n = text.match(/\d+/g)?.map(Number);
    if (n?.length !== 6) throw new Error(`time zone ${quote(this.zone)}: cannot read the local time from Intl output ${quote(text)}`);
    const [month, day, year, hour, minute, second] = n as [number, number, number, number, number, number];
    const local = daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1000;
    return local - Math.floor(instant / 1000) * 1000;
  }
}

const SECOND_MS = 1000;

/** Offset segments of a zone with transitions, built one calendar year (UTC) at a time, on demand. */
class TransitionTable implements ZoneRules {
  private readonly years = new Map<number, readonly OffsetSegment[]>();
  private last: OffsetSegment = { start: 0, end: 0, offsetMs: 0 };

  constructor(private readonly offsets: IntlOffsets) {}

  segmentAt(instant: number): OffsetSegment {
    if (instant >= this.last.start && instant < this.last.end) return this.last;
    const year = civilFromDays(Math.floor(instant / DAY_MS)).year;
    let segments = this.years.get(year);
    if (!segments) {
      segments = this.buildYear(year);
      this.years.set(year, segments);
    }
    const found = segments.find((s) => instant < s.end)!;
    this.last = found;
    return found;
  }

  /**
   * Samples the offset once a day and binary-searches each change to the second. Two changes
   * less than a day apart that cancel out would go unseen; no zone has had such rules.
   */
  private buildYear(year: number): readonly OffsetSegment[] {
    const start = daysFromCivil(year, 1, 1) * DAY_MS;
    const end = daysFromCivil(year + 1, 1, 1) * DAY_MS;
    const lastProbe = end - SECOND_MS;
    const segments: OffsetSegment[] = [];
    let segmentStart = start;
    let offset = this.offsets.at(start);
    let known = start; // offsets.at(known) === offset
    while (known < lastProbe) {
      const probe = Math.min(known + DAY_MS, lastProbe);
      while (this.offsets.at(probe) !== offset) {
        let lo = known;
        let hi = probe;
        while (hi - lo > SECOND_MS) {
          const mid = lo + Math.floor((hi - lo) / (2 * SECOND_MS)) * SECOND_MS;
          if (this.offsets.at(mid) === offset) lo = mid;
          else hi = mid;
        }
        segments.push(Object.freeze({ start: segmentStart, end: hi, offsetMs: offset }));
        segmentStart = hi;
        offset = this.offsets.at(hi);
        known = hi;
      }
      known = probe;
    }
    segments.push(Object.freeze({ start: segmentStart, end, offsetMs: offset }));
    return segments;
  }
}

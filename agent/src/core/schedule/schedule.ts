/**
 * `parseSchedule`: the one entry point. Schedules are interned, so many definitions that
 * share a schedule share one frozen object, and the compiled fields are shared by every
 * spelling of the same 5-field form (`@hourly` and `0 * * * *`).
 */
import { DAY_MS, MINUTE_MS, daysFromCivil } from './calendar.js';
import { quote } from './errors.js';
import { parseExpression } from './expression.js';
import { minIntervalMs } from './interval.js';
import { CronMatcher, SEARCH_YEARS } from './matcher.js';
import { zoneRules, type ZoneRules } from './zone.js';

export interface Schedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** 5-field form, macros expanded (`@hourly` -> `0 * * * *`), fields separated by single spaces. */
  readonly normalized: string;
  /** IANA name actually used ("UTC" when none was given). */
  readonly timeZone: string;
  /**
   * First fire instant (epoch ms, minute-aligned) strictly after `afterMs`: the first instant
   * whose local wall clock in `timeZone` matches the fields. Wall times skipped by a DST change
   * do not fire; wall times that occur twice fire twice. Undefined if it never fires within
   * 5 years (e.g. `0 0 30 2 *`). Throws RangeError for an instant outside years 1000-9999.
   */
  next(afterMs: number): number | undefined;
  /** Smallest gap between consecutive fires in wall-clock terms (ms); Infinity if it never fires. */
  readonly minIntervalMs: number;
}

/** The UTC zone used when a definition names none (as a kube-controller-manager running in UTC). */
export const DEFAULT_TIME_ZONE = 'UTC';

/** Entries kept per cache; beyond this, schedules still work but are no longer shared. */
const MAX_INTERNED = 100_000;

const MIN_INSTANT = daysFromCivil(1000, 1, 1) * DAY_MS;
const MAX_INSTANT = daysFromCivil(10_000, 1, 1) * DAY_MS - 1;
/** The zone walk gives up after this long even if wall matches keep landing in DST gaps. */
const GIVE_UP_MS = (SEARCH_YEARS + 1) * 366 * DAY_MS;

interface Compiled {
  readonly matcher: CronMatcher;
  readonly minIntervalMs: number;
}

class CronSchedule implements Schedule {
  readonly minIntervalMs: number;
  private readonly matcher: CronMatcher;

  constructor(
    readonly expression: string,
    readonly normalized: string,
    readonly timeZone: string,
    compiled: Compiled,
    private readonly zone: ZoneRules,
  ) {
    this.matcher = compiled.matcher;
    this.minIntervalMs = compiled.minIntervalMs;
    Object.freeze(this);
  }

  next(afterMs: number): number | undefined {
    if (!(afterMs >= MIN_INSTANT && afterMs <= MAX_INSTANT)) {
      throw new RangeError(`schedule ${quote(this.expression)}: next(afterMs) needs an epoch-ms instant in years 1000-9999, got ${afterMs}`);
    }
    let t = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const giveUp = t + GIVE_UP_MS;
    // Walk the zone's constant-offset segments: the first wall match inside the segment it
    // was computed for is the answer; one beyond it means the next segment must be searched.
    while (t < giveUp) {
      const segment = this.zone.segmentAt(t);
      const wall = this.matcher.nextWallMatch(t + segment.offsetMs);
      if (wall === undefined) return undefined;
      const fire = wall - segment.offsetMs;
      if (fire < segment.end) return fire;
      t = segment.end;
    }
    return undefined;
  }
}

const schedules = new Map<string, Schedule>();
const compiledByNormalized = new Map<string, Compiled>();

/**
 * Parses a `spec.schedule` (and optional `spec.timeZone`) with Kubernetes CronJob rules.
 * The same trimmed expression and zone always return the same frozen object. Throws
 * ScheduleError with a user-facing message and the field it concerns.
 */
export function parseSchedule(expression: string, timeZone?: string): Schedule {
  const trimmed = expression.trim();
  const zoneName = timeZone ?? DEFAULT_TIME_ZONE;
  const key = `${zoneName}\n${trimmed}`;
  const cached = schedules.get(key);
  if (cached) return cached;

  const { normalized, fields } = parseExpression(trimmed);
  const zone = zoneRules(zoneName);
  let compiled = compiledByNormalized.get(normalized);
  if (!compiled) {
    const matcher = new CronMatcher(fields);
    compiled = { matcher, minIntervalMs: minIntervalMs(matcher) };
    if (compiledByNormalized.size < MAX_INTERNED) compiledByNormalized.set(normalized, compiled);
  }
  const schedule = new CronSchedule(trimmed, normalized, zoneName, compiled, zone);
  if (schedules.size < MAX_INTERNED) schedules.set(key, schedule);
  return schedule;
}

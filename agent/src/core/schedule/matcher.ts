/**
 * Compiled cron fields and the wall-clock search: the first matching minute at or after
 * a wall time, found by skipping whole months, days and hours (never minute by minute).
 * Wall times are epoch-ms values read as if the local clock were UTC.
 */
import { nextSetBit, rangeMask } from './bits.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, civilFromDays, daysFromCivil, daysInMonth, weekday } from './calendar.js';
import type { CronFields } from './expression.js';

/** How far the search looks, in calendar years after the start (robfig/cron gives up after 5 too). */
export const SEARCH_YEARS = 5;

/** VALID_DAYS[n]: the day-of-month bits 1..n. */
const VALID_DAYS = [28, 29, 30, 31].reduce<number[]>((table, n) => {
  table[n] = rangeMask(1, n);
  return table;
}, []);

export class CronMatcher {
  /** Minutes 0-31 and 32-59 (bit i = minute 32 + i). */
  readonly minuteLo: number;
  readonly minuteHi: number;
  readonly hours: number;
  /** Months, bits 1-12. */
  readonly months: number;
  private readonly firstMonth: number;
  private readonly daysOfMonth: number;
  /** Day-of-month and day-of-week combine with AND when either is a star (robfig), else OR. */
  private readonly andDays: boolean;
  /** For each weekday of the 1st of a month: the days of that month whose weekday is in the day-of-week field. */
  private readonly weekdayDays: readonly number[];

  constructor(fields: CronFields) {
    this.minuteLo = fields.minute.lo;
    this.minuteHi = fields.minute.hi;
    this.hours = fields.hour.lo;
    this.months = fields.month.lo;
    this.firstMonth = nextSetBit(this.months, 1);
    this.daysOfMonth = fields.dayOfMonth.lo;
    this.andDays = fields.dayOfMonth.star || fields.dayOfWeek.star;
    const dow = fields.dayOfWeek.lo;
    this.weekdayDays = [0, 1, 2, 3, 4, 5, 6].map((first) => {
      let mask = 0;
      for (let d = 1; d <= 31; d++) if ((dow >>> ((first + d - 1) % 7)) & 1) mask |= 1 << d;
      return mask;
    });
  }

  /** The days (bits 1-31) of a month (1-12) that match the day-of-month and day-of-week fields. */
  monthDays(year: number, month: number): number {
    const byWeekday = this.weekdayDays[weekday(daysFromCivil(year, month, 1))]!;
    const days = this.andDays ? this.daysOfMonth & byWeekday : this.daysOfMonth | byWeekday;
    return days & VALID_DAYS[daysInMonth(year, month)]!;
  }

  /** Smallest matching minute >= `minute` within an hour, or -1. */
  nextMinute(minute: number): number {
    if (minute < 32) {
      const lo = nextSetBit(this.minuteLo, minute);
      if (lo >= 0) return lo;
    }
    const hi = nextSetBit(this.minuteHi, Math.max(0, minute - 32));
    return hi < 0 ? -1 : hi + 32;
  }

  /**
   * The first wall time (minute-aligned) >= `wallMs` that matches every field, or undefined
   * when there is none within SEARCH_YEARS calendar years.
   */
  nextWallMatch(wallMs: number): number | undefined {
    const startDays = Math.floor(wallMs / DAY_MS);
    const minuteOfDay = Math.ceil((wallMs - startDays * DAY_MS) / MINUTE_MS);
    let { year, month, day } = civilFromDays(startDays);
    // minuteOfDay may be 1440 (the next midnight): hour 24 matches nothing and moves to the next day.
    let hour = Math.floor(minuteOfDay / 60);
    let minute = minuteOfDay % 60;
    const lastYear = year + SEARCH_YEARS;
    for (;;) {
      if (year > lastYear) return undefined;
      if (((this.months >>> month) & 1) === 0) {
        const next = month < 12 ? nextSetBit(this.months, month + 1) : -1;
        if (next < 0) {
          year++;
          month = this.firstMonth;
        } else {
          month = next;
        }
        day = 1;
        hour = 0;
        minute = 0;
        continue;
      }
      const d = nextSetBit(this.monthDays(year, month), day);
      if (d < 0) {
        month++; // 13 matches no month and rolls over to the next year above
        day = 1;
        hour = 0;
        minute = 0;
        continue;
      }
      if (d !== day) {
        day = d;
        hour = 0;
        minute = 0;
      }
      const h = nextSetBit(this.hours, hour);
      if (h < 0) {
        day++;
        hour = 0;
        minute = 0;
        continue;
      }
      if (h !== hour) {
        hour = h;
        minute = 0;
      }
      const m = this.nextMinute(minute);
      if (m < 0) {
        hour++;
        minute = 0;
        continue;
      }
      return daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + m * MINUTE_MS;
    }
  }
}

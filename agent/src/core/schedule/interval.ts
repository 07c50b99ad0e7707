/** The smallest wall-clock gap between two consecutive fires of a schedule. */
import { maskValues, nextSetBit } from './bits.js';
import { MINUTE_MS, daysFromCivil } from './calendar.js';
import type { CronMatcher } from './matcher.js';

const MINUTES_PER_DAY = 1440;

/**
 * Between 1901 and 2099 the Gregorian calendar repeats every 28 years, so the day gaps of
 * 2001-2030 (one cycle plus the turn of the next) are all the day gaps there are, except the
 * longer ones around 2100, which has no 29 February.
 */
const SCAN_FIRST_YEAR = 2001;
const SCAN_LAST_YEAR = 2030;

/**
 * Smallest gap (ms) between consecutive fires in wall-clock terms (DST ignored), e.g. 60_000
 * for `* * * * *`; Infinity for a schedule that never fires, such as `0 0 30 2 *`.
 */
export function minIntervalMs(matcher: CronMatcher): number {
  const dayGap = minDayGap(matcher);
  if (dayGap === Infinity) return Infinity;
  const minutes = [...maskValues(matcher.minuteLo), ...maskValues(matcher.minuteHi).map((m) => m + 32)];
  const hours = maskValues(matcher.hours);
  const firstMinute = minutes[0]!;
  const lastMinute = minutes[minutes.length - 1]!;
  let best = Infinity;
  for (let i = 1; i < minutes.length; i++) best = Math.min(best, minutes[i]! - minutes[i - 1]!);
  for (let i = 1; i < hours.length; i++) best = Math.min(best, (hours[i]! - hours[i - 1]!) * 60 - lastMinute + firstMinute);
  const firstOfDay = hours[0]! * 60 + firstMinute;
  const lastOfDay = hours[hours.length - 1]! * 60 + lastMinute;
  best = Math.min(best, dayGap * MINUTES_PER_DAY - lastOfDay + firstOfDay);
  return best * MINUTE_MS;
}

/** Smallest number of days between two consecutive matching days; Infinity if no day ever matches. */
function minDayGap(matcher: CronMatcher): number {
  let best = Infinity;
  let previous: number | undefined;
  for (let year = SCAN_FIRST_YEAR; year <= SCAN_LAST_YEAR; year++) {
    for (let month = nextSetBit(matcher.months, 1); month >= 0; month = nextSetBit(matcher.months, month + 1)) {
      const days = matcher.monthDays(year, month);
      const beforeFirst = daysFromCivil(year, month, 1) - 1;
      for (let d = nextSetBit(days, 1); d >= 0; d = nextSetBit(days, d + 1)) {
        const day = beforeFirst + d;
        if (previous !== undefined) {
          best = Math.min(best, day - previous);
          if (best === 1) return 1;
        }
        previous = day;
      }
    }
  }
  return best;
}

import { describe, expect, it } from 'vitest';
import { ScheduleError, parseSchedule } from '../../../agent/src/core/schedule/index.js';

/** [input, expected normalized form] */
const ACCEPTED: [string, string][] = [
  ['* * * * *', '* * * * *'],
  ['  */15   *  * * *  ', '*/15 * * * *'],
  ['0\t9 * *\tMON-FRI', '0 9 * * MON-FRI'],
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
  ['0 */6 * * *', '0 */6 * * *'],
  ['5/15 * * * *', '5/15 * * * *'],
  ['0-30/10 0-23/2 * * *', '0-30/10 0-23/2 * * *'],
  ['0 0 1,15 * 1', '0 0 1,15 * 1'],
  ['0 12 * JAN,jul,Dec *', '0 12 * JAN,jul,Dec *'],
  ['0 0 * feb-APR sun,SAT', '0 0 * feb-APR sun,SAT'],
  ['? ? ? ? ?', '? ? ? ? ?'],
  ['*/1 * */1 * */1', '*/1 * */1 * */1'],
  ['59 23 31 12 6', '59 23 31 12 6'],
  ['00 07 01 01 00', '00 07 01 01 00'],
  ['*/100 * * * *', '*/100 * * * *'],
  ['0 0 * * MON/2', '0 0 * * MON/2'],
  ['0 0 30 2 *', '0 0 30 2 *'],
];

/** [input, message fragment] */
const REJECTED: [string, string][] = [
  ['', 'schedule is empty: expected 5 fields (minute hour day-of-month month day-of-week)'],
  ['   ', 'schedule is empty'],
  ['@every 5m', '"@every 5m" is not supported by Kubernetes CronJobs; use a 5-field expression such as */5 * * * *'],
  ['@every', '"@every" is not supported by Kubernetes CronJobs'],
  ['@reboot', '"@reboot" is not supported by Kubernetes CronJobs'],
  ['@HOURLY', '"@HOURLY" is not a known macro (macros are lowercase: @hourly)'],
  ['@hourly 5', '"@hourly 5" is not a known macro'],
  ['@fortnightly', 'use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
  ['CRON_TZ=Europe/London 0 * * * *', '"CRON_TZ=Europe/London 0 * * * *": a time zone prefix is not allowed in the schedule; use spec.timeZone instead'],
  ['TZ=UTC @hourly', 'use spec.timeZone instead'],
  ['0 0 * * * *', '"0 0 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6'],
  ['0 0 0 * * * 2026', 'expected 5 fields (minute hour day-of-month month day-of-week), got 7'],
  ['* * * *', 'got 4'],
  ['60 * * * *', 'minute "60": value 60 out of range 0-59'],
  ['* 24 * * *', 'hour "24": value 24 out of range 0-23'],
  ['* * 0 * *', 'day-of-month "0": value 0 out of range 1-31'],
  ['* * 32 * *', 'day-of-month "32": value 32 out of range 1-31'],
  ['* * * 13 *', 'month "13": value 13 out of range 1-12'],
  ['* * * 0 *', 'month "0": value 0 out of range 1-12'],
  ['* * * * 7', 'day-of-week "7": value 7 out of range 0-6 (use 0 or SUN for Sunday)'],
  ['* * * * 8', 'day-of-week "8": value 8 out of range 0-6'],
  ['* * * * 5-7', 'day-of-week "5-7": value 7 out of range 0-6'],
  ['*/0 * * * *', 'minute "*/0": step must be at least 1 in "*/0"'],
  ['0 1-5/0 * * *', 'hour "1-5/0": step must be at least 1'],
  ['5-2 * * * *', 'minute "5-2": range "5-2" starts after it ends'],
  ['0 0 * * FRI-MON', 'day-of-week "FRI-MON": range "FRI-MON" starts after it ends'],
  ['1,,2 * * * *', 'minute "1,,2": empty list item'],
  ['1, * * * *', 'minute "1,": empty list item'],
  ['* * L * *', 'day-of-month "L": "L" (last day) is not supported by Kubernetes CronJobs'],
  ['* * * * 5L', 'day-of-week "5L": "L" (last day) is not supported'],
  ['* * 15W * *', 'day-of-month "15W": "W" (nearest weekday) is not supported'],
  ['* * LW * *', '"L" (last day) is not supported'],
  ['* * * * 1#2', 'day-of-week "1#2": "#" (nth weekday of the month) is not supported'],
  ['H * * * *', 'minute "H": "H" (hashed value) is not supported'],
  ['H(0-29) * * * *', '"H" (hashed value) is not supported'],
  ['*-5 * * * *', 'minute "*-5": "*-5": * and ? cannot be part of a range'],
  ['1/2/3 * * * *', 'minute "1/2/3": "1/2/3" has more than one "/"'],
  ['1-2-3 * * * *', 'minute "1-2-3": "1-2-3" has more than one "-"'],
  ['*/x * * * *', 'minute "*/x": step "x" is not a number'],
  ['/5 * * * *', 'minute "/5": missing value in "/5"'],
  ['-1 * * * *', 'minute "-1": missing value in "-1"'],
  ['* * * * MON-', 'day-of-week "MON-": missing value in "MON-"'],
  ['foo * * * *', 'minute "foo": "foo" is not a valid value (expected 0-59)'],
  ['MON * * * *', 'minute "MON": "MON" is not a valid value (expected 0-59)'],
  ['* * * JANUARY *', 'month "JANUARY": "JANUARY" is not a valid value (expected 1-12 or JAN-DEC)'],
  ['* * * * SUNDAY', 'day-of-week "SUNDAY": "SUNDAY" is not a valid value (expected 0-6 or SUN-SAT)'],
  ['+5 * * * *', 'minute "+5": "+5" is not a valid value'],
];

function scheduleError(run: () => unknown): ScheduleError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScheduleError) return error;
    throw error;
  }
  throw new Error('expected a ScheduleError');
}

describe('parseSchedule: accepted expressions', () => {
  it.each(ACCEPTED)('%j normalizes to %j', (input, normalized) => {
    const schedule = parseSchedule(input);
    expect(schedule.normalized).toBe(normalized);
    expect(schedule.expression).toBe(input.trim());
    expect(schedule.timeZone).toBe('UTC');
  });
});

describe('parseSchedule: rejected expressions', () => {
  it.each(REJECTED)('%j is rejected: %s', (input, fragment) => {
    const error = scheduleError(() => parseSchedule(input));
    expect(error.field).toBe('schedule');
    expect(error.name).toBe('ScheduleError');
    expect(error.message).toContain(fragment);
  });

  it('quotes long input shortened and with control characters escaped', () => {
    const error = scheduleError(() => parseSchedule(`${'1,'.repeat(100)}x * * * *`));
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('..."');
    expect(scheduleError(() => parseSchedule('@every\n5m')).message).toContain('"@every\\n5m"');
  });

  it('reports the schedule before the time zone when both are wrong', () => {
    expect(scheduleError(() => parseSchedule('@every 5m', 'Mars/Olympus')).field).toBe('schedule');
  });
});

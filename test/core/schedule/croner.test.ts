/**
 * Cross-check against croner (an independent evaluator) on random expressions in UTC.
 *
 * One documented difference is bridged rather than skipped: robfig (and so Kubernetes)
 * treats a day field as a star, which makes day-of-month and day-of-week combine with AND,
 * when any list item is `*` or `?` with step 1 (`?`, `* /1`, `1,*`); croner only when the field
 * is exactly `*`. Such a field selects every value either way, so it is passed to croner as
 * `*`, which gives croner robfig's rule. `?` is passed as `*` too. A second difference:
 * croner reads SUN at the end of a range as 7 (`0-SUN` = every day), robfig as 0 (`0-SUN` =
 * Sunday), so SUN there is passed as 0. Numeric-prefix steps (`5/15` = `5-59/15`) need
 * croner's `sloppyRanges`.
 */
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../agent/src/core/schedule/index.js';
import { randomExpression, seededRandom } from './reference.js';

function isRobfigStar(field: string): boolean {
  return field.split(',').some((item) => {
    const [base, step] = item.split('/');
    return (base === '*' || base === '?') && (step === undefined || Number(step) === 1);
  });
}

/** The same schedule in croner's dialect. */
function forCroner(expression: string): string {
  const fields = expression.split(' ').map((field) => (isRobfigStar(field) ? '*' : field.replaceAll('?', '*')));
  fields[4] = fields[4]!.replace(/-sun\b/gi, '-0');
  return fields.join(' ');
}

describe('cross-check with croner in UTC', () => {
  it('agrees on the next 3 fires of 3000 random expressions from random instants', () => {
    const random = seededRandom(1_234_567);
    const from = Date.parse('1990-01-01T00:00:00Z');
    const to = Date.parse('2090-01-01T00:00:00Z');
    let starRule = 0;
    let orDays = 0;
    for (let i = 0; i < 3000; i++) {
      const expression = randomExpression(random);
      const translated = forCroner(expression);
      const [, , dom, , dow] = expression.split(' ') as [string, string, string, string, string];
      if ([dom, dow].some((field) => field !== '*' && isRobfigStar(field))) starRule++;
      if (!isRobfigStar(dom) && !isRobfigStar(dow)) orDays++;
      const after = Math.floor(from + random() * (to - from));
      const cron = new Cron(translated, { timezone: 'UTC', paused: true, mode: '5-part', sloppyRanges: true });
      const expected = cron.nextRuns(3, new Date(after)).map((d) => d.toISOString());
      const schedule = parseSchedule(expression);
      const actual: string[] = [];
      for (let t = schedule.next(after); t !== undefined && actual.length < 3; t = schedule.next(t)) actual.push(new Date(t).toISOString());
      expect(actual, `${expression} (croner: ${translated}) after ${new Date(after).toISOString()}`).toEqual(expected);
    }
    // Both day-combination rules, and the star rule's corner cases, must actually be compared.
    expect(starRule).toBeGreaterThan(100);
    expect(orDays).toBeGreaterThan(100);
  });
});

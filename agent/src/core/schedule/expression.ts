/**
 * Parsing of a whole `spec.schedule` string: exactly what Kubernetes CronJob validation
 * (robfig/cron v3 ParseStandard) accepts, minus `@every`, which Kubernetes does not document,
 * and with clear messages for the forms people bring from other crons.
 */
import { ScheduleError, quote } from './errors.js';
import { FIELD_SPECS, parseField, type FieldValues } from './fields.js';

/** The macros robfig accepts (exact lowercase spelling) and their 5-field forms. */
const MACROS: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

/** The five parsed fields of an expression. */
export interface CronFields {
  readonly minute: FieldValues;
  readonly hour: FieldValues;
  readonly dayOfMonth: FieldValues;
  readonly month: FieldValues;
  readonly dayOfWeek: FieldValues;
}

export interface ParsedExpression {
  /** The 5-field form: macros expanded, fields separated by single spaces. */
  readonly normalized: string;
  readonly fields: CronFields;
}

const FIELD_LIST = 'minute hour day-of-month month day-of-week';
const MACRO_LIST = [...MACROS.keys()].join(', ');

/** Parses a trimmed schedule expression; throws ScheduleError (field `schedule`) with a user-facing message. */
export function parseExpression(expression: string): ParsedExpression {
  const fail = (message: string): never => {
    throw new ScheduleError('schedule', message);
  };
  if (expression === '') fail(`schedule is empty: expected 5 fields (${FIELD_LIST}) or a macro such as @hourly`);
  if (/(^|\s)(CRON_)?TZ=/.test(expression)) {
    fail(`${quote(expression)}: a time zone prefix is not allowed in the schedule; use spec.timeZone instead`);
  }
  const normalized = expression.startsWith('@') ? expandMacro(expression, fail) : expression.split(/\s+/).join(' ');
  const texts = normalized.split(' ');
  if (texts.length !== 5) {
    const hint = texts.length === 6 || texts.length === 7 ? ' (Kubernetes CronJobs have no seconds or year field)' : '';
    fail(`${quote(expression)}: expected 5 fields (${FIELD_LIST}), got ${texts.length}${hint}`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = FIELD_SPECS.map((spec, i) => parseField(texts[i]!, spec)) as [
    FieldValues,
    FieldValues,
    FieldValues,
    FieldValues,
    FieldValues,
  ];
  return { normalized, fields: { minute, hour, dayOfMonth, month, dayOfWeek } };
}

function expandMacro(expression: string, fail: (message: string) => never): string {
  const expanded = MACROS.get(expression);
  if (expanded !== undefined) return expanded;
  if (/^@every(\s|$)/i.test(expression)) {
    return fail(`${quote(expression)} is not supported by Kubernetes CronJobs; use a 5-field expression such as */5 * * * *`);
  }
  if (/^@reboot$/i.test(expression)) {
    return fail(`${quote(expression)} is not supported by Kubernetes CronJobs; use a 5-field expression or one of ${MACRO_LIST}`);
  }
  const lower = MACROS.has(expression.toLowerCase()) ? ` (macros are lowercase: ${expression.toLowerCase()})` : '';
  return fail(`${quote(expression)} is not a known macro${lower}; use one of ${MACRO_LIST} or a 5-field expression`);
}

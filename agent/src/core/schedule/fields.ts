/**
 * One field of a 5-field cron expression, parsed with the grammar of robfig/cron v3
 * (what Kubernetes CronJobs accept): `*`, `?`, `n`, `a-b`, comma lists, and steps on a
 * star, a range or a single value (`n/s` means `n-max/s`). Month and day-of-week names
 * are case-insensitive. Stricter than robfig in two corners: empty list items (`1,,2`)
 * and ranges starting with a star (`*-5`, which robfig reads as `*`) are errors.
 */
import { ScheduleError, quote } from './errors.js';

export interface FieldSpec {
  /** Name used in messages, e.g. `day-of-week`. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Lowercase names and their values (month and day-of-week only). */
  readonly names?: ReadonlyMap<string, number>;
  /** How the allowed values are described in messages, e.g. `0-6 or SUN-SAT`. */
  readonly allowed: string;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The five fields, in expression order. */
export const FIELD_SPECS: readonly [FieldSpec, FieldSpec, FieldSpec, FieldSpec, FieldSpec] = [
  { name: 'minute', min: 0, max: 59, allowed: '0-59' },
  { name: 'hour', min: 0, max: 23, allowed: '0-23' },
  { name: 'day-of-month', min: 1, max: 31, allowed: '1-31' },
  { name: 'month', min: 1, max: 12, names: new Map(MONTH_NAMES.map((n, i) => [n, i + 1])), allowed: '1-12 or JAN-DEC' },
  { name: 'day-of-week', min: 0, max: 6, names: new Map(DAY_NAMES.map((n, i) => [n, i])), allowed: '0-6 or SUN-SAT' },
];

/** The values a field selects, as a 64-bit set split in two masks, plus robfig's "star" flag. */
export interface FieldValues {
  /** Values 0-31. */
  readonly lo: number;
  /** Values 32-63 (bit i stands for value 32 + i). */
  readonly hi: number;
  /**
   * True when some list item is `*` or `?` with step 1 (robfig's starBit). For the day fields
   * this decides how day-of-month and day-of-week combine: AND if either is a star, else OR.
   */
  readonly star: boolean;
}

const DIGITS = /^\d+$/;
const NOT_IN_K8S = 'is not supported by Kubernetes CronJobs';

/** Parses one field; throws ScheduleError naming the field, e.g. `day-of-week "8": value 8 out of range 0-6`. */
export function parseField(text: string, spec: FieldSpec): FieldValues {
  const fail = (detail: string): never => {
    throw new ScheduleError('schedule', `${spec.name} ${quote(text)}: ${detail}`);
  };
  let lo = 0;
  let hi = 0;
  let star = false;
  for (const item of text.split(',')) {
    if (item === '') fail('empty list item');
    const range = parseItem(item, spec, fail);
    star ||= range.star;
    for (let v = range.start; v <= range.end; v += range.step) {
      if (v < 32) lo |= 1 << v;
      else hi |= 1 << (v - 32);
    }
  }
  return { lo, hi, star };
}

interface ItemRange {
  start: number;
  end: number;
  step: number;
  star: boolean;
}

function parseItem(item: string, spec: FieldSpec, fail: (detail: string) => never): ItemRange {
  if (item.includes('#')) fail(`"#" (nth weekday of the month) ${NOT_IN_K8S}`);
  if (/^H(\(|\/|$)/i.test(item)) fail(`"H" (hashed value) ${NOT_IN_K8S}`);
  const parts = item.split('/');
  if (parts.length > 2) fail(`${quote(item)} has more than one "/"`);
  const base = parts[0]!;
  const stepText = parts[1];
  let step = 1;
  if (stepText !== undefined) {
    if (!DIGITS.test(stepText)) fail(`step ${quote(stepText)} is not a number`);
    step = Number(stepText);
    if (step === 0) fail(`step must be at least 1 in ${quote(item)}`);
  }
  if (base === '*' || base === '?') return { start: spec.min, end: spec.max, step, star: step === 1 };

  const bounds = base.split('-');
  if (bounds.length > 2) fail(`${quote(base)} has more than one "-"`);
  if (bounds.includes('*') || bounds.includes('?')) fail(`${quote(base)}: * and ? cannot be part of a range`);
  const start = parseValue(bounds[0]!, item, spec, fail);
  if (bounds.length === 1) {
    // robfig: "n/s" means "n-max/s".
    return { start, end: stepText === undefined ? start : spec.max, step, star: false };
  }
  const end = parseValue(bounds[1]!, item, spec, fail);
  if (start > end) fail(`range ${quote(base)} starts after it ends`);
  return { start, end, step, star: false };
}

function parseValue(token: string, item: string, spec: FieldSpec, fail: (detail: string) => never): number {
  if (DIGITS.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      const hint = spec.name === 'day-of-week' && value === 7 ? ' (use 0 or SUN for Sunday)' : '';
      fail(`value ${token.length > 4 ? quote(token) : token} out of range ${spec.min}-${spec.max}${hint}`);
    }
    return value;
  }
  const named = spec.names?.get(token.toLowerCase());
  if (named !== undefined) return named;
  return fail(unknownValue(token, item, spec));
}

function unknownValue(token: string, item: string, spec: FieldSpec): string {
  if (token === '') return `missing value in ${quote(item)}`;
  if (/^(\d*L|LW)$/i.test(token)) return `"L" (last day) ${NOT_IN_K8S}`;
  if (/^\d+W$/i.test(token)) return `"W" (nearest weekday) ${NOT_IN_K8S}`;
  return `${quote(token)} is not a valid value (expected ${spec.allowed})`;
}

/**
 * Test helpers for schedules: a seeded random generator of valid expressions, and a
 * brute-force reference that walks UTC minutes one by one and reads the local wall clock
 * from Intl, sharing nothing with the evaluator under test but the field parser.
 */
import { parseExpression, type CronFields } from '../../../agent/src/core/schedule/expression.js';
import type { FieldValues } from '../../../agent/src/core/schedule/fields.js';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface FieldShape {
  min: number;
  max: number;
  names?: readonly string[];
  /** Probability of a plain `*`. */
  star: number;
}

const SHAPES: readonly FieldShape[] = [
  { min: 0, max: 59, star: 0.15 },
  { min: 0, max: 23, star: 0.3 },
  { min: 1, max: 31, star: 0.6 },
  { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], star: 0.7 },
  { min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], star: 0.6 },
];

/** A random valid 5-field expression using every form robfig accepts (names, ?, ranges, lists, steps). */
export function randomExpression(random: () => number): string {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const value = (shape: FieldShape, v: number): string => {
    if (shape.names && random() < 0.3) {
      const name = shape.names[v - shape.min]!;
      return random() < 0.5 ? name : name.toLowerCase();
    }
    return String(v);
  };
  const item = (shape: FieldShape): string => {
    const a = int(shape.min, shape.max);
    const b = int(a, shape.max);
    const step = int(1, Math.max(1, Math.floor((shape.max - shape.min) / 2)));
    switch (int(0, 7)) {
      case 0:
        return `*/${step}`;
      case 1:
        return `?/${step}`;
      case 2:
        return `${value(shape, a)}-${value(shape, b)}`;
      case 3:
        return `${value(shape, a)}-${value(shape, b)}/${step}`;
      case 4:
        return `${value(shape, a)}/${step}`;
      case 5:
        return '*/1';
      default:
        return value(shape, a);
    }
  };
  return SHAPES.map((shape) => {
    if (random() < shape.star) return random() < 0.9 ? '*' : '?';
    const count = random() < 0.7 ? 1 : int(2, 3);
    return Array.from({ length: count }, () => item(shape)).join(',');
  }).join(' ');
}

function has(field: FieldValues, v: number): boolean {
  return v < 32 ? ((field.lo >>> v) & 1) === 1 : ((field.hi >>> (v - 32)) & 1) === 1;
}

/** Minute-by-minute reference evaluator for one expression in one zone. */
export class BruteForce {
  private readonly fields: CronFields;
  private readonly format: Intl.DateTimeFormat;

  constructor(expression: string, timeZone: string) {
    this.fields = parseExpression(expression).fields;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  }

  /** Whether the local wall clock at `instant` matches the expression. */
  matches(instant: number): boolean {
    const [month, day, year, hour, minute] = this.format.format(instant).match(/\d+/g)!.map(Number) as [number, number, number, number, number];
    const f = this.fields;
    if (!has(f.minute, minute) || !has(f.hour, hour) || !has(f.month, month)) return false;
    const dom = has(f.dayOfMonth, day);
    const dow = has(f.dayOfWeek, new Date(Date.UTC(year, month - 1, day)).getUTCDay());
    return f.dayOfMonth.star || f.dayOfWeek.star ? dom && dow : dom || dow;
  }

  /** First minute-aligned instant in (afterMs, untilMs] that matches, or undefined. */
  next(afterMs: number, untilMs: number): number | undefined {
    for (let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000; t <= untilMs; t += 60_000) {
      if (this.matches(t)) return t;
    }
    return undefined;
  }
}

import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, daysInMonth, weekday } from '../../../agent/src/core/schedule/calendar.js';
import { seededRandom } from './reference.js';

const DAY = 86_400_000;

describe('calendar arithmetic', () => {
  it('agrees with Date for random days between years 1 and 9999', () => {
    const random = seededRandom(42);
    const first = Math.floor(Date.parse('0001-01-01T00:00:00Z') / DAY);
    const last = Math.floor(Date.parse('9999-12-31T00:00:00Z') / DAY);
    for (let i = 0; i < 5000; i++) {
      const days = first + Math.floor(random() * (last - first));
      const date = new Date(days * DAY);
      const expected = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
      expect(civilFromDays(days)).toEqual(expected);
      expect(daysFromCivil(expected.year, expected.month, expected.day)).toBe(days);
      expect(weekday(days)).toBe(date.getUTCDay());
    }
  });

  it('knows month lengths and Gregorian leap years', () => {
    expect([2024, 2025, 2000, 2100].map((y) => daysInMonth(y, 2))).toEqual([29, 28, 29, 28]);
    expect(daysInMonth(2026, 4)).toBe(30);
    expect(daysInMonth(2026, 12)).toBe(31);
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(weekday(0)).toBe(4);
  });
});

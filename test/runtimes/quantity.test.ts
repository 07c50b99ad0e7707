import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../../agent/src/runtimes/quantity.js';

describe('parseQuantity', () => {
  it.each<[string | number, number]>([
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 500e6],
    ['64k', 64_000],
    ['500m', 0.5],
    ['2', 2],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    [0.25, 0.25],
    [' 256Mi ', 256 * 2 ** 20],
  ])('%s is %d', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected, 9);
  });

  it.each(['', 'Mi', '12MB', '1.2.3', 'one', '1 Gi', '--1'])('rejects %j', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

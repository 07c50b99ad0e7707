/** Operations on sets of small integers held in 32-bit masks (bit i set = value i present). */

/** Smallest value >= `from` in `mask`, or -1. `from` may be anything from 0 up (>= 32 yields -1). */
export function nextSetBit(mask: number, from: number): number {
  if (from >= 32) return -1;
  const m = mask & (-1 << from);
  if (m === 0) return -1;
  return 31 - Math.clz32(m & -m);
}

/** The values in `mask`, ascending. */
export function maskValues(mask: number): number[] {
  const values: number[] = [];
  for (let b = nextSetBit(mask, 0); b >= 0; b = nextSetBit(mask, b + 1)) values.push(b);
  return values;
}

/** A mask with the bits from..to (inclusive, 0-31) set. */
export function rangeMask(from: number, to: number): number {
  let mask = 0;
  for (let b = from; b <= to; b++) mask |= 1 << b;
  return mask;
}

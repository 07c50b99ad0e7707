/**
 * Stable per-key start offsets (thundering-herd protection, like Jenkins `H`).
 *
 * A key's offset is derived from a hash of the key alone, so a given definition always
 * fires at the same point after each cron slot, across restarts and agents, while
 * thousands of definitions sharing one schedule are spread evenly over the window.
 */

/** 32-bit FNV-1a over the UTF-16 code units of `text`, finished with the murmur3 avalanche. */
export function hashKey(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // FNV-1a's low bits are weak for keys that differ only at the end ("ns/check-0001",
  // "ns/check-0002"); the finaliser mixes every input bit into every output bit.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * The width (ms) of the window a schedule's fires are spread over: `spreadMs`, but never
 * more than half the schedule's smallest gap, so a spread fire can never reach the next slot.
 */
export function spreadWindowMs(spreadMs: number, minIntervalMs: number): number {
  const window = Math.floor(Math.min(spreadMs, minIntervalMs / 2));
  return window > 0 ? window : 0; // also maps NaN to 0
}

/** The stable offset of `key`, an integer in [0, spreadWindowMs(spreadMs, minIntervalMs)). */
export function spreadOffsetMs(key: string, spreadMs: number, minIntervalMs: number): number {
  const window = spreadWindowMs(spreadMs, minIntervalMs);
  if (window === 0) return 0;
  // Scale rather than take a remainder: uniform for any window, no modulo bias.
  return Math.floor((hashKey(key) / 0x1_0000_0000) * window);
}

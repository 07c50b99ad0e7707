import { describe, expect, it } from 'vitest';
import { boundedName, isDns1123Label, isDns1123Subdomain, stableHash } from '../../agent/src/core/naming.js';

describe('names', () => {
  it('checks RFC 1123 labels and subdomains', () => {
    expect(isDns1123Label('web-1')).toBe(true);
    expect(isDns1123Label('Web')).toBe(false);
    expect(isDns1123Label('a.b')).toBe(false);
    expect(isDns1123Label('-a')).toBe(false);
    expect(isDns1123Label('a'.repeat(64))).toBe(false);
    expect(isDns1123Subdomain('a.b-c')).toBe(true);
    expect(isDns1123Subdomain('../etc')).toBe(false);
    expect(isDns1123Subdomain('a/b')).toBe(false);
  });

  it('joins short names as they are', () => {
    expect(boundedName(['web-1', 'worker'], 253)).toBe('web-1-worker');
  });

  it('cuts long names and adds a stable hash, keeping distinct inputs distinct', () => {
    const a = boundedName(['x'.repeat(60), 'dest-a'], 52);
    const b = boundedName(['x'.repeat(60), 'dest-b'], 52);
    expect(a).toHaveLength(52);
    expect(a).not.toBe(b);
    expect(boundedName(['x'.repeat(60), 'dest-a'], 52)).toBe(a);
    expect(isDns1123Subdomain(a)).toBe(true);
    expect(a.endsWith(`-${stableHash(['x'.repeat(60), 'dest-a'])}`)).toBe(true);
  });

  it('never ends the cut part with a dash or dot', () => {
    const name = boundedName([`${'a'.repeat(42)}-----.....`, 'z'], 52);
    expect(name).toMatch(/^a+-[0-9a-f]{8}$/);
  });
});

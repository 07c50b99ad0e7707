import { describe, expect, it } from 'vitest';
import { jsonEqual, parseJsonPath, readJsonPath } from '../../../check-images/http/src/json-path.js';

describe('parseJsonPath', () => {
  it('parses names and indexes', () => {
    expect(parseJsonPath('status')).toEqual(['status']);
    expect(parseJsonPath('a.b[0].c')).toEqual(['a', 'b', 0, 'c']);
    expect(parseJsonPath('[2][10].name')).toEqual([2, 10, 'name']);
    expect(parseJsonPath('components.db-main.status')).toEqual(['components', 'db-main', 'status']);
  });

  it('says where a path is malformed', () => {
    expect(() => parseJsonPath('')).toThrow('must not be empty');
    expect(() => parseJsonPath('a..b')).toThrow('empty name at position 3');
    expect(() => parseJsonPath('.a')).toThrow('empty name at position 1');
    expect(() => parseJsonPath('a.')).toThrow('empty name at position 2');
    expect(() => parseJsonPath('a[x]')).toThrow('expected an index like [0] at position 2');
    expect(() => parseJsonPath('a[1')).toThrow('expected an index like [0] at position 2');
    expect(() => parseJsonPath('a[0]b')).toThrow('expected "." or "[" at position 5');
    expect(() => parseJsonPath('a]')).toThrow('unexpected "]" at position 2');
  });
});

describe('readJsonPath', () => {
  const doc = { status: 'UP', checks: [{ name: 'db', ok: true }], nothing: null };

  it('finds values, including null', () => {
    expect(readJsonPath(doc, ['status'])).toEqual({ found: true, value: 'UP' });
    expect(readJsonPath(doc, ['checks', 0, 'ok'])).toEqual({ found: true, value: true });
    expect(readJsonPath(doc, ['nothing'])).toEqual({ found: true, value: null });
  });

  it('does not find missing keys, out-of-range indexes, mismatched types or inherited properties', () => {
    expect(readJsonPath(doc, ['missing'])).toEqual({ found: false });
    expect(readJsonPath(doc, ['checks', 1])).toEqual({ found: false });
    expect(readJsonPath(doc, ['status', 0])).toEqual({ found: false });
    expect(readJsonPath(doc, ['checks', 'length'])).toEqual({ found: false });
    expect(readJsonPath(doc, ['toString'])).toEqual({ found: false });
  });
});

describe('jsonEqual', () => {
  it('compares JSON values deeply, ignoring key order', () => {
    expect(jsonEqual({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});

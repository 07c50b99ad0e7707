/**
 * Dotted paths into a JSON document (`a.b[0].c`) and JSON deep equality, for the
 * `json_path` / `json_equals` assertions. Pure.
 */

/** A property name or an array index. */
export type JsonPathSegment = string | number;

/**
 * Parses `a.b[0].c` (also `[0].name`). Names are any characters but `.`, `[` and `]`;
 * indexes are decimal. Throws an Error saying where the path is malformed.
 */
export function parseJsonPath(text: string): JsonPathSegment[] {
  if (text === '') throw new Error('must not be empty');
  const segments: JsonPathSegment[] = [];
  let expectName = true;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '[') {
      const close = text.indexOf(']', i);
      const inner = close === -1 ? '' : text.slice(i + 1, close);
      if (!/^\d{1,9}$/.test(inner)) throw new Error(`expected an index like [0] at position ${i + 1}`);
      segments.push(Number(inner));
      i = close + 1;
      expectName = false;
    } else if (ch === '.') {
      if (expectName || i === text.length - 1) throw new Error(`empty name at position ${i + 1}`);
      expectName = true;
      i += 1;
    } else if (ch === ']') {
      throw new Error(`unexpected "]" at position ${i + 1}`);
    } else {
      if (!expectName) throw new Error(`expected "." or "[" at position ${i + 1}`);
      let end = i;
      while (end < text.length && !'.[]'.includes(text[end]!)) end += 1;
      segments.push(text.slice(i, end));
      i = end;
      expectName = false;
    }
  }
  return segments;
}

/** Follows a path through parsed JSON; only own properties of objects and indexes of arrays match. */
export function readJsonPath(value: unknown, segments: readonly JsonPathSegment[]): { found: true; value: unknown } | { found: false } {
  let current = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return { found: false };
      current = current[segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, segment)) {
        return { found: false };
      }
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: current };
}

/** Deep equality of JSON values (objects compared by keys, regardless of key order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item: unknown, i) => jsonEqual(item, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && jsonEqual((a as Record<string, unknown>)[k], rb[k]));
}

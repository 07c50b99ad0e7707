/**
 * Hardened YAML parsing for check inputs: one document, unique keys, a small alias
 * budget (billion-laughs) and error messages that give a position but never echo
 * the source text (it may hold secrets).
 */
import { parseDocument } from 'yaml';

/** Alias nodes resolved per document before parsing is refused. */
export const DEFAULT_MAX_ALIAS_COUNT = 50;

/** Parses one YAML (or JSON) document; an empty text gives `null`. Throws an Error describing the problem. */
export function parseYamlText(text: string, maxAliasCount = DEFAULT_MAX_ALIAS_COUNT): unknown {
  let doc;
  try {
    doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: false, keepSourceTokens: false });
  } catch (err) {
    throw new Error(describeFailure(err), { cause: err });
  }
  const first = doc.errors[0];
  if (first) throw new Error(`${first.message}${position(text, first.pos[0])}`);
  try {
    return doc.toJS({ maxAliasCount });
  } catch (err) {
    throw new Error(describeFailure(err), { cause: err });
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof RangeError) return 'nesting too deep to parse';
  const message = err instanceof Error ? err.message : String(err);
  if (/alias/i.test(message)) return 'too many aliases (possible alias bomb)';
  return message.split('\n', 1)[0] ?? message;
}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

/** A short name for the type of a parsed value, for error messages. */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** True for `{...}` objects (prototype Object.prototype or null), false for arrays, dates, class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

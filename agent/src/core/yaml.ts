/**
 * Hardened YAML parsing. Every YAML vigil reads (definition files, health-status.yaml,
 * config) goes through here: the size is checked before parsing, alias expansion is
 * capped (billion-laughs), nesting depth and document count are bounded, duplicate keys
 * are errors. Pure: works on strings.
 *
 * Two parsers, one behaviour: `js-yaml` (about 8x faster, which matters for directories of
 * thousands of definitions) takes texts without aliases that parse cleanly; everything else
 * (aliases, any error, an unusual document layout) goes through `yaml`, which enforces the
 * alias limit and reports errors per document with their positions. Both use the YAML 1.2
 * core schema and reject duplicate keys.
 */
import jsyaml from 'js-yaml';
import { parseAllDocuments, stringify } from 'yaml';

export interface YamlLimits {
  /** Maximum UTF-8 size of the text. */
  maxBytes: number;
  /** Maximum number of alias nodes resolved per document. */
  maxAliasCount: number;
  /** Maximum nesting depth of mappings and sequences. */
  maxDepth: number;
  /** Maximum number of documents in one stream. */
  maxDocuments: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxAliasCount: 100,
  maxDepth: 64,
  maxDocuments: 10_000,
};

export interface YamlDocument {
  /** Zero-based index of the document in the stream. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value?: unknown;
  error?: string;
}

export class YamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlError';
  }
}

/**
 * Parses a multi-document stream. Stream-level problems (too large, too many documents)
 * throw YamlError; a broken document yields an entry with `error` and the others survive.
 * Empty documents (e.g. a trailing `---`) are dropped.
 */
export function parseYamlDocuments(text: string, limits: Partial<YamlLimits> = {}, options: { fastPath?: boolean } = {}): YamlDocument[] {
  const l = { ...DEFAULT_YAML_LIMITS, ...limits };
  const size = Buffer.byteLength(text, 'utf8');
  if (size > l.maxBytes) throw new YamlError(`document is ${size} bytes, over the limit of ${l.maxBytes} bytes`);
  const flow = maxBracketDepth(text, Math.max(256, 4 * l.maxDepth));
  if (flow !== undefined) throw new YamlError(`flow collections nested deeper than ${flow} levels`);
  const fast = options.fastPath === false ? undefined : parseWithoutAliases(text, l);
  if (fast) return fast;
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true, keepSourceTokens: false });
  } catch (err) {
    throw new YamlError(describeParseFailure(err));
  }
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > l.maxDocuments) throw new YamlError(`${list.length} documents, over the limit of ${l.maxDocuments}`);
  const lineStarts = lineIndex(text);
  const out: YamlDocument[] = [];
  list.forEach((doc, index) => {
    const line = lineOf(lineStarts, doc.range[0]);
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const at = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
      out.push({ index, line, error: `invalid YAML${at}: ${firstLine(first.message).replace(/ at line \d+, column \d+:?$/, '')}` });
      return;
    }
    try {
      const value: unknown = doc.toJS({ maxAliasCount: l.maxAliasCount });
      if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
      const depth = nestingDepth(value, l.maxDepth);
      if (depth > l.maxDepth) {
        out.push({ index, line, error: `nesting deeper than the limit of ${l.maxDepth} levels` });
        return;
      }
      out.push({ index, line, value });
    } catch (err) {
      out.push({ index, line, error: describeParseFailure(err) });
    }
  });
  return out;
}

/** `*name` where an alias can start (line start, after white space, `[`, `{` or `,`). */
const ALIAS = /(?:^|[\s[{,])\*[^\s[\]{},"']/m;
const DOCUMENT_START = /^---(?:[ \t].*)?$/;
const CONTENT = /^[ \t]*[^\s#%]/;

/** The fast path; undefined when the text must go through `yaml`. */
function parseWithoutAliases(text: string, l: YamlLimits): YamlDocument[] | undefined {
  if (ALIAS.test(text)) return undefined;
  let values: unknown[];
  try {
    values = jsyaml.loadAll(text, undefined, { schema: jsyaml.CORE_SCHEMA });
  } catch {
    return undefined; // `yaml` reports the error with its position
  }
  const starts = documentStartLines(text);
  if (starts.length !== values.length) return undefined;
  if (values.length > l.maxDocuments) throw new YamlError(`${values.length} documents, over the limit of ${l.maxDocuments}`);
  const out: YamlDocument[] = [];
  values.forEach((value, index) => {
    if (value === null || value === undefined) return;
    const line = starts[index]!;
    if (nestingDepth(value, l.maxDepth) > l.maxDepth) out.push({ index, line, error: `nesting deeper than the limit of ${l.maxDepth} levels` });
    else out.push({ index, line, value });
  });
  return out;
}

/** 1-based first line of each document: a leading bare document's first content line, then each `---`. */
function documentStartLines(text: string): number[] {
  const lines = text.split('\n');
  const starts: number[] = [];
  let bare: number | undefined;
  lines.forEach((line, i) => {
    if (DOCUMENT_START.test(line)) starts.push(i + 1);
    else if (starts.length === 0 && bare === undefined && CONTENT.test(line)) bare = i + 1;
  });
  return bare === undefined ? starts : [bare, ...starts];
}

/** Parses exactly one document (an empty text gives `undefined`); throws YamlError otherwise. */
export function parseYamlDocument(text: string, limits: Partial<YamlLimits> = {}): unknown {
  const docs = parseYamlDocuments(text, { ...limits, maxDocuments: Math.max(1, limits.maxDocuments ?? 1) });
  if (docs.length === 0) return undefined;
  if (docs.length > 1) throw new YamlError(`expected one YAML document, found ${docs.length}`);
  const doc = docs[0]!;
  if (doc.error !== undefined) throw new YamlError(doc.error);
  return doc.value;
}

/** Stable, Kubernetes-style YAML output (no line folding, no anchors). */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, indentSeq: true });
}

/** Bounds the work on any one document, whatever references it shares. */
const MAX_NODES = 1_000_000;

/** Depth of nested objects/arrays, computed iteratively; stops counting past `limit`. */
export function nestingDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  let max = 0;
  let visited = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    if (++visited > MAX_NODES) throw new YamlError(`more than ${MAX_NODES} mappings and sequences in one document`);
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}

/**
 * Raw '['/'{' nesting, counted without regard to quoting (so it can only over-count).
 * Extremely deep flow nesting exhausts the YAML lexer's memory in a way that cannot be
 * caught, so it is refused before parsing. Returns the limit when exceeded.
 */
function maxBracketDepth(text: string, limit: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return limit;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

function describeParseFailure(err: unknown): string {
  if (err instanceof RangeError) return 'nesting too deep to parse';
  const message = err instanceof Error ? err.message : String(err);
  if (/alias/i.test(message)) return `too many aliases (possible alias bomb): ${firstLine(message)}`;
  return `invalid YAML: ${firstLine(message)}`;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i === -1 ? s : s.slice(0, i);
}

function lineIndex(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

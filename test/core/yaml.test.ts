import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nestingDepth, parseYamlDocument, parseYamlDocuments, toYaml, YamlError } from '../../agent/src/core/yaml.js';

describe('hardened YAML parsing', () => {
  it('parses multi-document streams and keeps going past a broken document', () => {
    const docs = parseYamlDocuments('a: 1\n---\nb: [1, 2\n---\nc: 3\n');
    expect(docs.map((d) => d.value ?? d.error)).toEqual([{ a: 1 }, expect.stringContaining('invalid YAML'), { c: 3 }]);
    expect(docs[2]!.line).toBe(4); // the document starts at its `---` marker
  });

  it('drops empty documents', () => {
    expect(parseYamlDocuments('---\na: 1\n---\n')).toHaveLength(1);
    expect(parseYamlDocument('')).toBeUndefined();
  });

  it('rejects a billion-laughs alias bomb', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    const [doc] = parseYamlDocuments(bomb);
    expect(doc!.value).toBeUndefined();
    expect(doc!.error).toMatch(/alias/i);
  });

  it('rejects oversized text before parsing', () => {
    expect(() => parseYamlDocuments(`a: "${'x'.repeat(2000)}"`, { maxBytes: 1000 })).toThrow(YamlError);
    expect(() => parseYamlDocuments(`a: "${'x'.repeat(2000)}"`, { maxBytes: 1000 })).toThrow(/over the limit of 1000 bytes/);
  });

  it('rejects deep nesting, both within the limit checker and for inputs that would overflow the parser', () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    expect(parseYamlDocuments(deep)[0]!.error).toMatch(/nesting/);
    // 100k nested flow collections exhaust the YAML lexer's memory fatally: refused before parsing.
    const hostile = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseYamlDocuments(hostile, { maxBytes: 1_000_000 })).toThrow(/nested deeper than 256 levels/);
  });

  it('rejects duplicate keys', () => {
    expect(parseYamlDocuments('a: 1\na: 2\n')[0]!.error).toMatch(/unique|duplicate/i);
  });

  it('refuses too many documents', () => {
    expect(() => parseYamlDocuments('a: 1\n---\nb: 2\n---\nc: 3\n', { maxDocuments: 2 })).toThrow(/3 documents/);
  });

  it('does not pollute prototypes through __proto__ keys', () => {
    const value = parseYamlDocument('__proto__: {polluted: true}\n') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('measures nesting depth iteratively', () => {
    expect(nestingDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(nestingDepth('x')).toBe(0);
  });

  it('writes YAML without folding long lines', () => {
    const long = 'x'.repeat(300);
    expect(toYaml({ a: long })).toBe(`a: ${long}\n`);
  });
});

describe('the fast path (js-yaml) and the exact path (yaml) agree', () => {
  const examples = readdirSync('examples/definitions').map((f) => readFileSync(`examples/definitions/${f}`, 'utf8'));
  const samples = [
    ...examples,
    examples.join('---\n'),
    '# leading comment\n---\na: 1\n---\nb: [1, 2, {c: d}]\n---\n',
    'a: 1\n---\n---\nb: 2\n',
    '--- {a: 1}\n--- [1, 2]\n',
    'yes: no\noctal: 0o14\nhex: 0x1F\nnull: ~\ndate: 2024-01-01\nfloat: .inf\nkey with spaces: "quoted: *not an alias"\n',
    'schedule: "*/5 * * * *"\nscript: |\n  echo "*"\n  ls * \n',
    'nested:\n  - a: {b: [c, {d: e}]}\n  - "x"\n',
  ];

  it.each(samples.map((s, i) => [i, s] as const))('sample %i', (_i, text) => {
    expect(parseYamlDocuments(text)).toEqual(parseYamlDocuments(text, {}, { fastPath: false }));
  });

  it('sends texts with aliases and broken texts through the exact path, with positions', () => {
    expect(parseYamlDocuments('a: &x {b: 1}\nc: *x\n')[0]!.value).toEqual({ a: { b: 1 }, c: { b: 1 } });
    expect(parseYamlDocuments('a: 1\n---\nb: [\n---\nc: 3\n').map((d) => d.error ?? 'ok')).toEqual(['ok', expect.stringMatching(/^invalid YAML \(line \d+, column \d+\)/), 'ok']);
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envBool, envInt, envList, envString, findCheckConfig, loadCheckConfig } from '../../../check-images/sdk/src/index.js';
import { makeTempDir, removeTempDir } from '../helpers.js';

describe('loadCheckConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
    vi.stubEnv('KRATIX_INPUT_DIR', dir);
    vi.stubEnv('VIGIL_CHECK_CONFIG', undefined);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await removeTempDir(dir);
  });

  const input = (text: string) => writeFile(join(dir, 'object.yaml'), text);

  it('prefers VIGIL_CHECK_CONFIG (YAML or JSON) over the input', async () => {
    await input('probe: {from: input}\n');
    vi.stubEnv('VIGIL_CHECK_CONFIG', '{"from": "env-json"}');
    expect(await loadCheckConfig('probe')).toEqual({ from: 'env-json' });
    vi.stubEnv('VIGIL_CHECK_CONFIG', 'from: env-yaml\n');
    expect(await loadCheckConfig('probe')).toEqual({ from: 'env-yaml' });
  });

  it('reads a custom environment variable', async () => {
    vi.stubEnv('MY_CHECK', '[1, 2]');
    expect(await loadCheckConfig('probe', { env: 'MY_CHECK' })).toEqual([1, 2]);
  });

  it('uses the top-level key of the input, then spec.<key>', async () => {
    await input('probe: {from: top}\nspec:\n  probe: {from: spec}\n');
    expect(await loadCheckConfig('probe')).toEqual({ from: 'top' });
    await input('kind: Thing\nspec:\n  probe: {from: spec}\n');
    expect(await loadCheckConfig('probe')).toEqual({ from: 'spec' });
  });

  it('ignores an empty VIGIL_CHECK_CONFIG', async () => {
    vi.stubEnv('VIGIL_CHECK_CONFIG', '  ');
    await input('probe: 1\n');
    expect(await loadCheckConfig('probe')).toBe(1);
  });

  it('returns undefined when no source has the key, or there is no input file', async () => {
    expect(await loadCheckConfig('probe')).toBeUndefined();
    await input('kind: Thing\nspec: {other: 1}\n');
    expect(await loadCheckConfig('probe')).toBeUndefined();
  });

  it('reports invalid YAML in the variable by name, never by value', async () => {
    vi.stubEnv('VIGIL_CHECK_CONFIG', 'password: [hunter2-secret');
    const err = (await loadCheckConfig('probe').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^environment variable VIGIL_CHECK_CONFIG is not valid YAML or JSON: .+/);
    expect(err.message).not.toContain('hunter2');
  });

  it('still reports a broken input file', async () => {
    await input('- not a mapping\n');
    await expect(loadCheckConfig('probe')).rejects.toThrow('must be a YAML mapping, found a list');
  });
});

describe('environment helpers', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('envString returns the value, the fallback, or names the missing variable', () => {
    vi.stubEnv('T_STR', 'value');
    expect(envString('T_STR')).toBe('value');
    vi.stubEnv('T_STR', '');
    expect(envString('T_STR', 'fallback')).toBe('fallback');
    expect(() => envString('T_STR')).toThrow('environment variable T_STR is required');
  });

  it('envInt parses integers, checks the range and never prints the value', () => {
    vi.stubEnv('T_INT', ' 42 ');
    expect(envInt('T_INT')).toBe(42);
    expect(() => envInt('T_INT', undefined, { min: 1, max: 10 })).toThrow('environment variable T_INT must be between 1 and 10');
    vi.stubEnv('T_INT', '4.5-secret');
    expect(() => envInt('T_INT')).toThrow(/^environment variable T_INT must be an integer$/);
    vi.stubEnv('T_INT', undefined);
    expect(envInt('T_INT', 7)).toBe(7);
    expect(() => envInt('T_INT')).toThrow('environment variable T_INT is required');
  });

  it('envBool accepts the usual words in any case', () => {
    for (const [text, value] of [['TRUE', true], ['yes', true], ['1', true], ['Off', false], ['no', false], ['0', false]] as const) {
      vi.stubEnv('T_BOOL', text);
      expect(envBool('T_BOOL')).toBe(value);
    }
    vi.stubEnv('T_BOOL', 'maybe-secret');
    expect(() => envBool('T_BOOL')).toThrow(/^environment variable T_BOOL must be one of true, 1, yes, on, false, 0, no, off$/);
    vi.stubEnv('T_BOOL', undefined);
    expect(envBool('T_BOOL', true)).toBe(true);
  });

  it('envList splits on commas and drops empty items', () => {
    vi.stubEnv('T_LIST', ' a, b ,,c ');
    expect(envList('T_LIST')).toEqual(['a', 'b', 'c']);
    vi.stubEnv('T_LIST', ' , ');
    expect(envList('T_LIST', ['d'])).toEqual(['d']);
    vi.stubEnv('T_LIST', undefined);
    expect(envList('T_LIST')).toEqual([]);
  });
});

describe('findCheckConfig and helpers over a given environment (in-process plugins)', () => {
  it('looks up the config like loadCheckConfig, in the environment it is given and not process.env', () => {
    vi.stubEnv('VIGIL_CHECK_CONFIG', '{from: process}');
    try {
      const input = { probe: { from: 'input' }, spec: { other: { from: 'spec' } } };
      expect(findCheckConfig('probe', input, {})).toEqual({ from: 'input' });
      expect(findCheckConfig('other', input, {})).toEqual({ from: 'spec' });
      expect(findCheckConfig('probe', input, { VIGIL_CHECK_CONFIG: 'from: container-env' })).toEqual({ from: 'container-env' });
      expect(findCheckConfig('probe', input, { VIGIL_CHECK_CONFIG: '  ' })).toEqual({ from: 'input' });
      expect(findCheckConfig('missing', input, {})).toBeUndefined();
      expect(() => findCheckConfig('probe', input, { VIGIL_CHECK_CONFIG: 'a: [' })).toThrow(/^environment variable VIGIL_CHECK_CONFIG is not valid YAML or JSON/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('envInt and envList read the environment they are given', () => {
    expect(envList('URLS', [], { URLS: 'a, b,,c' })).toEqual(['a', 'b', 'c']);
    expect(envInt('N', 1, { min: 0, max: 9 }, { N: '7' })).toBe(7);
    expect(envInt('N', 1, {}, {})).toBe(1);
  });
});

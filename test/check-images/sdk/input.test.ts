import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readInput } from '../../../check-images/sdk/src/index.js';
import { makeTempDir, removeTempDir } from '../helpers.js';

describe('readInput', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await removeTempDir(dir);
  });

  const input = (text: string) => writeFile(join(dir, 'object.yaml'), text);

  it('parses object.yaml from KRATIX_INPUT_DIR', async () => {
    vi.stubEnv('KRATIX_INPUT_DIR', dir);
    await input('kind: RDS\nspec:\n  engine: mysql\n');
    expect(await readInput()).toEqual({ kind: 'RDS', spec: { engine: 'mysql' } });
  });

  it('gives {} for an empty file or an empty document', async () => {
    await input('');
    expect(await readInput({ dir })).toEqual({});
    await input('# nothing here\n');
    expect(await readInput({ dir })).toEqual({});
  });

  it('says the file is missing and hints at KRATIX_INPUT_DIR when it is unset', async () => {
    vi.stubEnv('KRATIX_INPUT_DIR', undefined);
    await expect(readInput()).rejects.toThrow('cannot read input /kratix/input/object.yaml: no such file (is KRATIX_INPUT_DIR set?)');
    vi.stubEnv('KRATIX_INPUT_DIR', dir);
    await expect(readInput()).rejects.toThrow(`cannot read input ${join(dir, 'object.yaml')}: no such file`);
    await expect(readInput()).rejects.not.toThrow('is KRATIX_INPUT_DIR set');
  });

  it('returns {} for a missing file with missingOk', async () => {
    expect(await readInput({ dir, missingOk: true })).toEqual({});
  });

  it('names the file and the position of invalid YAML without echoing it', async () => {
    await input('a: 1\nb: [unclosed\n');
    const err = (await readInput({ dir }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^input ${join(dir, 'object.yaml')} is not valid YAML: .*\\(line \\d+, column \\d+\\)$`));
    expect(err.message).not.toContain('unclosed');
  });

  it('refuses duplicate keys', async () => {
    await input('a: 1\na: 2\n');
    await expect(readInput({ dir })).rejects.toThrow(/is not valid YAML: Map keys must be unique/);
  });

  it('refuses an alias bomb', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    await input(`${levels.join('\n')}\n`);
    await expect(readInput({ dir })).rejects.toThrow(/is not valid YAML: too many aliases/);
  });

  it('refuses a document that is not a mapping', async () => {
    await input('- a\n- b\n');
    await expect(readInput({ dir })).rejects.toThrow(`input ${join(dir, 'object.yaml')} must be a YAML mapping, found a list`);
    await input('just text\n');
    await expect(readInput({ dir })).rejects.toThrow('must be a YAML mapping, found a string');
  });

  it('refuses a file over the size limit before parsing it', async () => {
    await input(`a: "${'x'.repeat(2000)}"\n`);
    await expect(readInput({ dir, maxBytes: 1000 })).rejects.toThrow(/is 2006 bytes, over the limit of 1000 bytes/);
  });

  it('refuses a directory in place of the file', async () => {
    await mkdir(join(dir, 'object.yaml'));
    await expect(readInput({ dir })).rejects.toThrow(/cannot read input .*object\.yaml: /);
  });
});

import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HEALTH_STATES as CORE_STATES } from '../../../agent/src/core/model.js';
import { HEALTH_STATES, serializeStatus, writeStatus } from '../../../check-images/sdk/src/index.js';
import { makeTempDir, removeTempDir } from '../helpers.js';

describe('writeStatus', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await removeTempDir(dir);
  });

  it('knows the same five states as vigil core', () => {
    expect([...HEALTH_STATES]).toEqual([...CORE_STATES]);
  });

  it('writes state and details to KRATIX_OUTPUT_DIR/health-status.yaml, leaving no temp file', async () => {
    vi.stubEnv('KRATIX_OUTPUT_DIR', dir);
    const file = await writeStatus({ state: 'degraded', details: { replicas: 3, ready: 2, note: 'a: b', tags: ['x'], gone: undefined } });
    expect(file).toBe(join(dir, 'health-status.yaml'));
    expect(parse(await readFile(file, 'utf8'))).toEqual({ state: 'degraded', details: { replicas: 3, ready: 2, note: 'a: b', tags: ['x'] } });
    expect(await readdir(dir)).toEqual(['health-status.yaml']);
  });

  it('omits details when there are none', async () => {
    await writeStatus({ state: 'healthy' }, { dir });
    expect(await readFile(join(dir, 'health-status.yaml'), 'utf8')).toBe('state: healthy\n');
  });

  it('replaces an existing file, and replaces a symlink instead of writing through it', async () => {
    const elsewhere = join(dir, 'elsewhere.txt');
    await writeFile(elsewhere, 'untouched');
    const out = join(dir, 'out');
    await mkdir(out);
    await symlink(elsewhere, join(out, 'health-status.yaml'));
    await writeStatus({ state: 'healthy' }, { dir: out });
    expect(await readFile(elsewhere, 'utf8')).toBe('untouched');
    expect((await lstat(join(out, 'health-status.yaml'))).isFile()).toBe(true);
    await writeStatus({ state: 'unhealthy' }, { dir: out });
    expect(parse(await readFile(join(out, 'health-status.yaml'), 'utf8'))).toEqual({ state: 'unhealthy' });
  });

  it('rejects a state outside the five', async () => {
    await expect(writeStatus({ state: 'ok' as never }, { dir })).rejects.toThrow(
      'state: "ok" is not one of unknown, ready, unhealthy, healthy, degraded',
    );
    await expect(writeStatus({} as never, { dir })).rejects.toThrow('state: undefined is not one of');
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects details that are not a mapping of JSON values, naming the path', () => {
    expect(() => serializeStatus({ state: 'healthy', details: ['a'] as never })).toThrow('details: must be a mapping, found a list');
    expect(() => serializeStatus({ state: 'healthy', details: { a: { f: () => 1 } } })).toThrow('details.a.f: a function is not a JSON value');
    expect(() => serializeStatus({ state: 'healthy', details: { at: new Date(0) } })).toThrow('details.at: a Date is not a plain JSON value');
    expect(() => serializeStatus({ state: 'healthy', details: { n: [1, Number.NaN] } })).toThrow('details.n[1]: NaN is not a JSON number');
    expect(() => serializeStatus({ state: 'healthy', details: { n: [undefined] } })).toThrow('details.n[0]: undefined is not a JSON value');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => serializeStatus({ state: 'healthy', details: { loop } })).toThrow('details.loop.self: circular reference');
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { a: 1 };
    expect(parse(serializeStatus({ state: 'ready', details: { x: shared, y: shared } }))).toEqual({
      state: 'ready',
      details: { x: { a: 1 }, y: { a: 1 } },
    });
  });

  it('rejects a file over maxBytes (64 KiB by default) and writes nothing', async () => {
    await expect(writeStatus({ state: 'healthy', details: { blob: 'x'.repeat(70_000) } }, { dir })).rejects.toThrow(
      /health-status\.yaml would be \d+ bytes, over the limit of 65536 bytes: keep details small \(in Kubernetes only 4096 bytes reach vigil\)/,
    );
    await expect(writeStatus({ state: 'healthy', details: { blob: 'x'.repeat(200) } }, { dir, maxBytes: 100 })).rejects.toThrow(
      'over the limit of 100 bytes',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('says which directory is missing', async () => {
    await expect(writeStatus({ state: 'healthy' }, { dir: join(dir, 'nope') })).rejects.toThrow(
      `cannot write ${join(dir, 'nope', 'health-status.yaml')}: no such directory`,
    );
  });
});

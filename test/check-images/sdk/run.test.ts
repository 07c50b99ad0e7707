import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../../../check-images/sdk/src/index.js';
import { distFile, distMissing, makeTempDir, removeTempDir, spawnNode } from '../helpers.js';

describe('runCheck', () => {
  let dir: string;
  let codes: number[];
  let stderr: string;
  const io = () => ({
    exit: (code: number) => {
      codes.push(code);
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
    },
  });
  beforeEach(async () => {
    dir = await makeTempDir();
    codes = [];
    stderr = '';
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('writes the result and exits 0', async () => {
    await runCheck(async () => Promise.resolve({ state: 'healthy', details: { checked: 2 } }), { dir, ...io() });
    expect(codes).toEqual([0]);
    expect(await readFile(join(dir, 'health-status.yaml'), 'utf8')).toBe('state: healthy\ndetails:\n  checked: 2\n');
    expect(stderr).toBe('');
  });

  it('gives the check an AbortSignal that is not aborted', async () => {
    let aborted: boolean | undefined;
    await runCheck(({ signal }) => {
      aborted = signal.aborted;
      return { state: 'ready' };
    }, { dir, ...io() });
    expect(aborted).toBe(false);
  });

  it('prints the error, writes nothing and exits 1 when the check throws', async () => {
    await runCheck(() => {
      throw new Error('database unreachable: connection refused');
    }, { dir, ...io() });
    expect(codes).toEqual([1]);
    expect(stderr).toBe('database unreachable: connection refused\n');
    expect(await readdir(dir)).toEqual([]);
  });

  it('exits 1 with the validation message when the result is invalid', async () => {
    await runCheck(() => ({ state: 'fine' as never }), { dir, ...io() });
    expect(codes).toEqual([1]);
    expect(stderr).toMatch(/^state: "fine" is not one of/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('exits 1 when the output directory does not exist', async () => {
    await runCheck(() => ({ state: 'healthy' }), { dir: join(dir, 'missing'), ...io() });
    expect(codes).toEqual([1]);
    expect(stderr).toContain('no such directory');
  });

  it('removes its signal handlers when done', async () => {
    const before = process.listenerCount('SIGTERM');
    await runCheck(() => ({ state: 'healthy' }), { dir, ...io() });
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

const SDK = 'check-images/sdk/src/index.js';
describe.skipIf(distMissing(SDK))('runCheck in a real process', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const script = (body: string) => [
    '--input-type=module',
    '-e',
    `import { runCheck } from ${JSON.stringify(pathToFileURL(distFile(SDK)).href)};\n${body}`,
  ];

  it('exits 0 and leaves the file', async () => {
    const run = await spawnNode(script(`await runCheck(() => ({ state: 'degraded', details: { a: 1 } }));`), {
      env: { KRATIX_OUTPUT_DIR: dir },
    });
    expect(run.code).toBe(0);
    expect(await readFile(join(dir, 'health-status.yaml'), 'utf8')).toBe('state: degraded\ndetails:\n  a: 1\n');
  });

  it('exits 1 with the message on stderr when the check throws', async () => {
    const run = await spawnNode(script(`await runCheck(async () => { throw new Error('boom: no route'); });`), {
      env: { KRATIX_OUTPUT_DIR: dir },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('boom: no route\n');
    expect(await readdir(dir)).toEqual([]);
  });

  it('exits 143 on SIGTERM without writing, even while the check is busy', async () => {
    const body = `await runCheck(({ signal }) => new Promise(() => { console.log('ready'); setInterval(() => {}, 1000); }));`;
    const run = await spawnNode(script(body), {
      env: { KRATIX_OUTPUT_DIR: dir },
      onStdout: (text, terminate) => {
        if (text.includes('ready')) terminate();
      },
    });
    expect(run.code).toBe(143);
    expect(run.stderr).toBe('check stopped by SIGTERM\n');
    expect(await readdir(dir)).toEqual([]);
  });
});

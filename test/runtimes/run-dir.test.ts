import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRunDir, defaultWorkDir, openForContainers, prepareWorkDir, removeRunDir } from '../../agent/src/runtimes/run-dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'vigil-run-dir-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('prepareWorkDir', () => {
  it('creates the work directory privately and returns its canonical path', () => {
    mkdirSync(join(scratch, 'real'));
    symlinkSync(join(scratch, 'real'), join(scratch, 'link'));
    const work = prepareWorkDir(join(scratch, 'link', 'runs'));
    expect(work).toBe(join(realpathSync(scratch), 'real', 'runs'));
    expect(statSync(work).mode & 0o777).toBe(0o700);
  });

  it('refuses a work directory others could tamper with', () => {
    const shared = join(scratch, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    expect(() => prepareWorkDir(shared)).toThrow(`workDir: ${shared} is writable by group or others (mode 777)`);
    mkdirSync(join(scratch, 'target'));
    symlinkSync(join(scratch, 'target'), join(scratch, 'planted'));
    expect(() => prepareWorkDir(join(scratch, 'planted'))).toThrow('is not a directory (a symbolic link is not accepted)');
  });
});

describe('run directories', () => {
  it('lays out a private run directory with the input written', () => {
    const work = prepareWorkDir(join(scratch, 'layout'));
    const dir = createRunDir(work, 'kind: X\n');
    expect(statSync(dir.root).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir.root).sort()).toEqual(['input', 'metadata', 'output', 'tmp']);
    expect(readFileSync(join(dir.input, 'object.yaml'), 'utf8')).toBe('kind: X\n');
    expect(readFileSync(join(createRunDir(work, undefined).input, 'object.yaml'), 'utf8')).toBe('');
  });

  it('opens output and metadata to other users for containers', () => {
    const dir = createRunDir(prepareWorkDir(join(scratch, 'open')), undefined);
    openForContainers(dir);
    expect(statSync(dir.output).mode & 0o777).toBe(0o777);
    expect(statSync(dir.metadata).mode & 0o777).toBe(0o777);
  });

  it('removes whatever the check left, without following links out of the run', () => {
    const work = prepareWorkDir(join(scratch, 'remove'));
    const precious = join(scratch, 'precious');
    mkdirSync(precious);
    for (const name of ['keep', 'object.yaml', 'health-status.yaml']) writeFileSync(join(precious, name), 'not the run’s');
    const dir = createRunDir(work, undefined);
    mkdirSync(join(dir.tmp, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir.root, 'stray'), '');
    symlinkSync(precious, join(dir.metadata, 'link'));
    rmSync(dir.input, { recursive: true });
    symlinkSync(precious, dir.input);
    rmSync(dir.output, { recursive: true });
    symlinkSync(precious, dir.output);
    removeRunDir(dir, true);
    expect(existsSync(dir.root)).toBe(false);
    expect(readdirSync(precious).sort()).toEqual(['health-status.yaml', 'keep', 'object.yaml']);
  });
});

describe('defaultWorkDir', () => {
  it('prefers $XDG_RUNTIME_DIR, then /dev/shm (memory-backed), then the temp dir, with per-user names', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'vigil-xdg-'));
    try {
      expect(defaultWorkDir({ XDG_RUNTIME_DIR: xdg })).toBe(join(xdg, 'vigil-runs'));
      const uid = process.getuid!();
      const fallback = defaultWorkDir({ XDG_RUNTIME_DIR: join(xdg, 'missing') });
      expect([join('/dev/shm', `vigil-runs-${uid}`), join(tmpdir(), `vigil-runs-${uid}`)]).toContain(fallback);
    } finally {
      rmSync(xdg, { recursive: true, force: true });
    }
  });
});

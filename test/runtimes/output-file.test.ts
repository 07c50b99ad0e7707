import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStatusFile } from '../../agent/src/runtimes/output-file.js';
import { createRunDir, type RunDirectory } from '../../agent/src/runtimes/run-dir.js';

const work = realpathSync(mkdtempSync(join(tmpdir(), 'vigil-output-file-')));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function runDir(): RunDirectory {
  return createRunDir(work, undefined);
}

describe('readStatusFile', () => {
  it('returns the content of a regular file', () => {
    const dir = runDir();
    writeFileSync(join(dir.output, 'health-status.yaml'), 'state: ready\n');
    expect(readStatusFile(dir)).toEqual({ kind: 'present', content: 'state: ready\n' });
  });

  it('reports a missing file, and a missing output directory, as missing', () => {
    const dir = runDir();
    expect(readStatusFile(dir)).toEqual({ kind: 'missing' });
    rmSync(dir.output, { recursive: true });
    expect(readStatusFile(dir)).toEqual({ kind: 'missing' });
  });

  it('refuses a directory in place of the file, and a file in place of the directory', () => {
    const dir = runDir();
    mkdirSync(join(dir.output, 'health-status.yaml'));
    expect(readStatusFile(dir)).toEqual({ kind: 'refused', message: 'health-status.yaml is not a regular file' });
    rmSync(dir.output, { recursive: true });
    writeFileSync(dir.output, 'state: healthy\n');
    expect(readStatusFile(dir)).toEqual({ kind: 'refused', message: 'the output directory was replaced by something that is not a directory' });
  });

  it('refuses a file that resolves outside the run directory', () => {
    // The run directory below claims a root the output directory is not in, as if output/ had
    // been swapped for a link between the checks and the open.
    const dir = runDir();
    writeFileSync(join(dir.output, 'health-status.yaml'), 'state: healthy\n');
    const elsewhere: RunDirectory = { ...dir, root: join(work, 'another-run') };
    expect(readStatusFile(elsewhere)).toEqual({ kind: 'refused', message: 'health-status.yaml resolves outside the run directory; vigil does not follow links' });
  });

  it('applies the size limit to the file, not to what is read', () => {
    const dir = runDir();
    writeFileSync(join(dir.output, 'health-status.yaml'), 'x'.repeat(10));
    expect(readStatusFile(dir, 10)).toEqual({ kind: 'present', content: 'x'.repeat(10) });
    expect(readStatusFile(dir, 9)).toEqual({ kind: 'refused', message: 'health-status.yaml is 10 bytes, over the limit of 9 bytes' });
  });

  it('refuses a dangling symbolic link', () => {
    const dir = runDir();
    symlinkSync('/nonexistent/target', join(dir.output, 'health-status.yaml'));
    expect(readStatusFile(dir)).toEqual({ kind: 'refused', message: 'health-status.yaml is a symbolic link; vigil does not follow links' });
  });
});

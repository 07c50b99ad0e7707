/**
 * The private directory of one run: `input/object.yaml`, `output/`, `metadata/` and a
 * `tmp/` used as HOME and TMPDIR by processes. Created with few synchronous calls and
 * removed with rmdir on the expected layout first, falling back to a recursive removal
 * (which never follows symbolic links) when the check left more behind.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEALTH_STATUS_FILE } from '../core/health-status.js';

export interface RunDirectory {
  root: string;
  input: string;
  output: string;
  metadata: string;
  tmp: string;
}

export const OBJECT_FILE = 'object.yaml';

/** Creates `workDir` (mode 0700) if needed and returns its canonical path. */
export function prepareWorkDir(workDir: string): string {
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  return realpathSync(workDir);
}

/** A fresh run directory (mode 0700) under `workDir`, which must be canonical (see prepareWorkDir). */
export function createRunDir(workDir: string, input: string | undefined): RunDirectory {
  const root = mkdtempSync(join(workDir, 'run-'));
  const dir: RunDirectory = {
    root,
    input: join(root, 'input'),
    output: join(root, 'output'),
    metadata: join(root, 'metadata'),
    tmp: join(root, 'tmp'),
  };
  mkdirSync(dir.input);
  mkdirSync(dir.output);
  mkdirSync(dir.metadata);
  mkdirSync(dir.tmp);
  writeFileSync(join(dir.input, OBJECT_FILE), input ?? '');
  return dir;
}

/** Makes output/ and metadata/ writable by a non-root container user. */
export function openForContainers(dir: RunDirectory): void {
  chmodSync(dir.output, 0o777);
  chmodSync(dir.metadata, 0o777);
}

/**
 * Removes the run directory. `statusFileSeen` says output/health-status.yaml was found,
 * so it can be unlinked directly. Throws only when even the recursive removal fails.
 */
export function removeRunDir(dir: RunDirectory, statusFileSeen: boolean): void {
  // Unlinking through input/ or output/ is only safe while they are real directories: the
  // check may have replaced them with links to directories that are not the run's.
  if (isRealDirectory(dir.input)) tryUnlink(join(dir.input, OBJECT_FILE));
  removeTree(dir.input);
  if (statusFileSeen && isRealDirectory(dir.output)) tryUnlink(join(dir.output, HEALTH_STATUS_FILE));
  removeTree(dir.output);
  removeTree(dir.metadata);
  removeTree(dir.tmp);
  removeTree(dir.root);
}

function isRealDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone or replaced by the check: removeTree takes care of whatever is left.
  }
}

function removeTree(path: string): void {
  try {
    rmdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    rmSync(path, { recursive: true, force: true });
  }
}

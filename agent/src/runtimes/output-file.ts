/**
 * Reads output/health-status.yaml without trusting the check, which owns output/ and may
 * have replaced the file or the directory with a symbolic link (to /etc/shadow, say) or a
 * FIFO. The file is opened without following links and without blocking, must be a
 * regular file under the size limit, and the opened descriptor must resolve inside the
 * run directory. The content is returned as is: interpreting it is the result mapper's job.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputFile } from '../core/interfaces.js';
import { HEALTH_STATUS_FILE } from '../core/health-status.js';
import type { RunDirectory } from './run-dir.js';

/** Default limit of health-status.yaml. */
export const DEFAULT_MAX_OUTPUT_FILE_BYTES = 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const SYMLINK = `${HEALTH_STATUS_FILE} is a symbolic link; vigil does not follow links`;

function refused(message: string): OutputFile {
  return { kind: 'refused', message };
}

/** Reads the status file of a run directory whose root is a canonical path. */
export function readStatusFile(dir: RunDirectory, maxBytes: number = DEFAULT_MAX_OUTPUT_FILE_BYTES): OutputFile {
  const file = join(dir.output, HEALTH_STATUS_FILE);
  try {
    // Non-throwing lstats: most failing checks write no file, and a thrown ENOENT costs more
    // than a system call. The open below still refuses links on its own.
    const outputDir = lstatSync(dir.output, { throwIfNoEntry: false });
    if (outputDir === undefined) return { kind: 'missing' };
    if (outputDir.isSymbolicLink()) return refused('the output directory was replaced by a symbolic link; vigil does not follow links');
    if (!outputDir.isDirectory()) return refused('the output directory was replaced by something that is not a directory');
    const stat = lstatSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return { kind: 'missing' };
    if (stat.isSymbolicLink()) return refused(SYMLINK);
  } catch (err) {
    return refused(`cannot inspect the output directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') return refused(SYMLINK);
    return refused(`cannot open ${HEALTH_STATUS_FILE}: ${code ?? (err as Error).message}`);
  }
  try {
    return readOpened(fd, dir.root, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function readOpened(fd: number, root: string, maxBytes: number): OutputFile {
  const stat = fstatSync(fd);
  if (!stat.isFile()) return refused(`${HEALTH_STATUS_FILE} is not a regular file`);
  if (stat.size > maxBytes) return refused(`${HEALTH_STATUS_FILE} is ${stat.size} bytes, over the limit of ${maxBytes} bytes`);
  let where: string;
  try {
    where = readlinkSync(`/proc/self/fd/${fd}`);
  } catch (err) {
    return refused(`cannot verify where ${HEALTH_STATUS_FILE} is (/proc is required): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!where.startsWith(`${root}/`)) return refused(`${HEALTH_STATUS_FILE} resolves outside the run directory; vigil does not follow links`);
  // The file may still be growing (a leaked writer): read at most one byte past the limit.
  const buffer = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    const n = readSync(fd, buffer, length, buffer.length - length, null);
    if (n === 0) break;
    length += n;
    if (length === buffer.length) {
      if (length > maxBytes) return refused(`${HEALTH_STATUS_FILE} is over the limit of ${maxBytes} bytes`);
      return refused(`${HEALTH_STATUS_FILE} kept growing while it was read`);
    }
  }
  return { kind: 'present', content: buffer.toString('utf8', 0, length) };
}

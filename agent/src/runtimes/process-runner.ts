/**
 * Runs one check container as a local process: the hot path of the local runtime, so it
 * uses child_process.spawn directly. The process leads its own process group; it has no
 * stdin, and stdout/stderr go to bounded captures. Completion is its 'exit' (a leaked
 * grandchild may hold the pipes open forever); the group is then killed and the pipes
 * drained for a short grace before they are destroyed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { CapturedOutput } from '../core/interfaces.js';
import { BoundedCapture } from './capture.js';
import type { RunCancellation } from './cancel.js';
import { killGroup, killTree } from './proc-tree.js';

/** How a started process or container ended. */
export interface Exited {
  exitCode: number | null;
  signal: string | null;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
}

export type ProcessResult = ({ kind: 'exited' } & Exited) | { kind: 'failed'; error: Error };

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  maxCaptureBytes: number;
  /**
   * `NAME=value` in the environment of the process and its descendants, unique to this run,
   * to find escapees; undefined when there is none (then only parent links are followed).
   */
  marker: string | undefined;
  cancel: RunCancellation;
  logger: Logger;
}

/** How long the pipes may stay open after the process exited and its group was killed. */
const PIPE_GRACE_MS = 250;

export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.file, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      resolve({ kind: 'failed', error: err as Error });
      return;
    }
    const stdout = new BoundedCapture(spec.maxCaptureBytes);
    const stderr = new BoundedCapture(spec.maxCaptureBytes);
    child.stdout!.on('data', stdout.push);
    child.stderr!.on('data', stderr.push);
    const pid = child.pid;
    if (pid === undefined) {
      // spawn failed (ENOENT, EACCES...): 'error' follows on the next tick.
      child.once('error', (error) => {
        resolve({ kind: 'failed', error });
      });
      return;
    }
    child.on('error', (error) => {
      spec.logger.debug({ err: error }, 'check process error');
    });
    spec.cancel.onCancel(() => {
      killTree(pid, spec.marker);
    });
    child.once('exit', (code, signal) => {
      spec.cancel.clear();
      killGroup(pid);
      const done = (): void => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        resolve({ kind: 'exited', exitCode: code, signal, stdout: stdout.result(), stderr: stderr.result() });
      };
      // Usually both pipes have already reached end-of-file (nothing else holds them).
      if (child.stdout!.readableEnded && child.stderr!.readableEnded) {
        done();
        return;
      }
      const grace = setTimeout(() => {
        spec.logger.warn({ pid }, 'a process started by the check left its process group and still holds its output pipes; killing it');
        killTree(pid, spec.marker);
        done();
      }, PIPE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

/**
 * Helpers shared by the check-image tests: temp dirs, the compiled entry points
 * (built by `npm run build`, which `npm test` runs first), and spawning them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** A fresh directory under the OS temp dir; remove it with `removeTempDir`. */
export function makeTempDir(prefix = 'vigil-check-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Path of a compiled file under dist/, e.g. distFile('check-images/http/src/main.js'). */
export function distFile(relative: string): string {
  return join(repoRoot, 'dist', relative);
}

/** Why the compiled tree cannot be used (printed with console.warn), or undefined when it can. */
export function distMissing(relative: string): string | undefined {
  if (existsSync(distFile(relative))) return undefined;
  const reason = `dist/${relative} is missing: run \`npm run build\` first (npm test does it)`;
  console.warn(`skipping: ${reason}`);
  return reason;
}

export interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnNodeOptions {
  env: Record<string, string>;
  /** Called with the stdout so far and a function that sends SIGTERM to the child. */
  onStdout?: (text: string, terminate: () => void) => void;
  /** Sends SIGTERM to the child when this settles. */
  terminateWhen?: Promise<unknown>;
}

/** Runs `node <args>` with exactly the given environment (plus PATH) and collects its output. */
export function spawnNode(args: string[], opts: SpawnNodeOptions): Promise<Spawned> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      opts.onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    void opts.terminateWhen?.finally(() => child.kill('SIGTERM'));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

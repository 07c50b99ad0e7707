/** Real git repositories for tests: bare remotes on disk, other writers, and `git daemon`. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'other',
  GIT_AUTHOR_EMAIL: 'other@example.test',
  GIT_COMMITTER_NAME: 'other',
  GIT_COMMITTER_EMAIL: 'other@example.test',
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
};

/** Runs git synchronously and returns its trimmed stdout; throws with stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Creates an empty bare repository `<dir>/remote.git` and returns its path. */
export function bareRemote(dir: string): string {
  const path = join(dir, 'remote.git');
  mkdirSync(path, { recursive: true });
  git(path, 'init', '-q', '--bare', '-b', 'main');
  return path;
}

/** Content of `file` on `branch` of a (bare) repository, or undefined when absent. */
export function showFile(repo: string, branch: string, file: string): string | undefined {
  try {
    return git(repo, 'show', `${branch}:${file}`);
  } catch {
    return undefined;
  }
}

/** Files on `branch` of a repository. */
export function listFiles(repo: string, branch: string): string[] {
  const out = git(repo, 'ls-tree', '-r', '--name-only', branch);
  return out === '' ? [] : out.split('\n');
}

/** Number of commits reachable from `branch`. */
export function commitCount(repo: string, branch: string): number {
  return Number(git(repo, 'rev-list', '--count', branch));
}

/** Another writer: clones `remote`, commits `file` with `content` and pushes to `branch`. */
export function pushFromOtherClone(remote: string, branch: string, file: string, content: string): void {
  const dir = mkdtempSync(join(dirname(remote), 'other-'));
  git(dir, 'clone', '-q', '-b', branch, remote, 'clone');
  const clone = join(dir, 'clone');
  mkdirSync(dirname(join(clone, file)), { recursive: true });
  writeFileSync(join(clone, file), content);
  git(clone, 'add', '--', file);
  git(clone, 'commit', '-q', '-m', `other: ${file}`);
  git(clone, 'push', '-q', 'origin', `HEAD:${branch}`);
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

/** A running `git daemon` serving (and accepting pushes to) every repository under `base`. */
export interface GitDaemon {
  port: number;
  stop(): Promise<void>;
}

/** Starts `git daemon` on a free loopback port; resolves once it accepts connections. */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort();
  const child: ChildProcess = spawn('git', ['daemon', '--reuseaddr', `--base-path=${base}`, '--export-all', '--enable=receive-pack', '--listen=127.0.0.1', `--port=${port}`, base], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`git daemon exited: ${stderr}`);
    try {
      git(base, 'ls-remote', `git://127.0.0.1:${port}/remote.git`);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`git daemon did not start: ${stderr || (err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => { resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** True when `git daemon` is installed (git-core's exec path holds it). */
export function gitDaemonAvailable(): boolean {
  try {
    return existsSync(join(git('/', '--exec-path'), 'git-daemon'));
  } catch {
    return false;
  }
}

/**
 * Making a clone left behind by a killed process usable again: an interrupted rebase is
 * dropped and stale lock files are removed, but only when no git process works in the clone.
 */
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { GitRunner } from './gitCli.js';

/** Lock files a killed git leaves behind that block every later command. */
const LOCK_FILES = ['index.lock', 'HEAD.lock', 'shallow.lock', 'config.lock'];

/** What `recoverClone` found and removed, for the log. */
export interface RecoveryReport {
  abortedRebase: boolean;
  removedLocks: string[];
}

/** Aborts a rebase in progress and removes stale locks in the clone at `repo`. */
export async function recoverClone(repo: string, git: GitRunner): Promise<RecoveryReport> {
  const gitDir = join(repo, '.git');
  const report: RecoveryReport = { abortedRebase: false, removedLocks: [] };
  if (await gitProcessRunsIn(repo)) throw new Error(`store.workDir: another git process is working in the clone ${repo}; is a second agent using the same directory?`);
  for (const lock of LOCK_FILES) {
    const path = join(gitDir, lock);
    if (existsSync(path)) {
      await fs.rm(path, { force: true });
      report.removedLocks.push(lock);
    }
  }
  const rebaseDirs = ['rebase-merge', 'rebase-apply'].map((d) => join(gitDir, d));
  if (rebaseDirs.some((d) => existsSync(d))) {
    report.abortedRebase = true;
    await git.run(repo, ['rebase', '--abort']);
    for (const dir of rebaseDirs) await fs.rm(dir, { recursive: true, force: true });
  }
  return report;
}

/** True when a process named `git` has its working directory inside `repo` (Linux /proc; false elsewhere). */
async function gitProcessRunsIn(repo: string): Promise<boolean> {
  let pids: string[];
  try {
    pids = (await fs.readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return false;
  }
  const real = await fs.realpath(repo);
  for (const pid of pids) {
    try {
      const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8')).trim();
      if (comm !== 'git') continue;
      const cwd = await fs.readlink(`/proc/${pid}/cwd`);
      if (cwd === real || cwd.startsWith(`${real}/`)) return true;
    } catch {
      // The process ended or is not ours to inspect.
    }
  }
  return false;
}

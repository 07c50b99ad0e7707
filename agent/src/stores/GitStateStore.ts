/**
 * Git state store: HealthRecords are committed to a branch of a Git repository at
 * `<path>/<namespace>/<name>.yaml` (the fs store's layout and YAML), so that Flux or Argo CD
 * on the platform cluster applies them.
 *
 * Changes are batched: everything queued within `flushIntervalMs` becomes one commit, and a
 * put whose state and details equal the file at HEAD (and whose lastRun is younger than
 * `heartbeatMs`) makes no commit at all. Pushes are never forced: when the remote moved, the
 * clone is reset to the remote branch and the batch is applied again on top (linear history).
 */
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock, type RecordRef, type StateStore } from '../core/interfaces.js';
import type { HealthRecord } from '../core/model.js';
import { LABEL_DESTINATION } from '../core/record.js';
import { parseYamlDocument } from '../core/yaml.js';
import { FsStateStore } from './FsStateStore.js';
import { GitRunner, firstErrorLine, prepareGitAuth, type GitAuth, type GitResult } from './git/gitCli.js';
import { recoverClone } from './git/recovery.js';
import { redactUrl, splitRemoteUrl } from './git/remoteUrl.js';
import { normaliseStorePath, storedVersionOf, unchangedAndFresh } from './write-on-change.js';

export type { GitAuth };

export interface GitStateStoreOptions {
  /** Remote URL (https, ssh, file or a local path). Credentials in an https URL are moved to the askpass helper. */
  url: string;
  /** Branch records are pushed to. Default `main`. */
  branch?: string;
  /** Directory inside the repository that holds the records. Default: the repository root. */
  path?: string;
  auth?: GitAuth;
  /** Commit author. Default `vigil <vigil@localhost>`. */
  author?: { name: string; email: string };
  /** A private directory for the clone and the auth helper files. */
  workDir: string;
  logger: Logger;
  /** Changes queued within this window become one commit. Default 2000 ms. */
  flushIntervalMs?: number;
  /** An unchanged record is still rewritten once its file's lastRun is this old. Default one hour. */
  heartbeatMs?: number;
  clock?: Clock;
  /** Limit of one git command. Default 120 s. */
  gitTimeoutMs?: number;
  /** Push attempts per flush when the remote moved meanwhile. Default 5. */
  pushAttempts?: number;
  /** How long close() waits for the last flush. Default 30 s. */
  closeTimeoutMs?: number;
}

type Change = { kind: 'put'; record: HealthRecord } | { kind: 'delete'; ref: RecordRef };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Pending {
  change: Change;
  waiters: Waiter[];
}

const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9._/-]+(?<![/.])$/;
const BACKOFF_BASE_MS = 100;

export class GitStateStore implements StateStore {
  readonly kind = 'git';
  private readonly url: string;
  private readonly displayUrl: string;
  private readonly branch: string;
  private readonly path: string;
  private readonly auth: GitAuth | undefined;
  private readonly author: { name: string; email: string };
  private readonly workDir: string;
  private readonly repo: string;
  private readonly logger: Logger;
  private readonly flushIntervalMs: number;
  private readonly heartbeatMs: number;
  private readonly clock: Clock;
  private readonly gitTimeoutMs: number;
  private readonly pushAttempts: number;
  private readonly closeTimeoutMs: number;
  /** Reads, writes and validates record files in the working tree. */
  private readonly files: FsStateStore;
  private git: GitRunner | undefined;
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** Serialises everything that touches the clone. */
  private chain: Promise<void> = Promise.resolve();
  /** True while the working tree may differ from HEAD. */
  private busy = false;
  private closed = false;

  constructor(options: GitStateStoreOptions) {
    const split = splitRemoteUrl(options.url);
    this.url = split.url;
    this.displayUrl = redactUrl(options.url);
    this.auth = options.auth ?? (split.credentials ? { kind: 'basicAuth', ...split.credentials } : undefined);
    this.branch = options.branch ?? 'main';
    if (!BRANCH.test(this.branch)) throw new Error(`store.branch: "${this.branch}" is not a valid branch name`);
    this.path = normaliseStorePath(options.path ?? '');
    this.author = options.author ?? { name: 'vigil', email: 'vigil@localhost' };
    this.workDir = options.workDir;
    this.repo = join(options.workDir, 'repo');
    this.logger = options.logger.child({ store: 'git', url: this.displayUrl, branch: this.branch });
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
    this.gitTimeoutMs = options.gitTimeoutMs ?? 120_000;
    this.pushAttempts = options.pushAttempts ?? 5;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    this.files = new FsStateStore({ root: join(this.repo, this.path), logger: this.logger, fsync: false });
  }

  describe(): string {
    return `${this.displayUrl} (branch ${this.branch}${this.path ? `, path ${this.path}` : ''})`;
  }

  /**
   * Clones the remote into `workDir` or reuses an existing clone: an interrupted rebase and
   * stale locks are cleared and the clone is reset to the remote branch, which is created
   * (with an empty commit) when the remote does not have it yet.
   */
  async init(): Promise<void> {
    await fs.mkdir(this.workDir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.workDir, 0o700);
    const authEnv = await prepareGitAuth(join(this.workDir, 'auth'), this.auth);
    const secrets = this.auth?.kind === 'basicAuth' ? [this.auth.password] : [];
    this.git = new GitRunner({ env: authEnv, timeoutMs: this.gitTimeoutMs, secrets });
    await this.exclusive(async () => {
      await this.openClone();
      if (await this.remoteHasBranch()) {
        await this.resetToRemote(true);
      } else {
        await this.createBranch();
      }
    });
    this.logger.info({ path: this.path }, 'git state store ready');
  }

  async put(record: HealthRecord): Promise<void> {
    const ref = { namespace: record.metadata.namespace, name: record.metadata.name };
    const file = this.files.pathOf(ref);
    const key = `${ref.namespace}/${ref.name}`;
    this.assertOpen();
    if (!this.busy && !this.pending.has(key) && this.unchangedAtHead(file, record)) return;
    return this.enqueue(key, { kind: 'put', record });
  }

  async delete(ref: RecordRef): Promise<void> {
    const file = this.files.pathOf(ref);
    const key = `${ref.namespace}/${ref.name}`;
    this.assertOpen();
    if (!this.busy && !this.pending.has(key) && !existsSync(file)) return;
    return this.enqueue(key, { kind: 'delete', ref });
  }

  /** Every record under `path` on the remote branch (fetched now). */
  async list(): Promise<HealthRecord[]> {
    this.assertOpen();
    return this.exclusive(async () => {
      await this.resetToRemote(true);
      return this.files.list();
    });
  }

  /** Flushes what is queued (waiting at most `closeTimeoutMs`), then stops the timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.git === undefined) return;
    let bound: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { bound = setTimeout(resolve, this.closeTimeoutMs); });
    await Promise.race([this.flush().then(() => this.chain), timeout]);
    clearTimeout(bound);
  }

  // ------------------------------------------------------------ queue

  private assertOpen(): void {
    if (this.git === undefined) throw new Error(`git state store ${this.displayUrl}: init() has not been called`);
    if (this.closed) throw new Error(`git state store ${this.displayUrl}: closed`);
  }

  private enqueue(key: string, change: Change): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = this.pending.get(key);
      if (entry) {
        entry.change = change;
        entry.waiters.push({ resolve, reject });
      } else {
        this.pending.set(key, { change, waiters: [{ resolve, reject }] });
      }
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
    });
  }

  /** True when `record` carries the same state and details as its file and the file is fresh. */
  private unchangedAtHead(file: string, record: HealthRecord): boolean {
    let current: unknown;
    try {
      current = parseYamlDocument(readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
    return unchangedAndFresh(storedVersionOf(current), record, this.clock.now(), this.heartbeatMs);
  }

  /** Commits and pushes everything queued so far as one commit; settles the callers' promises. */
  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.exclusive(async () => {
      try {
        await this.deliver([...batch.values()].map((p) => p.change));
        for (const p of batch.values()) for (const w of p.waiters) w.resolve();
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.warn({ err: error.message, changes: batch.size }, 'git state store flush failed');
        for (const p of batch.values()) for (const w of p.waiters) w.reject(error);
        await this.discardLocalChanges();
      }
    });
  }

  // ------------------------------------------------------------ git

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        return await work();
      } finally {
        this.busy = false;
      }
    });
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  private runner(): GitRunner {
    if (this.git === undefined) throw new Error(`git state store ${this.displayUrl}: init() has not been called`);
    return this.git;
  }

  private run(args: readonly string[]): Promise<GitResult> {
    return this.runner().run(this.repo, args);
  }

  private ok(args: readonly string[]): Promise<string> {
    return this.runner().ok(this.repo, args);
  }

  private unreachable(result: GitResult): Error {
    return new Error(`store.url: cannot reach "${this.displayUrl}": ${firstErrorLine(result)}`);
  }

  private get remoteRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /** Reuses a recoverable clone in workDir or starts a fresh one. */
  private async openClone(): Promise<void> {
    if (existsSync(join(this.repo, '.git'))) {
      const report = await recoverClone(this.repo, this.runner());
      if (report.abortedRebase || report.removedLocks.length > 0) this.logger.warn(report, 'recovered an interrupted git state store clone');
      try {
        await this.ok(['rev-parse', '--git-dir']);
        await this.ok(['remote', 'set-url', 'origin', this.url]);
        return;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'git state store clone is unusable; cloning again');
        await fs.rm(this.repo, { recursive: true, force: true });
      }
    }
    await fs.mkdir(this.repo, { recursive: true, mode: 0o700 });
    await this.ok(['init', '-q', '-b', this.branch]);
    await this.ok(['remote', 'add', 'origin', this.url]);
  }

  private async remoteHasBranch(): Promise<boolean> {
    const result = await this.run(['ls-remote', '--heads', 'origin', `refs/heads/${this.branch}`]);
    if (result.exitCode !== 0) throw this.unreachable(result);
    return result.stdout.trim().length > 0;
  }

  /** Fetches the branch (when `fetch`) and makes HEAD, index and working tree equal to it. */
  private async resetToRemote(fetch: boolean): Promise<void> {
    if (fetch) {
      const result = await this.run(['fetch', '-q', '--prune', 'origin', `+refs/heads/${this.branch}:${this.remoteRef}`]);
      if (result.exitCode !== 0) throw this.unreachable(result);
    }
    await this.ok(['checkout', '-q', '-f', '-B', this.branch, this.remoteRef]);
    await this.ok(['clean', '-q', '-f', '-d', '-x']);
  }

  /** The remote has no such branch: start it with an empty commit (someone else may win the race). */
  private async createBranch(): Promise<void> {
    if ((await this.run(['rev-parse', '-q', '--verify', 'HEAD'])).exitCode === 0) {
      await fs.rm(this.repo, { recursive: true, force: true });
      await this.openClone();
    }
    await this.commit('vigil: create branch', true);
    const push = await this.run(['push', '-q', 'origin', `HEAD:refs/heads/${this.branch}`]);
    if (push.exitCode === 0) {
      await this.ok(['update-ref', this.remoteRef, 'HEAD']);
      return;
    }
    if (!isRejection(push)) throw this.unreachable(push);
    await this.resetToRemote(true);
  }

  private async commit(message: string, allowEmpty = false): Promise<void> {
    const args = ['-c', `user.name=${this.author.name}`, '-c', `user.email=${this.author.email}`, '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', message];
    if (allowEmpty) args.push('--allow-empty');
    await this.ok(args);
  }

  /** One commit with `changes`, pushed; on a rejection the remote is fetched and the batch re-applied. */
  private async deliver(changes: readonly Change[]): Promise<void> {
    let last: GitResult | undefined;
    for (let attempt = 1; attempt <= this.pushAttempts; attempt++) {
      if (attempt > 1) {
        await sleep(BACKOFF_BASE_MS * 2 ** (attempt - 2) * (0.5 + Math.random()));
        await this.resetToRemote(true);
      }
      const summary = await this.apply(changes);
      // The working tree was clean before apply(), so everything that changed is ours.
      await this.ok(['add', '-A', '--', '.']);
      if ((await this.run(['diff', '--cached', '--quiet'])).exitCode === 0) return;
      await this.commit(commitMessage(summary));
      const push = await this.run(['push', '-q', 'origin', `HEAD:refs/heads/${this.branch}`]);
      if (push.exitCode === 0) {
        await this.ok(['update-ref', this.remoteRef, 'HEAD']);
        this.logger.debug({ ...summary, attempt }, 'pushed health records');
        return;
      }
      if (!isRejection(push)) throw this.unreachable(push);
      this.logger.info({ attempt }, 'remote branch moved; re-applying the records on top');
      last = push;
    }
    throw new Error(`store.branch: push to "${this.displayUrl}" branch ${this.branch} rejected ${this.pushAttempts} times: ${last ? firstErrorLine(last) : ''}`);
  }

  private async apply(changes: readonly Change[]): Promise<{ updated: number; deleted: number; destinations: string[] }> {
    let updated = 0;
    let deleted = 0;
    const destinations = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'put') {
        // Queued while the clone was busy, or reverted within the interval: same rule as put().
        if (this.unchangedAtHead(this.files.pathOf(change.record.metadata), change.record)) continue;
        await this.files.put(change.record);
        updated++;
        const destination = change.record.metadata.labels?.[LABEL_DESTINATION];
        if (destination) destinations.add(destination);
      } else {
        await this.files.delete(change.ref);
        deleted++;
      }
    }
    return { updated, deleted, destinations: [...destinations].sort() };
  }

  /** After a failed flush: back to the last known remote state, so the next flush starts clean. */
  private async discardLocalChanges(): Promise<void> {
    try {
      await this.resetToRemote(false);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not reset the git state store clone');
    }
  }
}

/** `vigil: update N records, delete M (destination X)`. */
function commitMessage(summary: { updated: number; deleted: number; destinations: string[] }): string {
  const where = summary.destinations.length > 0 ? ` (destination ${summary.destinations.join(', ')})` : '';
  return `vigil: update ${summary.updated} records, delete ${summary.deleted}${where}`;
}

/** A push refused because the remote branch moved (not a transport failure). */
function isRejection(result: GitResult): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|\[remote rejected\].*(cannot lock ref|failed to update ref)/.test(`${result.stderr}\n${result.stdout}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

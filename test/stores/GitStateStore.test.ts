import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitStateStore, type GitStateStoreOptions } from '../../agent/src/stores/GitStateStore.js';
import { buildHealthRecord } from '../../agent/src/core/record.js';
import type { HealthDefinition, HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { tempDir } from '../support/tmp.js';
import { bareRemote, commitCount, freePort, git, gitDaemonAvailable, listFiles, pushFromOtherClone, showFile, startGitDaemon } from '../support/git.js';

const T0 = 1_700_000_000_000;

function record(name: string, state: HealthRecord['data']['state'] = 'healthy', finishedAt = T0, details: Record<string, unknown> = {}): HealthRecord {
  const definition: HealthDefinition = {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name, namespace: 'team-a' },
    spec: { promiseRef: { name: 'p' }, schedule: '@hourly' },
  };
  return buildHealthRecord({ definition, destination: 'local', state, details, finishedAt });
}

interface Setup {
  dir: string;
  remote: string;
  store: GitStateStore;
  clock: { now: () => number; t: number };
}

const opened: GitStateStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close();
});

async function setup(options: Partial<GitStateStoreOptions> = {}): Promise<Setup> {
  const dir = tempDir('vigil-git-');
  const remote = bareRemote(dir);
  const clock = { t: T0 + 1000, now: () => clock.t };
  const store = new GitStateStore({ url: remote, workDir: join(dir, 'work'), logger: silentLogger(), flushIntervalMs: 150, clock, ...options });
  opened.push(store);
  await store.init();
  return { dir, remote, store, clock };
}

describe('GitStateStore', () => {
  it('creates the branch on an empty remote and commits records as <path>/<namespace>/<name>.yaml', async () => {
    const { remote, store } = await setup({ path: 'health/records' });
    expect(listFiles(remote, 'main')).toEqual([]);
    const r = record('web');
    await store.put(r);
    expect(listFiles(remote, 'main')).toEqual(['health/records/team-a/web-local.yaml']);
    expect(parseYamlDocument(showFile(remote, 'main', 'health/records/team-a/web-local.yaml') ?? '')).toEqual(r);
    expect(git(remote, 'log', '-1', '--format=%an <%ae>|%s', 'main')).toBe('vigil <vigil@localhost>|vigil: update 1 records, delete 0 (destination local)');
    expect(await store.list()).toEqual([r]);
    expect(store.describe()).toBe(`${remote} (branch main, path health/records)`);
  });

  it('batches 50 puts within one interval into exactly one commit; the newest change of a record wins', async () => {
    const { remote, store } = await setup();
    const before = commitCount(remote, 'main');
    const puts = Array.from({ length: 50 }, (_, i) => store.put(record(`check-${i}`, 'healthy')));
    puts.push(store.put(record('check-7', 'degraded')));
    await Promise.all(puts);
    expect(commitCount(remote, 'main')).toBe(before + 1);
    expect(listFiles(remote, 'main')).toHaveLength(50);
    const seven = parseYamlDocument(showFile(remote, 'main', 'team-a/check-7-local.yaml') ?? '') as HealthRecord;
    expect(seven.data.state).toBe('degraded');
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toBe('vigil: update 50 records, delete 0 (destination local)');
  });

  it('makes no commit for an unchanged record, and one heartbeat commit once lastRun is older than heartbeatMs', async () => {
    const { remote, store, clock } = await setup({ heartbeatMs: 3_600_000 });
    await store.put(record('web', 'healthy', T0, { latencyMs: 12 }));
    const after = commitCount(remote, 'main');
    clock.t = T0 + 60_000;
    await store.put(record('web', 'healthy', T0 + 60_000, { latencyMs: 12 }));
    expect(commitCount(remote, 'main')).toBe(after);
    await store.put(record('web', 'healthy', T0 + 60_000, { latencyMs: 13 }));
    expect(commitCount(remote, 'main')).toBe(after + 1);
    const changedAt = commitCount(remote, 'main');
    clock.t = T0 + 60_000 + 3_600_000;
    await store.put(record('web', 'healthy', clock.t, { latencyMs: 13 }));
    expect(commitCount(remote, 'main')).toBe(changedAt + 1);
    const file = parseYamlDocument(showFile(remote, 'main', 'team-a/web-local.yaml') ?? '') as HealthRecord;
    expect(file.data.lastRun).toBe(Math.floor(clock.t / 1000));
  });

  it('makes no commit when a record changes and changes back within one interval', async () => {
    const { remote, store, clock } = await setup();
    await store.put(record('web', 'healthy'));
    const before = commitCount(remote, 'main');
    clock.t = T0 + 5000;
    await Promise.all([store.put(record('web', 'unhealthy', T0 + 4000)), store.put(record('web', 'healthy', T0 + 5000))]);
    expect(commitCount(remote, 'main')).toBe(before);
  });

  it('deletes a record in a commit; deleting a missing record resolves without a commit', async () => {
    const { remote, store } = await setup();
    await store.put(record('web'));
    await store.put(record('api'));
    const before = commitCount(remote, 'main');
    await store.delete({ namespace: 'team-a', name: 'web-local' });
    expect(listFiles(remote, 'main')).toEqual(['team-a/api-local.yaml']);
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toBe('vigil: update 0 records, delete 1');
    await store.delete({ namespace: 'team-a', name: 'web-local' });
    expect(commitCount(remote, 'main')).toBe(before + 1);
    await expect(store.delete({ namespace: 'team-a', name: '../escape' })).rejects.toThrow(/metadata\.name: "\.\.\/escape" is not a valid name/);
  });

  it('rebases over a concurrent writer: both changes land, history stays linear, nothing is force-pushed', async () => {
    const { remote, store } = await setup();
    await store.put(record('web'));
    const ourOld = git(remote, 'rev-parse', 'main');
    const pending = store.put(record('api'));
    pushFromOtherClone(remote, 'main', 'other/README.md', 'someone else\n');
    const theirs = git(remote, 'rev-parse', 'main');
    await pending;
    expect(listFiles(remote, 'main').sort()).toEqual(['other/README.md', 'team-a/api-local.yaml', 'team-a/web-local.yaml']);
    expect(git(remote, 'rev-list', '--merges', '--count', 'main')).toBe('0');
    for (const old of [ourOld, theirs]) expect(() => git(remote, 'merge-base', '--is-ancestor', old, 'main')).not.toThrow();
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toBe('vigil: update 1 records, delete 0 (destination local)');
  });

  it('rejects the put with a clear error while the remote is down, and delivers again once it is back', async () => {
    const { dir, remote, store } = await setup();
    await store.put(record('web'));
    const away = join(dir, 'moved-away.git');
    renameSync(remote, away);
    await expect(store.put(record('web', 'unhealthy'))).rejects.toThrow(`store.url: cannot reach "${remote}": fatal: '${remote}' does not appear to be a git repository`);
    renameSync(away, remote);
    await store.put(record('web', 'unhealthy'));
    expect((parseYamlDocument(showFile(remote, 'main', 'team-a/web-local.yaml') ?? '') as HealthRecord).data.state).toBe('unhealthy');
  });

  it('init() reports an unreachable remote naming the setting', async () => {
    const dir = tempDir('vigil-git-');
    const store = new GitStateStore({ url: `file://${join(dir, 'nothing.git')}`, workDir: join(dir, 'work'), logger: silentLogger() });
    await expect(store.init()).rejects.toThrow(new RegExp(`^store\\.url: cannot reach "file://${dir}/nothing.git": fatal: `));
  });

  it('init() recovers a clone left with a rebase in progress and a stale index.lock', async () => {
    const { dir, remote, store } = await setup();
    await store.put(record('web', 'healthy'));
    await store.close();
    const repo = join(dir, 'work', 'repo');
    git(repo, 'checkout', '-q', '-b', 'side');
    writeFileSync(join(repo, 'team-a', 'web-local.yaml'), 'side: 1\n');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'side');
    git(repo, 'checkout', '-q', 'main');
    writeFileSync(join(repo, 'team-a', 'web-local.yaml'), 'main: 1\n');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'main');
    git(repo, 'checkout', '-q', 'side');
    expect(() => git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'rebase', 'main')).toThrow();
    expect(existsSync(join(repo, '.git', 'rebase-merge')) || existsSync(join(repo, '.git', 'rebase-apply'))).toBe(true);
    writeFileSync(join(repo, '.git', 'index.lock'), '');

    const again = new GitStateStore({ url: remote, workDir: join(dir, 'work'), logger: silentLogger(), flushIntervalMs: 100 });
    opened.push(again);
    await again.init();
    expect(existsSync(join(repo, '.git', 'index.lock'))).toBe(false);
    expect(existsSync(join(repo, '.git', 'rebase-merge'))).toBe(false);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(git(remote, 'rev-parse', 'main'));
    await again.put(record('web', 'degraded'));
    expect((parseYamlDocument(showFile(remote, 'main', 'team-a/web-local.yaml') ?? '') as HealthRecord).data.state).toBe('degraded');
    expect(await again.list()).toHaveLength(1);
  });

  it('init() clones again when the clone in workDir is broken; a record created and deleted within one interval makes no commit', async () => {
    const { dir, remote, store } = await setup({ path: 'records' });
    await store.close();
    writeFileSync(join(dir, 'work', 'repo', '.git', 'HEAD'), 'garbage\n');
    const again = new GitStateStore({ url: remote, path: 'records', workDir: join(dir, 'work'), logger: silentLogger(), flushIntervalMs: 100 });
    opened.push(again);
    await again.init();
    const before = commitCount(remote, 'main');
    await Promise.all([again.put(record('web')), again.delete({ namespace: 'team-a', name: 'web-local' })]);
    expect(commitCount(remote, 'main')).toBe(before);
    await again.put(record('api'));
    expect(listFiles(remote, 'main')).toEqual(['records/team-a/api-local.yaml']);
  });

  it('sends basicAuth credentials through the askpass helper only and never prints them', async () => {
    const seen: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const header = req.headers.authorization;
      seen.push(`${req.url ?? ''} ${header ?? '-'}`);
      if (header === undefined) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="vigil"' }).end();
      } else {
        res.writeHead(403).end('forbidden');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const dir = tempDir('vigil-git-');
      const store = new GitStateStore({ url: `http://bot:s3cret-pw@127.0.0.1:${port}/repo.git`, workDir: join(dir, 'work'), logger: silentLogger() });
      const error = await store.init().then(() => undefined, (err: unknown) => err as Error);
      expect(error?.message).toMatch(new RegExp(`^store\\.url: cannot reach "http://\\*\\*\\*@127\\.0\\.0\\.1:${port}/repo\\.git": `));
      expect(error?.message).not.toContain('s3cret-pw');
      expect(store.describe()).not.toContain('s3cret-pw');
      expect(seen.some((line) => line.endsWith(`Basic ${Buffer.from('bot:s3cret-pw').toString('base64')}`))).toBe(true);
      expect(git(join(dir, 'work', 'repo'), 'remote', 'get-url', 'origin')).toBe(`http://127.0.0.1:${port}/repo.git`);
      expect(statSync(join(dir, 'work', 'auth', 'askpass.sh')).mode & 0o777).toBe(0o700);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('writes the ssh key and known_hosts as private files and keeps the key out of errors', async () => {
    const dir = tempDir('vigil-git-');
    const port = await freePort();
    const privateKey = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----';
    const knownHosts = `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`;
    const store = new GitStateStore({ url: `ssh://git@127.0.0.1:${port}/repo.git`, auth: { kind: 'ssh', privateKey, knownHosts }, workDir: join(dir, 'work'), logger: silentLogger() });
    const error = await store.init().then(() => undefined, (err: unknown) => err as Error);
    expect(error?.message).toMatch(new RegExp(`^store\\.url: cannot reach "ssh://\\*\\*\\*@127\\.0\\.0\\.1:${port}/repo\\.git": `));
    expect(error?.message).toContain('ssh: connect to host 127.0.0.1');
    expect(error?.message).not.toContain('not-a-real-key');
    expect(statSync(join(dir, 'work', 'auth', 'id_key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'work', 'auth', 'known_hosts'), 'utf8')).toBe(knownHosts);
    expect(statSync(join(dir, 'work')).mode & 0o777).toBe(0o700);
  });

  it('refuses unsafe settings naming the field', () => {
    const base = { workDir: '/nonexistent', logger: silentLogger() };
    expect(() => new GitStateStore({ ...base, url: '--upload-pack=evil' })).toThrow(/^store\.url: .* must not start with '-'/);
    expect(() => new GitStateStore({ ...base, url: '/r.git', path: '../up' })).toThrow(/^store\.path: "\.\.\/up"/);
    expect(() => new GitStateStore({ ...base, url: '/r.git', branch: '-x' })).toThrow(/^store\.branch: "-x"/);
  });
});

const daemon = gitDaemonAvailable();
if (!daemon) console.warn('GitStateStore git:// test skipped: git daemon is not installed');

describe.skipIf(!daemon)('GitStateStore over git://', () => {
  it('pushes records through git daemon on a loopback port', async () => {
    const dir = tempDir('vigil-git-');
    const remote = bareRemote(dir);
    git(remote, 'config', 'daemon.receivepack', 'true');
    const server = await startGitDaemon(dir);
    try {
      const store = new GitStateStore({ url: `git://127.0.0.1:${server.port}/remote.git`, workDir: join(dir, 'work'), logger: silentLogger(), flushIntervalMs: 100 });
      await store.init();
      await store.put(record('web'));
      await store.close();
      expect(listFiles(remote, 'main')).toEqual(['team-a/web-local.yaml']);
    } finally {
      await server.stop();
    }
  });
});

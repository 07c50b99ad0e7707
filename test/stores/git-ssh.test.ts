/**
 * The git state store over ssh:// against a real OpenSSH server on loopback (test/support/sshd.ts):
 * authMethod ssh with a throwaway key and known_hosts, as a Kubernetes Secret would hold them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitStateStore } from '../../agent/src/stores/GitStateStore.js';
import { buildHealthRecord } from '../../agent/src/core/record.js';
import type { HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { tempDir } from '../support/tmp.js';
import { bareRemote, commitCount, git, listFiles, showFile } from '../support/git.js';
import { AgentProcess } from '../support/cli.js';
import { waitFor } from '../support/tmp.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { toYaml } from '../../agent/src/core/yaml.js';
import { sshdUnavailableReason, startSshd, type Sshd } from '../support/sshd.js';

const unavailable = sshdUnavailableReason();
if (unavailable) console.warn(`skipping git over ssh tests: ${unavailable}`);

function record(name: string, state: HealthRecord['data']['state'] = 'healthy'): HealthRecord {
  return buildHealthRecord({
    definition: { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthDefinition', metadata: { name, namespace: 'team-a' }, spec: { promiseRef: { name: 'p' }, schedule: '@hourly' } },
    destination: 'local',
    state,
    details: {},
    finishedAt: Date.now(),
  });
}

describe.skipIf(unavailable !== undefined)('GitStateStore over ssh:// (real sshd)', () => {
  let sshd: Sshd;
  const stores: GitStateStore[] = [];
  beforeAll(async () => { sshd = await startSshd(); });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await sshd.stop();
  });

  it('the sshd helper accepts the generated key with strict host key checking', () => {
    const out = execFileSync('ssh', [...sshd.sshArgs(), 'echo', 'hello-from-sshd'], { encoding: 'utf8' });
    expect(out.trim()).toBe('hello-from-sshd');
    expect(sshd.knownHostsLine).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}`);
  });

  it('pushes, updates and deletes records with authMethod ssh (sshPrivateKey + knownHosts)', async () => {
    const dir = tempDir('vigil-git-ssh-');
    const remote = bareRemote(dir);
    const store = new GitStateStore({
      url: sshd.url(remote),
      path: 'records',
      auth: { kind: 'ssh', privateKey: sshd.userKey, knownHosts: `${sshd.knownHostsLine}\n` },
      workDir: join(dir, 'work'),
      logger: silentLogger(),
      flushIntervalMs: 100,
    });
    stores.push(store);
    await store.init();
    const web = record('web');
    await Promise.all([store.put(web), store.put(record('db', 'degraded'))]);
    expect(parseYamlDocument(showFile(remote, 'main', 'records/team-a/web-local.yaml') ?? '')).toEqual(web);
    expect(commitCount(remote, 'main')).toBe(2); // branch creation + one batch
    await store.put(record('web', 'unhealthy'));
    expect(showFile(remote, 'main', 'records/team-a/web-local.yaml')).toContain('state: unhealthy');
    await store.delete({ namespace: 'team-a', name: 'db-local' });
    expect(showFile(remote, 'main', 'records/team-a/db-local.yaml')).toBeUndefined();
    expect(git(remote, 'fsck', '--strict')).toBe('');
    expect(sshd.log()).toMatch(/Accepted publickey for/);
  });

  it('refuses a server whose host key is not in knownHosts, naming store.url', async () => {
    const dir = tempDir('vigil-git-ssh-');
    const remote = bareRemote(dir);
    const otherHost = `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDJp0HNO4zBQHBd0ywl8qVMf7Ng8VxU1WYvyRdJ2Vq3X\n`;
    const store = new GitStateStore({
      url: sshd.url(remote),
      auth: { kind: 'ssh', privateKey: sshd.userKey, knownHosts: otherHost },
      workDir: join(dir, 'work'),
      logger: silentLogger(),
    });
    stores.push(store);
    const error = await store.init().then(() => undefined, (err: unknown) => err as Error);
    expect(error?.message).toMatch(/^store\.url: cannot reach "ssh:\/\/.*": .*(HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key)/i);
    expect(error?.message).not.toContain('PRIVATE KEY');
  });

  it('the real agent pushes over ssh with the key and known_hosts read from store.secretDir (a mounted Secret)', async () => {
    const root = tempDir('vigil-git-ssh-agent-');
    const remote = bareRemote(root);
    mkdirSync(join(root, 'definitions'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), toYaml(checkDefinition([shell('check', `echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)], { promiseRef: { name: 'demo' } }, 'a')));
    mkdirSync(join(root, 'secret'));
    writeFileSync(join(root, 'secret', 'sshPrivateKey'), sshd.userKey);
    writeFileSync(join(root, 'secret', 'knownHosts'), `${sshd.knownHostsLine}\n`);
    writeFileSync(join(root, 'vigil.yaml'), toYaml({
      destination: 'ssh',
      definitions: { paths: ['./definitions'] },
      dataDir: './data',
      store: { kind: 'git', url: sshd.url(remote), path: 'platform-health', authMethod: 'ssh', secretDir: './secret', flushIntervalSeconds: 1 },
      server: { listen: 'off' },
      scheduler: { runOnStart: 'always', spreadSeconds: 0 },
    }));
    const agent = new AgentProcess(['--config', join(root, 'vigil.yaml')]);
    try {
      await waitFor(() => {
        try {
          return listFiles(remote, 'main').includes('platform-health/default/a-ssh.yaml');
        } catch {
          return false;
        }
      }, 'the record pushed over ssh', 60_000);
      expect(showFile(remote, 'main', 'platform-health/default/a-ssh.yaml')).toContain('state: healthy');
      expect(agent.dump()).not.toContain('PRIVATE KEY');
    } finally {
      await agent.stop();
    }
  }, 90_000);

  it('refuses a key the server does not authorize, naming store.url', async () => {
    const dir = tempDir('vigil-git-ssh-');
    const remote = bareRemote(dir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    const store = new GitStateStore({
      url: sshd.url(remote),
      auth: { kind: 'ssh', privateKey: readFileSync(join(dir, 'stranger'), 'utf8'), knownHosts: `${sshd.knownHostsLine}\n` },
      workDir: join(dir, 'work'),
      logger: silentLogger(),
    });
    stores.push(store);
    await expect(store.init()).rejects.toThrow(/^store\.url: cannot reach "ssh:\/\/.*": .*Permission denied \(publickey\)/);
  });
});

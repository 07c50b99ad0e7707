/**
 * The real `vigil agent` process with `store.kind: kubernetes` against the wire-level fake API
 * server (test/support/fake-kube) through a kubeconfig file: records arrive as HealthRecord
 * objects; a cluster without the CRD, a rejected token or a server that is down is reported at
 * start naming the setting, checks keep running, records stay pending (visible in
 * /api/v1/status) and are delivered once the cluster is reachable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { toYaml } from '../../agent/src/core/yaml.js';
import { FakeKubeServer, defaultResources } from '../support/fake-kube/index.js';

const AV = 'platform.kratix.io/v1alpha1';
const agents: AgentProcess[] = [];
const servers: FakeKubeServer[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fakeKube(options: Parameters<typeof FakeKubeServer.start>[0] = {}): Promise<FakeKubeServer> {
  const server = await FakeKubeServer.start(options);
  servers.push(server);
  return server;
}

function start(kubeconfigYaml: string, store: Record<string, unknown> = {}): AgentProcess {
  const root = tempDir('vigil-kube-agent-');
  mkdirSync(join(root, 'definitions'));
  for (const name of ['a', 'b']) {
    writeFileSync(join(root, 'definitions', `${name}.yaml`), toYaml(checkDefinition([shell('check', `echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)], { promiseRef: { name: 'demo' }, schedule: '@hourly' }, name)));
  }
  writeFileSync(join(root, 'kubeconfig'), kubeconfigYaml);
  writeFileSync(join(root, 'vigil.yaml'), toYaml({
    destination: 'edge',
    definitions: { paths: ['./definitions'] },
    dataDir: './data',
    store: { kind: 'kubernetes', kubeconfig: './kubeconfig', ...store },
    server: { listen: '127.0.0.1:0' },
    scheduler: { runOnStart: 'always', spreadSeconds: 0 },
  }));
  const agent = new AgentProcess(['--config', join(root, 'vigil.yaml')]);
  agents.push(agent);
  return agent;
}

interface StoreStatus { kind: string; pending: number; oldestPendingSeconds: number | null; lastError: { message: string } | null }

async function storeStatus(agent: AgentProcess): Promise<StoreStatus> {
  const response = await fetch(`${await agent.url()}/api/v1/status`);
  return ((await response.json()) as { store: StoreStatus }).store;
}

async function bothPending(agent: AgentProcess): Promise<StoreStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await storeStatus(agent);
    if (status.pending === 2 || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function records(server: FakeKubeServer, namespace: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const names = server.store.list(AV, 'HealthRecord', namespace).map((o) => `${o.metadata.name!} ${(o.data as { state: string }).state}`).sort();
    if (names.length >= count || Date.now() > deadline) return names;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil agent with the kubernetes store', () => {
  it('applies every record as a HealthRecord in the definition\'s namespace, or in store.namespace', async () => {
    const server = await fakeKube({ namespaces: ['default', 'health'] });
    const agent = start(server.kubeconfigYaml());
    expect(await records(server, 'default', 2)).toEqual(['a-edge healthy', 'b-edge healthy']);
    expect(agent.find((l) => l.msg === 'kubernetes state store ready')).toBeDefined();
    expect(server.store.get(AV, 'HealthRecord', 'default', 'a-edge')).toMatchObject({ metadata: { labels: { 'app.kubernetes.io/managed-by': 'vigil', 'health.vigil.dev/destination': 'edge' } }, data: { promiseRef: { name: 'demo' } } });
    expect((await storeStatus(agent)).kind).toBe('kubernetes');
    await agent.stop('SIGKILL');
    const other = start(server.kubeconfigYaml(), { namespace: 'health' });
    expect(await records(server, 'health', 2)).toEqual(['default-a-edge healthy', 'default-b-edge healthy']);
    expect(other.running).toBe(true);
  }, 90_000);

  it.each([
    ['a cluster without the HealthRecord CRD', { resources: defaultResources({ without: ['healthrecords.platform.kratix.io'] }) }, {}, /^store\.kubeconfig \(.*kubeconfig\): the cluster at http:\/\/127\.0\.0\.1:\d+ does not serve platform\.kratix\.io\/v1alpha1 HealthRecord; install the HealthRecord CRD/],
    ['a rejected token', { token: 'the-right-token' }, { token: 'not-the-token' }, /^store\.kubeconfig \(.*kubeconfig\): the Kubernetes API server http:\/\/127\.0\.0\.1:\d+ rejected the credentials \(401 Unauthorized\)/],
  ])('%s is reported at start naming the setting; checks run and their records stay pending', async (_what, serverOptions, kubeconfigOptions, pattern) => {
    const server = await fakeKube(serverOptions);
    const agent = start(server.kubeconfigYaml(kubeconfigOptions));
    const line = await agent.waitForLine((l) => l.msg === 'cannot list the state store; continuing', 'the store error at start', 30_000);
    expect(String(line.err)).toMatch(pattern);
    await agent.waitForLine((l) => l.msg === 'state store write failed; will retry', 'a record waiting for the store', 30_000);
    expect(agent.running).toBe(true);
    const status = await bothPending(agent);
    expect(status).toMatchObject({ kind: 'kubernetes', pending: 2 });
    expect(status.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
    expect(status.lastError?.message).toMatch(pattern);
    expect(agent.dump()).not.toContain('not-the-token');
  }, 90_000);

  it('an API server down at start: checks run, records wait in the outbox, and arrive once it is up', async () => {
    const probe = await FakeKubeServer.start();
    const port = probe.port;
    const kubeconfig = probe.kubeconfigYaml();
    await probe.close();
    const agent = start(kubeconfig);
    const line = await agent.waitForLine((l) => l.msg === 'cannot list the state store; continuing', 'the store error at start', 30_000);
    expect(String(line.err)).toMatch(/^store\.kubeconfig \(.*kubeconfig\): cannot reach the Kubernetes API server http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    await agent.waitForLine((l) => l.msg === 'state store write failed; will retry', 'a record waiting for the store', 30_000);
    expect((await bothPending(agent)).pending).toBe(2);
    const server = await fakeKube({ port });
    expect(await records(server, 'default', 2)).toEqual(['a-edge healthy', 'b-edge healthy']);
    const deadline = Date.now() + 30_000;
    while ((await storeStatus(agent)).pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await storeStatus(agent)).pending).toBe(0);
  }, 150_000);
});

/**
 * `vigil agent --source kubernetes --runtime kubernetes --kubeconfig <file>` as a real process
 * against the fake API server: it reconciles a definition into a CronJob, collects a run into a
 * record, serves /healthz /readyz /metrics and the status API, logs pino JSON, and exits 0 on
 * SIGTERM.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { AgentProcess } from '../../support/cli.js';
import { tempDir, waitFor } from '../../support/tmp.js';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { ADAPTER_CONTAINER, cronJobName } from '../../../agent/src/kubernetes/resources/index.js';
import { encodeReport } from '../../../agent/src/kubernetes/transport/report.js';
import { HD_API, hd } from '../controller/harness.js';

const NS = 'default';

describe('vigil agent in Kubernetes mode, as a process', () => {
  let fake: FakeKubeServer;
  let dir: string;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ namespaces: [NS] });
    dir = tempDir('vigil-k8s-cli-');
    writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfigYaml());
  });
  afterEach(async () => {
    if (agent?.running) await agent.stop('SIGKILL');
    agent = undefined;
    await fake.close();
  });

  it('reconciles a definition into a CronJob, writes the record of a run, serves health, readiness and metrics, and exits 0 on SIGTERM', async () => {
    fake.store.put(hd('redis-cli', NS, { promiseVersion: 'v2.0.0' }));
    agent = new AgentProcess(
      ['--source', 'kubernetes', '--runtime', 'kubernetes', '--kubeconfig', join(dir, 'kubeconfig'), '--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--data-dir', join(dir, 'data'), '--destination', 'cluster-a'],
      { VIGIL_AGENT_IMAGE: 'ghcr.io/vigil-health/vigil:test', VIGIL_CONFIG: '' },
    );
    const url = await agent.url();
    const def = (): any => fake.store.get(HD_API, 'HealthDefinition', NS, 'redis-cli');
    const cj = cronJobName({ metadata: { namespace: NS, name: 'redis-cli' } });
    await waitFor(() => fake.store.get('batch/v1', 'CronJob', NS, cj) !== undefined, 'the CronJob', 30_000);
    const cron: any = fake.store.get('batch/v1', 'CronJob', NS, cj);
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].image).toBe('ghcr.io/vigil-health/vigil:test');
    expect(cron.metadata.annotations['health.vigil.dev/destination']).toBe('cluster-a');
    await waitFor(() => def().status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true, 'Ready=True', 30_000);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const status = await (await fetch(`${url}/api/v1/status`)).json() as any;
    expect(status).toMatchObject({ mode: 'kubernetes', ready: true, leader: true, destination: 'cluster-a', definitions: 1 });

    // A run: the record lands in the fs store, named <definition>-<destination>.
    const { job, pod } = fake.workloads.fireCronJob(NS, cj);
    fake.workloads.completePod(NS, pod.metadata.name!, { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: encodeReport({ v: 1, output: 'status', state: 'degraded', details: { lag: 4 }, finishedAt: Date.now() }) } });
    const file = join(dir, 'state', NS, 'redis-cli-cluster-a.yaml');
    await waitFor(() => existsSync(file), 'the record', 30_000);
    const record = parseYamlDocument(readFileSync(file, 'utf8')) as any;
    expect(record.metadata.name).toBe('redis-cli-cluster-a');
    expect(record.data).toMatchObject({ state: 'degraded', details: { lag: 4 }, promiseVersion: 'v2.0.0' });
    await waitFor(() => def().status?.lastJob === job.metadata.name, 'status.lastJob', 30_000);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^# (HELP|TYPE) /m);
    const definition = await (await fetch(`${url}/api/v1/definitions/${NS}/redis-cli`)).json() as any;
    expect(definition).toMatchObject({ namespace: NS, name: 'redis-cli', cronJobName: cj, state: 'degraded' });

    // Logs are pino JSON lines with a level and a message.
    expect(agent.find((l) => l.msg === 'caches synced')).toMatchObject({ level: expect.any(Number) });
    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(agent.find((l) => l.msg === 'stopped')).toBeDefined();
    expect(fake.openWatches).toBe(0);
  }, 120_000);

  it('exits 2 naming the setting when the agent image is missing', async () => {
    agent = new AgentProcess(
      ['--source', 'kubernetes', '--runtime', 'kubernetes', '--kubeconfig', join(dir, 'kubeconfig'), '--listen', 'off', '--state-dir', join(dir, 'state'), '--data-dir', join(dir, 'data')],
      { VIGIL_AGENT_IMAGE: '', VIGIL_CONFIG: '' },
    );
    expect(await agent.wait()).toBe(2);
    expect(agent.dump()).toContain('runtime.kubernetes.agentImage');
  }, 60_000);
});

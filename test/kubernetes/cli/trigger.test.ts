/** `vigil trigger <ns>/<name>` as a real process against the fake API server. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { tempDir, waitFor } from '../../support/tmp.js';
import { vigil } from '../../support/cli.js';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { ADAPTER_CONTAINER, cronJobName } from '../../../agent/src/kubernetes/resources/index.js';
import { RUN_NOW_ANNOTATION, runNowJobName } from '../../../agent/src/kubernetes/controller/apply.js';
import { encodeReport } from '../../../agent/src/kubernetes/transport/report.js';
import type { KubernetesController } from '../../../agent/src/kubernetes/controller/Controller.js';
import { HD_API, hd, makeController } from '../controller/harness.js';

const NS = 'default';

describe('vigil trigger against the fake API server', () => {
  let fake: FakeKubeServer;
  let dir: string;
  let kubeconfig: string;
  const running: KubernetesController[] = [];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ namespaces: ['default'] });
    dir = tempDir('vigil-trigger-');
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeconfigYaml());
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await fake.close();
  });

  async function startController(): Promise<KubernetesController> {
    const { controller } = makeController({ kc: fake.kubeConfig(), dir });
    running.push(controller);
    await controller.start();
    return controller;
  }

  const definition = (name: string): any => fake.store.get(HD_API, 'HealthDefinition', NS, name);
  const jobs = (): any[] => fake.store.list('batch/v1', 'Job', NS);

  it('creates one Job from the CronJob even with no agent running; the agent then collects it and creates no second Job', async () => {
    const first = await startController();
    fake.store.put(hd('redis-a'));
    const cj = cronJobName(definition('redis-a'));
    await waitFor(() => fake.store.get('batch/v1', 'CronJob', NS, cj) !== undefined, 'CronJob');
    await waitFor(() => definition('redis-a').status?.cronJobName === cj, 'status.cronJobName');
    running.splice(running.indexOf(first), 1);
    await first.stop();

    const out = await vigil(['trigger', `${NS}/redis-a`, '--kubeconfig', kubeconfig, '--request', 'req-1', '-o', 'json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ definition: 'default/redis-a', cronJob: cj, job: runNowJobName(cj, 'req-1'), request: 'req-1', created: true, annotated: true });
    expect(jobs()).toHaveLength(1);
    const job = jobs()[0];
    expect(job.metadata.name).toBe(result.job);
    expect(job.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata.ownerReferences[0]).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob', name: cj, controller: true });
    expect(job.metadata.labels['app.kubernetes.io/managed-by']).toBe('vigil');
    expect(job.spec.template.spec.containers[0].name).toBe(ADAPTER_CONTAINER);
    expect(definition('redis-a').metadata.annotations[RUN_NOW_ANNOTATION]).toBe('req-1');

    // The same request again: nothing new.
    const again = await vigil(['trigger', `${NS}/redis-a`, '--kubeconfig', kubeconfig, '--request', 'req-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already exists: Job default/${result.job}`);
    expect(jobs()).toHaveLength(1);

    // The agent comes back: it sees the annotation, finds the Job and creates no second one.
    const second = await startController();
    await waitFor(() => definition('redis-a').status?.runNowHandled === 'req-1', 'runNowHandled');
    await second.idle();
    expect(jobs()).toHaveLength(1);
    expect((second.summary() as any).counters.runNow).toBe(0);

    // The run is collected like any other.
    const pod = fake.workloads.startJob(NS, result.job);
    fake.workloads.completePod(NS, pod.metadata.name!, { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: encodeReport({ v: 1, output: 'status', state: 'healthy', finishedAt: Date.now() }) } });
    const recordFile = join(dir, 'state', NS, 'redis-a-test-cluster.yaml');
    await waitFor(() => existsSync(recordFile), 'record', 20_000);
    expect((parseYamlDocument(readFileSync(recordFile, 'utf8')) as any).data.state).toBe('healthy');
    expect((second.summary() as any).counters.runsCollected).toBe(1);
  }, 90_000);

  it('a new request while the agent runs makes exactly one more Job', async () => {
    const c = await startController();
    fake.store.put(hd('redis-b'));
    await waitFor(() => definition('redis-b')?.status?.cronJobName !== undefined, 'reconciled');
    const out = await vigil(['trigger', `${NS}/redis-b`, '--kubeconfig', kubeconfig]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^created Job default\/\S+ from CronJob \S+ \(request trigger-\S+\)\n$/);
    const request = definition('redis-b').metadata.annotations[RUN_NOW_ANNOTATION];
    await waitFor(() => definition('redis-b').status?.runNowHandled === request, 'handled');
    await c.idle();
    expect(jobs()).toHaveLength(1);
  }, 90_000);

  it('names the definition when it does not exist, the CronJob when it is missing, and refuses bad arguments', async () => {
    const missing = await vigil(['trigger', `${NS}/nope`, '--kubeconfig', kubeconfig]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HealthDefinition default/nope not found');

    fake.store.put(hd('unreconciled'));
    const noCron = await vigil(['trigger', `${NS}/unreconciled`, '--kubeconfig', kubeconfig]);
    expect(noCron.code).toBe(1);
    expect(noCron.stderr).toMatch(/HealthDefinition default\/unreconciled: CronJob default\/\S+ not found; it has no status yet: is the vigil agent running\?/);

    const bad = await vigil(['trigger', 'no-slash', '--kubeconfig', kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('<namespace>/<name>: "no-slash"');

    const noFile = await vigil(['trigger', `${NS}/x`, '--kubeconfig', join(dir, 'missing')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--kubeconfig: cannot load kubeconfig');
    expect(jobs()).toHaveLength(0);
  }, 90_000);
});

/**
 * The controller scenarios against a REAL API server, when VIGIL_E2E_KUBECONFIG names a
 * kubeconfig (a kind/k3d/minikube cluster with the CRDs installed: kubectl apply -f
 * agent/manifests/crds; the user needs cluster-admin: the suite works in a fresh namespace it
 * deletes after).
 * Skipped otherwise, with the reason printed.
 *
 *   VIGIL_E2E_KUBECONFIG=~/.kube/config npx vitest run test/kubernetes/e2e/real-cluster.test.ts
 *
 * Runs need no vigil image in the cluster: the run-now scenario uses an image that cannot be
 * pulled, so the real kubelet's ErrImagePull/ImagePullBackOff becomes an `ImagePull` record.
 * Watch expiry (410) and silent stalls cannot be caused on demand on a real server; those two
 * scenarios run against the fake only (test/kubernetes/controller/Controller.test.ts).
 *
 * VIGIL_E2E_KUBECONFIG=fake runs this file against the wire-level fake with a simulated kubelet
 * that cannot pull the missing image: a check of the suite itself where no cluster is at hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { REPO } from '../../support/cli.js';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { tempDir, waitFor } from '../../support/tmp.js';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { Kube } from '../../../agent/src/kubernetes/client.js';
import { cronJobName } from '../../../agent/src/kubernetes/resources/index.js';
import { RUN_NOW_ANNOTATION } from '../../../agent/src/kubernetes/controller/apply.js';
import type { KubernetesController } from '../../../agent/src/kubernetes/controller/Controller.js';
import { HD_API, hd, makeController } from '../controller/harness.js';

const KUBECONFIG = process.env.VIGIL_E2E_KUBECONFIG;
const SKIP_REASON = 'VIGIL_E2E_KUBECONFIG is not set: the real-cluster scenarios are skipped (set it to a kubeconfig with cluster-admin on a disposable cluster to run them)';
if (!KUBECONFIG) console.warn(`test/kubernetes/e2e/real-cluster.test.ts: ${SKIP_REASON}`);

const MISSING_IMAGE = 'registry.invalid/vigil-e2e/missing:v0';

describe.skipIf(!KUBECONFIG)('KubernetesController against a real API server (VIGIL_E2E_KUBECONFIG)', () => {
  const ns = `vigil-e2e-${randomBytes(3).toString('hex')}`;
  const dir = tempDir('vigil-e2e-');
  let kc: KubeConfig;
  let kube: Kube;
  let fake: FakeKubeServer | undefined;
  const running: KubernetesController[] = [];

  beforeAll(async () => {
    let file = KUBECONFIG!;
    if (file === 'fake') {
      fake = await FakeKubeServer.start({ namespaces: ['default'] });
      fake.workloads.autoRun((pod) => ((pod.spec as any).initContainers ?? []).some((c: any) => c.image === MISSING_IMAGE) ? { kind: 'imagePullError', container: 'check' } : undefined);
      file = join(dir, 'kubeconfig');
      writeFileSync(file, fake.kubeconfigYaml());
    }
    kc = new KubeConfig();
    kc.loadFromFile(file);
    kube = new Kube(kc);
    // The CRDs must be installed (kubectl apply -f agent/manifests/crds): creating them through
    // the typed client would drop x-kubernetes-preserve-unknown-fields (its model has no such key).
    try {
      await kube.list(HD_API, 'HealthDefinition', { namespace: 'default' });
    } catch (err) {
      throw new Error(`VIGIL_E2E_KUBECONFIG: the cluster does not serve HealthDefinitions; install the CRDs first (kubectl apply -f ${join(REPO, 'agent/manifests/crds')}): ${(err as Error).message}`, { cause: err });
    }
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }, 120_000);

  afterAll(async () => {
    for (const c of running.splice(0)) await c.stop();
    await kube.delete('v1', 'Namespace', undefined, ns);
    await fake?.close();
  }, 120_000);

  async function start(options: Parameters<typeof makeController>[0]['options'] = {}): Promise<KubernetesController> {
    const { controller } = makeController({ kc, dir, options: { namespaces: [ns], startErrorAfterSeconds: 10, unschedulableAfterSeconds: 30, stallSeconds: 60, ...options } });
    running.push(controller);
    await controller.start();
    return controller;
  }
  async function stop(c: KubernetesController): Promise<void> {
    running.splice(running.indexOf(c), 1);
    await c.stop();
  }

  let cache: Record<string, any> = {};
  /** Polls the API (the waits below are synchronous predicates over the last poll). */
  async function poll(what: string, read: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await read())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const definition = async (name: string): Promise<any> => (cache[name] = await kube.get(HD_API, 'HealthDefinition', ns, name));
  const condition = async (name: string, type: string): Promise<any> => ((await definition(name))?.status?.conditions ?? []).find((c: any) => c.type === type);
  const recordFile = (name: string): string => join(dir, 'state', ns, `${name}-test-cluster.yaml`);

  it('creates the objects of a definition owned by it, updates them in place, and reports Ready', async () => {
    cache = {};
    await start();
    await kube.create(hd('e2e-a', ns));
    await poll('Ready=True', async () => (await condition('e2e-a', 'Ready'))?.status === 'True');
    const cj = cronJobName({ metadata: { namespace: ns, name: 'e2e-a' } });
    const cron: any = await kube.get('batch/v1', 'CronJob', ns, cj);
    expect(cron.spec).toMatchObject({ schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300 });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 300 });
    expect(cron.metadata.ownerReferences[0]).toMatchObject({ kind: 'HealthDefinition', name: 'e2e-a' });
    expect(cache['e2e-a'].status).toMatchObject({ observedGeneration: cache['e2e-a'].metadata.generation, cronJobName: cj });

    await kube.mergePatch({ apiVersion: HD_API, kind: 'HealthDefinition', metadata: { name: 'e2e-a', namespace: ns }, spec: { schedule: '@hourly' } });
    await poll('CronJob updated', async () => ((await kube.get<any>('batch/v1', 'CronJob', ns, cj))?.spec.schedule === '0 * * * *'));
    expect((await kube.get<any>('batch/v1', 'CronJob', ns, cj)).metadata.uid).toBe(cron.metadata.uid);
  }, 180_000);

  it('rejects a bad definition with a status condition while the others keep running', async () => {
    await kube.create(hd('e2e-bad', ns, { schedule: '@every 5m' }));
    await kube.create(hd('e2e-good', ns));
    await poll('bad rejected', async () => (await condition('e2e-bad', 'Ready'))?.reason === 'InvalidSpec');
    expect((await condition('e2e-bad', 'Ready')).message).toContain('spec.schedule');
    await poll('good Ready', async () => (await condition('e2e-good', 'Ready'))?.status === 'True');
  }, 180_000);

  it('runs now from the annotation; the real kubelet fails to pull the image and the run becomes an ImagePull record, once', async () => {
    const body = hd('e2e-pull', ns);
    body.spec.workflow.spec.containers[0].image = MISSING_IMAGE;
    await kube.create(body);
    await poll('Ready', async () => (await condition('e2e-pull', 'Ready'))?.status === 'True');
    await kube.mergePatch({ apiVersion: HD_API, kind: 'HealthDefinition', metadata: { name: 'e2e-pull', namespace: ns, annotations: { [RUN_NOW_ANNOTATION]: 'e2e-1' } } });
    await waitFor(() => existsSync(recordFile('e2e-pull')), 'the record', fake ? 30_000 : 240_000);
    const record = parseYamlDocument(readFileSync(recordFile('e2e-pull'), 'utf8')) as any;
    expect(record.data.state).toBe('unknown');
    expect(record.data.details.error.reason).toBe('ImagePull');
    await poll('Failing=ImagePull', async () => (await condition('e2e-pull', 'Failing'))?.reason === 'ImagePull');
  }, 300_000);

  it('collects nothing twice across a restart', async () => {
    for (const c of [...running]) await stop(c);
    const again = await start();
    await again.idle();
    await new Promise((r) => setTimeout(r, 3_000));
    await again.idle();
    expect((again.summary() as any).counters.runsCollected).toBe(0);
  }, 120_000);

  it('deletes the objects and the record of a deleted definition', async () => {
    await kube.delete(HD_API, 'HealthDefinition', ns, 'e2e-pull');
    await waitFor(() => !existsSync(recordFile('e2e-pull')), 'record removed', 60_000);
    const cj = cronJobName({ metadata: { namespace: ns, name: 'e2e-pull' } });
    await poll('CronJob gone', async () => (await kube.get('batch/v1', 'CronJob', ns, cj)) === undefined, 120_000);
  }, 180_000);

  it('with leader election, a standby takes over within about 15 s of the leader dying', async () => {
    for (const c of [...running]) await stop(c);
    const le = { namespace: ns, name: 'vigil-e2e', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
    const a = await start({ leaderElection: { ...le, identity: 'a' } });
    await waitFor(() => a.isLeader, 'a leads', 60_000);
    const b = await start({ leaderElection: { ...le, identity: 'b' } });
    // The leader dies without releasing the lease.
    await (a as any).elector.stop(false);
    (a as any).leading = false;
    const died = Date.now();
    await waitFor(() => b.isLeader, 'b leads', 60_000);
    console.info(`real-cluster failover took ${Date.now() - died} ms (lease 15 s)`);
    await kube.create(hd('e2e-after', ns));
    await poll('reconciled by b', async () => (await condition('e2e-after', 'Ready'))?.status === 'True');
  }, 180_000);
});

/**
 * A controller restarted over existing objects writes nothing, even when the HealthDefinition
 * list arrives before the lists of the objects it owns (found by bench:k8s: reconciles started
 * before every cache had synced, saw no objects, and re-created them: POST 409, GET, PUT each).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { tempDir, waitFor } from '../../support/tmp.js';
import type { KubernetesController } from '../../../agent/src/kubernetes/controller/Controller.js';
import { HD_API, hd, makeController } from './harness.js';

const NS = 'default';
const COUNT = 12;

describe('KubernetesController restart', () => {
  let fake: FakeKubeServer;
  let dir: string;
  const running: KubernetesController[] = [];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ bookmarkIntervalMs: 500 });
    dir = tempDir('vigil-k8s-restart-');
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await fake.close();
  });

  async function start(): Promise<KubernetesController> {
    const { controller } = makeController({ kc: fake.kubeConfig(), dir });
    running.push(controller);
    await controller.start();
    return controller;
  }

  const ready = (name: string): boolean => {
    const d: any = fake.store.get(HD_API, 'HealthDefinition', NS, name);
    return d?.status?.observedGeneration === d?.metadata.generation && d?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
  };
  const names = Array.from({ length: COUNT }, (_, i) => `check-${i}`);

  it('makes no write when the owned objects are listed after the definitions', async () => {
    for (const name of names) {
      const def = hd(name);
      if (name.endsWith('1')) def.spec.workflow.spec.rbac = { permissions: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNamespace: '*' }] };
      fake.store.put(def);
    }
    const first = await start();
    await waitFor(() => names.every(ready), 'every definition Ready', 30_000);
    await first.idle();
    running.splice(running.indexOf(first), 1);
    await first.stop();
    const before = fake.store.list('batch/v1', 'CronJob').map((o) => o.metadata.resourceVersion);

    // The lists of ServiceAccounts, ConfigMaps and CronJobs fail a few times: the definitions
    // are known well before the objects they own.
    fake.requests.clear();
    for (const plural of ['serviceaccounts', 'configmaps', 'cronjobs']) {
      fake.failNext((r) => r.method === 'GET' && !r.watch && r.path.endsWith(`/${plural}`), 500, { times: 3 });
    }
    const second = await start();
    await second.idle();
    await new Promise((r) => setTimeout(r, 300));
    await second.idle();

    expect(fake.requests.count((r) => r.method === 'GET' && !r.watch && r.path.endsWith('/serviceaccounts'))).toBeGreaterThanOrEqual(4);
    expect(fake.requests.writes().map((r) => `${r.method} ${r.path} ${r.status ?? ''}`)).toEqual([]);
    expect(fake.store.list('batch/v1', 'CronJob').map((o) => o.metadata.resourceVersion)).toEqual(before);
    expect(names.every(ready)).toBe(true);
  }, 60_000);
});

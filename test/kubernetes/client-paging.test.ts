/**
 * Paged lists through the real client: every page of a custom resource's list is read (found by
 * bench:k8s: KubernetesObjectApi.list drops `metadata.continue` for kinds it has no model for,
 * so a controller saw only the first 500 of 1,000 HealthDefinitions).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../support/fake-kube/index.js';
import { Kube } from '../../agent/src/kubernetes/client.js';
import { ResilientInformer } from '../../agent/src/kubernetes/watch/ResilientInformer.js';
import { silentLogger } from '../../agent/src/logging/logger.js';

const HD_API = 'platform.kratix.io/v1alpha1';

describe('Kube.listAll pages', () => {
  let fake: FakeKubeServer;

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ namespaces: ['default', 'team-a', 'team-b'] });
  });

  afterEach(async () => {
    await fake.close();
  });

  function seed(count: number): void {
    for (let i = 0; i < count; i++) {
      const namespace = i % 2 === 0 ? 'team-a' : 'team-b';
      fake.store.put({ apiVersion: HD_API, kind: 'HealthDefinition', metadata: { name: `hd-${i}`, namespace, labels: { batch: String(i % 3) } }, spec: { promiseRef: { name: 'redis' }, schedule: '@hourly' } });
      fake.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace } });
      fake.store.put({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: `job-${i}`, namespace }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } });
    }
  }

  const lists = (plural: string): number => fake.requests.count((r) => r.method === 'GET' && !r.watch && r.path.endsWith(`/${plural}`));

  it('reads every page of a custom resource, a grouped built-in and a core resource', async () => {
    seed(1_100);
    const kube = new Kube(fake.kubeConfig());

    const all = await kube.listAll(HD_API, 'HealthDefinition', {}, 500);
    expect(all.items).toHaveLength(1_100);
    expect(new Set(all.items.map((o) => o.metadata.name)).size).toBe(1_100);
    expect(all.items[0]).toMatchObject({ metadata: { namespace: 'team-a' }, spec: { schedule: '@hourly' } });
    expect(lists('healthdefinitions')).toBe(3);

    const inNamespace = await kube.listAll(HD_API, 'HealthDefinition', { namespace: 'team-b', labelSelector: 'batch=1' }, 100);
    expect(inNamespace.items.map((o) => o.metadata.name).sort()).toEqual(
      Array.from({ length: 1_100 }, (_, i) => i).filter((i) => i % 2 === 1 && i % 3 === 1).map((i) => `hd-${i}`).sort(),
    );
    expect(inNamespace.items.every((o) => o.metadata.namespace === 'team-b')).toBe(true);

    expect((await kube.listAll('batch/v1', 'Job', {}, 500)).items).toHaveLength(1_100);
    expect((await kube.listAll('v1', 'ConfigMap', {}, 500)).items).toHaveLength(1_100);
  }, 60_000);

  it('an informer over 1,100 HealthDefinitions holds all of them', async () => {
    seed(1_100);
    const informer = new ResilientInformer({ kube: new Kube(fake.kubeConfig()), apiVersion: HD_API, kind: 'HealthDefinition', plural: 'healthdefinitions', logger: silentLogger() });
    try {
      await informer.start();
      expect(informer.size).toBe(1_100);
    } finally {
      await informer.stop();
    }
  }, 60_000);

  it('names the kind when the server does not serve it', async () => {
    const kube = new Kube(fake.kubeConfig());
    await expect(kube.list('example.com/v1', 'Widget')).rejects.toThrow(/Widget/);
  }, 30_000);
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { waitFor } from '../../support/tmp.js';
import { Kube } from '../../../agent/src/kubernetes/client.js';
import { ResilientInformer, type InformerEvent } from '../../../agent/src/kubernetes/watch/ResilientInformer.js';
import { silentLogger } from '../../../agent/src/logging/logger.js';

const API = 'platform.kratix.io/v1alpha1';

function definition(name: string, namespace = 'default', schedule = '@hourly'): any {
  return { apiVersion: API, kind: 'HealthDefinition', metadata: { name, namespace }, spec: { promiseRef: { name: 'p' }, schedule } };
}

describe('ResilientInformer against the fake API server', () => {
  let fake: FakeKubeServer;
  let informer: ResilientInformer | undefined;
  let events: InformerEvent<any>[];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ bookmarkIntervalMs: 200, namespaces: ['default', 'team-a', 'team-b'] });
    events = [];
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await fake.close();
  });

  function start(options: Partial<ConstructorParameters<typeof ResilientInformer>[0]> = {}): Promise<void> {
    informer = new ResilientInformer({
      kube: new Kube(fake.kubeConfig()),
      apiVersion: API,
      kind: 'HealthDefinition',
      plural: 'healthdefinitions',
      logger: silentLogger(),
      stallSeconds: 2,
      initialBackoffMs: 20,
      maxBackoffMs: 200,
      ...options,
    });
    informer.subscribe((e) => events.push(e));
    return informer.start();
  }

  const names = (type: string): string[] => events.filter((e) => e.type === type).map((e) => (e as { object: { metadata: { name: string } } }).object.metadata.name);

  it('lists, then follows adds, updates and deletes from the watch', async () => {
    fake.store.put(definition('a'));
    fake.store.put(definition('b', 'team-a'));
    await start();
    expect(names('add').sort()).toEqual(['a', 'b']);
    expect(events.filter((e) => e.type === 'synced')).toHaveLength(1);
    expect(informer!.get('team-a/b')?.metadata.name).toBe('b');

    fake.store.put(definition('c'));
    fake.store.put(definition('a', 'default', '@daily'));
    fake.store.delete(API, 'HealthDefinition', 'team-a', 'b');
    await waitFor(() => names('delete').includes('b') && names('add').includes('c') && names('update').includes('a'), 'watch events');
    expect((informer!.get('default/a') as any).spec.schedule).toBe('@daily');
    expect(informer!.get('team-a/b')).toBeUndefined();
    expect(informer!.size).toBe(2);
    // The watch asked for bookmarks and resumed from the list's resourceVersion.
    const watch = fake.requests.filter({ watch: true, path: '/apis/platform.kratix.io/v1alpha1/healthdefinitions' })[0]!;
    expect(watch.query.allowWatchBookmarks).toBe('true');
    expect(watch.query.resourceVersion).toBeTruthy();
  });

  it('watches only the configured namespaces', async () => {
    fake.store.put(definition('a', 'team-a'));
    fake.store.put(definition('b', 'team-b'));
    await start({ namespaces: ['team-a'] });
    fake.store.put(definition('c', 'team-b'));
    fake.store.put(definition('d', 'team-a'));
    await waitFor(() => names('add').includes('d'), 'event in team-a');
    expect(names('add').sort()).toEqual(['a', 'd']);
    expect(fake.requests.count({ path: '/apis/platform.kratix.io/v1alpha1/namespaces/team-a/healthdefinitions' })).toBeGreaterThanOrEqual(2);
  });

  it('re-lists after 410 Gone and reports only the differences', async () => {
    fake.store.put(definition('a'));
    fake.store.put(definition('b'));
    await start();
    await waitFor(() => fake.openWatches > 0, 'watch open');
    const listsBefore = informer!.stats.lists;
    // Changes the watch will never see: history compacted, watches expired with 410.
    fake.compact({ expireWatches: true });
    fake.store.put(definition('c'));
    fake.store.delete(API, 'HealthDefinition', 'default', 'b');
    await waitFor(() => names('add').includes('c') && names('delete').includes('b'), 'changes after the re-list');
    expect(informer!.stats.gone).toBeGreaterThanOrEqual(1);
    expect(informer!.stats.lists).toBeGreaterThan(listsBefore);
    // 'a' did not change: the re-list does not report it again.
    expect(names('add').filter((n) => n === 'a')).toHaveLength(1);
    expect(names('update')).not.toContain('a');
  });

  it('restarts a watch that stalls silently (watchdog)', async () => {
    fake.store.put(definition('a'));
    await start({ stallSeconds: 1 });
    // The next watch is accepted but never answered: no events, no bookmarks.
    fake.failNext({ watch: true }, 'hang');
    fake.endWatches();
    await waitFor(() => informer!.stats.stalls >= 1, 'stall detected', 10_000);
    fake.store.put(definition('late'));
    await waitFor(() => names('add').includes('late'), 'event after the restart', 10_000);
  });

  it('reconnects after a dropped connection and after server errors, with backoff', async () => {
    fake.store.put(definition('a'));
    await start();
    fake.failNext({ watch: true }, 'drop');
    fake.failNext({ method: 'GET', watch: false, path: '/apis/platform.kratix.io/v1alpha1/healthdefinitions' }, 500, { times: 3 });
    fake.failNext({ watch: true }, 500, { times: 2 });
    fake.endWatches();
    fake.compact({ expireWatches: false });
    fake.store.put(definition('after-errors'));
    await waitFor(() => names('add').includes('after-errors'), 'event after the errors', 15_000);
    expect(informer!.stats.errors).toBeGreaterThanOrEqual(1);
    expect(informer!.stats.restarts).toBeGreaterThanOrEqual(1);
  });

  it('keeps retrying a list that fails at start, then syncs', async () => {
    fake.store.put(definition('a'));
    fake.failNext({ method: 'GET', watch: false, path: '/apis/platform.kratix.io/v1alpha1/healthdefinitions' }, 503, { times: 2 });
    await start();
    expect(names('add')).toEqual(['a']);
    expect(informer!.stats.errors).toBe(2);
  });

  it('does a periodic full re-list (resync)', async () => {
    fake.store.put(definition('a'));
    await start({ resyncSeconds: 1 });
    await waitFor(() => informer!.stats.lists >= 3, 'two resyncs', 10_000);
    expect(names('add')).toEqual(['a']);
    expect(names('update')).toEqual([]);
  });
});

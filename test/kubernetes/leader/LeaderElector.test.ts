import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { waitFor } from '../../support/tmp.js';
import { Kube } from '../../../agent/src/kubernetes/client.js';
import { LeaderElector, microTime } from '../../../agent/src/kubernetes/leader/LeaderElector.js';
import { silentLogger } from '../../../agent/src/logging/logger.js';

describe('LeaderElector on a coordination.k8s.io/v1 Lease', () => {
  let fake: FakeKubeServer;
  const electors: LeaderElector[] = [];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ namespaces: ['default', 'vigil-system'] });
  });

  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop(false);
    await fake.close();
  });

  function elector(identity: string, events: string[] = []): LeaderElector {
    const e = new LeaderElector({
      kube: new Kube(fake.kubeConfig()),
      namespace: 'vigil-system',
      name: 'vigil-controller',
      identity,
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.2,
      logger: silentLogger(),
      onStartedLeading: () => events.push(`${identity}:start`),
      onStoppedLeading: () => events.push(`${identity}:stop`),
    });
    electors.push(e);
    return e;
  }

  const lease = (): any => fake.store.get('coordination.k8s.io/v1', 'Lease', 'vigil-system', 'vigil-controller');

  it('exactly one of two candidates leads; the standby takes over within the lease duration when the leader dies', async () => {
    const events: string[] = [];
    const a = elector('a', events);
    a.start();
    await waitFor(() => a.isLeader, 'a leads');
    const b = elector('b', events);
    b.start();
    // b observes a renewing and stays a standby.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.isLeader).toBe(false);
    expect(lease().spec.holderIdentity).toBe('a');
    expect(lease().spec.leaseDurationSeconds).toBe(3);
    expect(lease().spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // The leader dies: it stops renewing and does not release.
    const diedAt = Date.now();
    await a.stop(false);
    await waitFor(() => b.isLeader, 'b takes over', 10_000);
    const tookMs = Date.now() - diedAt;
    expect(tookMs).toBeLessThan(3_000 + 4_000); // the lease duration plus slack for a loaded machine
    expect(lease().spec.holderIdentity).toBe('b');
    expect(lease().spec.leaseTransitions).toBe(1);
    expect(events).toEqual(['a:start', 'a:stop', 'b:start']);
  });

  it('a released lease is taken over at once', async () => {
    const a = elector('a');
    a.start();
    await waitFor(() => a.isLeader, 'a leads');
    const b = elector('b');
    b.start();
    await a.stop(true);
    expect(lease().spec.holderIdentity).toBe('');
    await waitFor(() => b.isLeader, 'b takes over', 2_000);
  });

  it('takes over a lease left expired by a previous holder', async () => {
    const old = Date.now() - 60_000;
    fake.store.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'vigil-controller', namespace: 'vigil-system' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 3, renewTime: microTime(old), acquireTime: microTime(old), leaseTransitions: 4 },
    });
    const a = elector('a');
    a.start();
    // The lease looks fresh when first seen (local observation, not the holder's clock), so a waits a lease duration.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(a.isLeader).toBe(false);
    await waitFor(() => a.isLeader, 'a takes over', 6_000);
    expect(lease().spec.leaseTransitions).toBe(5);
  });

  it('steps down when it cannot renew within the renew deadline', async () => {
    const events: string[] = [];
    const a = elector('a', events);
    a.start();
    await waitFor(() => a.isLeader, 'a leads');
    fake.failNext({ path: '/apis/coordination.k8s.io/v1/namespaces/vigil-system/leases/vigil-controller' }, 500, { times: 1_000 });
    await waitFor(() => !a.isLeader, 'a steps down', 6_000);
    expect(events).toEqual(['a:start', 'a:stop']);
  });
});

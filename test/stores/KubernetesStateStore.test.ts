/**
 * The Kubernetes state store with the real @kubernetes/client-node against the wire-level fake
 * API server (test/support/fake-kube), which serves the HealthRecord CRD and validates objects
 * against its schema: create, update, write on change (no request for an unchanged record),
 * 409 AlreadyExists and Conflict from a concurrent writer, delete (404 = success), objects of
 * others left alone, store.namespace, and misconfiguration (CRD missing, 401, 403, missing
 * namespace, server down) reported naming the setting.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesStateStore, ANNOTATION_RECORD, type KubernetesStateStoreOptions } from '../../agent/src/stores/KubernetesStateStore.js';
import { connectKubernetesStore } from '../../agent/src/stores/kubernetes/connect.js';
import { InitOnUse } from '../../agent/src/stores/InitOnUse.js';
import { RecordDelivery } from '../../agent/src/records/RecordDelivery.js';
import { Kube } from '../../agent/src/kubernetes/client.js';
import { buildHealthRecord } from '../../agent/src/core/record.js';
import type { HealthRecord } from '../../agent/src/core/model.js';
import { SchemaValidator } from '../../agent/src/core/schema.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { FakeKubeServer, defaultResources, type KubeObject } from '../support/fake-kube/index.js';
import { referenceSchema } from '../support/reference-crds.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { opensslMissing, selfSignedCertificate } from '../support/tls.js';

const T0 = 1_700_000_000_000;
const AV = 'platform.kratix.io/v1alpha1';
const NAMESPACES = ['default', 'team-a', 'team-b', 'records'];
const kratixSchema = new SchemaValidator(referenceSchema('kratix-healthrecords.yaml', 'HealthRecord'));

function record(name: string, state: HealthRecord['data']['state'] = 'healthy', options: { finishedAt?: number; details?: Record<string, unknown>; namespace?: string; destination?: string } = {}): HealthRecord {
  return buildHealthRecord({
    definition: { apiVersion: AV, kind: 'HealthDefinition', metadata: { name, namespace: options.namespace ?? 'team-a' }, spec: { promiseRef: { name: 'p' }, resourceRef: { name: 'r', namespace: 'default' }, schedule: '@hourly' } },
    destination: options.destination ?? 'edge',
    state,
    details: options.details ?? {},
    finishedAt: options.finishedAt ?? T0,
  });
}

let fake: FakeKubeServer;
const stores: KubernetesStateStore[] = [];

beforeAll(async () => {
  fake = await FakeKubeServer.start({ namespaces: NAMESPACES });
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await fake.close();
});
afterEach(() => {
  for (const o of fake.store.list(AV, 'HealthRecord')) fake.store.delete(AV, 'HealthRecord', o.metadata.namespace, o.metadata.name!);
  fake.requests.clear();
});

function store(options: Partial<KubernetesStateStoreOptions> = {}, server: FakeKubeServer = fake, clock = { now: () => T0 + 1000 }): KubernetesStateStore {
  const s = new KubernetesStateStore({ kube: new Kube(server.kubeConfig()), connection: 'store.kubeconfig (test)', destination: 'edge', logger: silentLogger(), clock, conflictBackoffMs: 5, ...options });
  stores.push(s);
  return s;
}

function stored(namespace: string, name: string): KubeObject | undefined {
  return fake.store.get(AV, 'HealthRecord', namespace, name);
}

const writes = (): string[] => fake.requests.writes().map((r) => `${r.method} ${r.status ?? '-'}`);
const recordRequests = (): string[] => fake.requests.filter({ path: /healthrecords/ }).map((r) => `${r.method} ${r.status ?? '-'}`);

describe('KubernetesStateStore', () => {
  it('creates a HealthRecord that Kratix\'s CRD accepts, with vigil\'s labels', async () => {
    const s = store();
    await s.init();
    const r = record('web', 'unhealthy', { details: { reason: 'HTTP 503', checks: [{ name: 'a', ok: false }] } });
    await s.put(r);
    const object = stored('team-a', 'web-edge')!;
    expect(object).toMatchObject({
      apiVersion: AV,
      kind: 'HealthRecord',
      metadata: { name: 'web-edge', namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'vigil', 'health.vigil.dev/destination': 'edge' }, annotations: { 'health.vigil.dev/definition': 'team-a/web' } },
      data: { promiseRef: { name: 'p' }, resourceRef: { name: 'r', namespace: 'default' }, state: 'unhealthy', lastRun: T0 / 1000, details: { reason: 'HTTP 503' } },
    });
    const { metadata: _m, ...rest } = object;
    expect(kratixSchema.validate({ ...rest, metadata: {} }).filter((i) => i.severity === 'error')).toEqual([]);
    expect(writes()).toEqual(['POST 201']);
    expect(s.describe()).toBe(`kubernetes ${fake.url}`);
  }, 30_000);

  it('updates a changed record with one replace, and writes nothing for an unchanged one', async () => {
    const s = store();
    await s.put(record('web', 'healthy'));
    fake.requests.clear();
    await s.put(record('web', 'degraded', { finishedAt: T0 + 500 }));
    expect(recordRequests()).toEqual(['PUT 200']);
    expect(stored('team-a', 'web-edge')!.data).toMatchObject({ state: 'degraded' });
    fake.requests.clear();
    // Same state and details, a newer run, stored lastRun still fresh: no request at all.
    await s.put(record('web', 'degraded', { finishedAt: T0 + 900 }));
    expect(fake.requests.count()).toBe(0);
    // Details changed: written.
    await s.put(record('web', 'degraded', { finishedAt: T0 + 900, details: { lag: 3 } }));
    expect(recordRequests()).toEqual(['PUT 200']);
  }, 30_000);

  it('after a restart, list() seeds the index: 1,000 unchanged records make no write', async () => {
    const first = store();
    const names = Array.from({ length: 1000 }, (_, i) => `def-${i}`);
    await Promise.all(names.map((n) => first.put(record(n))));
    expect(fake.store.list(AV, 'HealthRecord', 'team-a')).toHaveLength(1000);
    fake.requests.clear();
    const second = store({ listPageSize: 300 });
    const listed = await second.list();
    expect(listed).toHaveLength(1000);
    expect(listed[0]).toMatchObject({ metadata: { namespace: 'team-a', name: 'def-0-edge' }, data: { state: 'healthy' } });
    expect(fake.requests.filter({ method: 'GET', path: /healthrecords/ }).length).toBe(4); // 4 pages of at most 300
    fake.requests.clear();
    await Promise.all(names.map((n) => second.put(record(n, 'healthy', { finishedAt: T0 + 60_000 }))));
    expect(fake.requests.count()).toBe(0);
    // The heartbeat: an hour after the stored lastRun, unchanged records are rewritten once.
    const later = store({}, fake, { now: () => T0 + 3_600_000 + 1000 });
    await later.list();
    fake.requests.clear();
    await later.put(record('def-1', 'healthy', { finishedAt: T0 + 3_600_000 }));
    expect(recordRequests()).toEqual(['PUT 200']);
    expect(stored('team-a', 'def-1-edge')!.data).toMatchObject({ lastRun: (T0 + 3_600_000) / 1000 });
  }, 120_000);

  it('a concurrent writer bumping resourceVersion between read and replace: 409 Conflict, re-read, retried', async () => {
    const s = store();
    await s.put(record('web', 'healthy'));
    // Someone else (another vigil of this destination, a human with kubectl) writes in between.
    const current = stored('team-a', 'web-edge')!;
    fake.store.put({ ...current, data: { ...(current.data as object), state: 'unknown' } });
    fake.requests.clear();
    await s.put(record('web', 'unhealthy', { finishedAt: T0 + 100 }));
    expect(recordRequests()).toEqual(['PUT 409', 'GET 200', 'PUT 200']);
    expect(stored('team-a', 'web-edge')!.data).toMatchObject({ state: 'unhealthy' });
  }, 30_000);

  it('409 AlreadyExists on create (created meanwhile): re-read and replaced', async () => {
    const s = store();
    expect(await s.list()).toEqual([]); // the index now says: nothing there
    const other = store();
    await other.put(record('web', 'healthy'));
    fake.requests.clear();
    await s.put(record('web', 'unhealthy', { finishedAt: T0 + 100 }));
    expect(recordRequests()).toEqual(['POST 409', 'GET 200', 'PUT 200']);
    expect(stored('team-a', 'web-edge')!.data).toMatchObject({ state: 'unhealthy' });
  }, 30_000);

  it('a conflict that never ends fails after the attempts, naming the record (the outbox retries later)', async () => {
    const s = store({ conflictAttempts: 3 });
    await s.put(record('web', 'healthy'));
    fake.failNext({ method: 'PUT', path: /healthrecords\/web-edge$/ }, 409, { times: 3 });
    await expect(s.put(record('web', 'unhealthy'))).rejects.toThrow(/replace HealthRecord team-a\/web-edge: still conflicting after 3 attempts/);
    await s.put(record('web', 'unhealthy'));
    expect(stored('team-a', 'web-edge')!.data).toMatchObject({ state: 'unhealthy' });
  }, 30_000);

  it('deletes its record; deleting a missing one (404) is success', async () => {
    const s = store();
    await s.put(record('web'));
    await s.put(record('api'));
    fake.requests.clear();
    await s.delete({ namespace: 'team-a', name: 'web-edge' });
    expect(stored('team-a', 'web-edge')).toBeUndefined();
    expect(recordRequests()).toEqual(['DELETE 200']);
    fake.requests.clear();
    await s.delete({ namespace: 'team-a', name: 'web-edge' });
    expect(fake.requests.count()).toBe(0);
    // Gone behind the store's back: the DELETE answers 404, which is success.
    fake.store.delete(AV, 'HealthRecord', 'team-a', 'api-edge');
    await s.delete({ namespace: 'team-a', name: 'api-edge' });
    expect(recordRequests()).toEqual(['DELETE 404']);
    // A fresh store that never saw it: one GET (404), no DELETE.
    fake.requests.clear();
    await store().delete({ namespace: 'team-a', name: 'nothing-edge' });
    expect(recordRequests()).toEqual(['GET 404']);
  }, 30_000);

  it('a delete whose uid precondition fails (deleted and created again meanwhile) re-reads and deletes the new object', async () => {
    const s = store();
    await s.put(record('web'));
    const current = stored('team-a', 'web-edge')!;
    fake.store.delete(AV, 'HealthRecord', 'team-a', 'web-edge');
    fake.store.put({ ...current, metadata: { ...current.metadata, uid: undefined, resourceVersion: undefined } });
    expect(stored('team-a', 'web-edge')!.metadata.uid).not.toBe(current.metadata.uid);
    fake.requests.clear();
    await s.delete({ namespace: 'team-a', name: 'web-edge' });
    expect(recordRequests()).toEqual(['DELETE 409', 'GET 200', 'DELETE 200']);
    expect(stored('team-a', 'web-edge')).toBeUndefined();
  }, 30_000);

  it('never touches HealthRecords it does not own', async () => {
    const foreign = { apiVersion: AV, kind: 'HealthRecord', metadata: { name: 'web-edge', namespace: 'team-a', labels: { team: 'a' } }, data: { promiseRef: { name: 'x' }, state: 'healthy' } };
    fake.store.put(foreign);
    fake.store.put({ ...foreign, metadata: { name: 'api-edge', namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'vigil', 'health.vigil.dev/destination': 'other' } } });
    const s = store();
    expect(await s.list()).toEqual([]); // selected by labels: neither is ours
    await expect(store().put(record('web'))).rejects.toThrow(/^record team-a\/web-edge: HealthRecord team-a\/web-edge in the cluster at http:\/\/127\.0\.0\.1:\d+ is not this vigil's \(app\.kubernetes\.io\/managed-by=\(none\)\); vigil does not overwrite it/);
    await expect(s.put(record('web'))).rejects.toThrow(/is not this vigil's/); // created meanwhile → AlreadyExists → re-read → refused
    await expect(store().put(record('api'))).rejects.toThrow(/is not this vigil's \(health\.vigil\.dev\/destination=other\)/);
    await store().delete({ namespace: 'team-a', name: 'web-edge' });
    await store().delete({ namespace: 'team-a', name: 'api-edge' });
    expect(stored('team-a', 'web-edge')!.data).toMatchObject({ promiseRef: { name: 'x' } });
    expect(stored('team-a', 'api-edge')).toBeDefined();
    expect(fake.requests.filter({ method: 'DELETE' })).toEqual([]);
  }, 30_000);

  it('store.namespace: every record in one namespace, names prefixed with the record\'s namespace, refs kept', async () => {
    const s = store({ namespace: 'records' });
    await s.init();
    await s.put(record('web', 'healthy', { namespace: 'team-a' }));
    await s.put(record('web', 'unhealthy', { namespace: 'team-b' }));
    expect(fake.store.list(AV, 'HealthRecord', 'records').map((o) => [o.metadata.name, (o.metadata.annotations as Record<string, string> | undefined)?.[ANNOTATION_RECORD]]).sort()).toEqual([
      ['team-a-web-edge', 'team-a/web-edge'],
      ['team-b-web-edge', 'team-b/web-edge'],
    ]);
    const listed = await store({ namespace: 'records' }).list();
    expect(listed.map((r) => `${r.metadata.namespace}/${r.metadata.name} ${r.data.state}`)).toEqual(['team-a/web-edge healthy', 'team-b/web-edge unhealthy']);
    expect(listed[0]!.metadata.annotations).toEqual({ 'health.vigil.dev/definition': 'team-a/web' });
    await store({ namespace: 'records' }).delete({ namespace: 'team-b', name: 'web-edge' });
    expect(fake.store.list(AV, 'HealthRecord', 'records').map((o) => o.metadata.name)).toEqual(['team-a-web-edge']);
    expect(() => store({ namespace: 'Not_A_Namespace' })).toThrow(/^store\.namespace: "Not_A_Namespace" is not a valid name/);
  }, 30_000);

  it('a missing namespace is an error naming it (never created)', async () => {
    await expect(store().put(record('web', 'healthy', { namespace: 'nowhere' }))).rejects.toThrow(
      /^namespace "nowhere" \(the definition's namespace, where its record goes\) does not exist in the cluster at http:\/\/127\.0\.0\.1:\d+; create it, or set store\.namespace/,
    );
    await expect(store({ namespace: 'absent' }).put(record('web'))).rejects.toThrow(/^store\.namespace: namespace "absent" does not exist in the cluster at http:\/\/127\.0\.0\.1:\d+; create it \(vigil does not create namespaces\)$/);
    expect(fake.store.list('v1', 'Namespace').map((n) => n.metadata.name)).not.toContain('nowhere');
  }, 30_000);

  it('403 Forbidden names the connection setting and the permission needed', async () => {
    const s = store();
    fake.failNext({ method: 'POST', path: /healthrecords$/ }, 403);
    await expect(s.put(record('web'))).rejects.toThrow(/^store\.kubeconfig \(test\): the identity is not allowed to create HealthRecord team-a\/web-edge at http:\/\/127\.0\.0\.1:\d+ \(403 Forbidden: .*\); grant get, list, create, update and delete on healthrecords\.platform\.kratix\.io$/);
  }, 30_000);

  it('a cluster without the HealthRecord CRD: init() says so, naming the setting', async () => {
    const bare = await FakeKubeServer.start({ resources: defaultResources({ without: ['healthrecords.platform.kratix.io'] }) });
    try {
      const s = store({}, bare);
      await expect(s.init()).rejects.toThrow(/^store\.kubeconfig \(test\): the cluster at http:\/\/127\.0\.0\.1:\d+ does not serve platform\.kratix\.io\/v1alpha1 HealthRecord; install the HealthRecord CRD/);
      await expect(s.put(record('web'))).rejects.toThrow(/does not serve platform\.kratix\.io\/v1alpha1 HealthRecord/);
    } finally {
      await bare.close();
    }
  }, 30_000);

  it('401 with a wrong token names the kubeconfig setting and does not leak the token', async () => {
    const locked = await FakeKubeServer.start({ token: 'the-right-token', namespaces: NAMESPACES });
    try {
      const dir = tempDir('vigil-kube-store-');
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, locked.kubeconfigYaml({ token: 'a-wrong-secret-token' }));
      const { kube, connection } = connectKubernetesStore({ kubeconfig: file });
      const s = new KubernetesStateStore({ kube, connection, logger: silentLogger() });
      stores.push(s);
      const err = await s.init().then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(new RegExp(`^store\\.kubeconfig \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): the Kubernetes API server http://127\\.0\\.0\\.1:\\d+ rejected the credentials \\(401 Unauthorized\\)`));
      expect(err?.message).not.toContain('a-wrong-secret-token');
      // The right token, from a mounted Secret's key `kubeconfig`.
      writeFileSync(file, locked.kubeconfigYaml());
      const good = connectKubernetesStore({ secretDir: dir });
      expect(good.connection).toBe(`store.secretDir (key kubeconfig in ${dir})`);
      const ok = new KubernetesStateStore({ kube: good.kube, connection: good.connection, logger: silentLogger() });
      stores.push(ok);
      await ok.init();
      await ok.put(record('web'));
      expect(locked.store.get(AV, 'HealthRecord', 'team-a', 'web-edge')).toBeDefined();
    } finally {
      await locked.close();
    }
  }, 30_000);

  it('connection settings: errors name store.kubeconfig, store.secretDir and store.context', () => {
    const dir = tempDir('vigil-kube-conn-');
    expect(() => connectKubernetesStore({ kubeconfig: join(dir, 'missing') })).toThrow(/^store\.kubeconfig: cannot load kubeconfig .*missing/);
    expect(() => connectKubernetesStore({ secretDir: dir })).toThrow(/^store\.secretDir: cannot load kubeconfig .*kubeconfig/);
    expect(() => connectKubernetesStore({ kubeconfig: 'a', secretDir: dir })).toThrow(/^store\.kubeconfig: set store\.kubeconfig or store\.secretDir/);
    writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfigYaml());
    expect(() => connectKubernetesStore({ secretDir: dir, context: 'prod' })).toThrow(/^store\.context: context "prod" is not in the kubeconfig/);
    expect(connectKubernetesStore({ secretDir: dir, context: 'fake' }).connection).toBe(`store.secretDir (key kubeconfig in ${dir}), store.context "fake"`);
  });

  it('server down then back: delivery retries through InitOnUse and every record arrives', async () => {
    const flaky = await FakeKubeServer.start({ namespaces: NAMESPACES });
    const port = flaky.port;
    const kubeconfig = flaky.kubeConfig();
    await flaky.close();
    const inner = new KubernetesStateStore({ kube: new Kube(kubeconfig), connection: 'store.kubeconfig (test)', logger: silentLogger() });
    stores.push(inner);
    const wrapped = new InitOnUse(inner);
    await expect(wrapped.list()).rejects.toThrow(/^store\.kubeconfig \(test\): cannot reach the Kubernetes API server http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const delivery = new RecordDelivery({ store: wrapped, logger: silentLogger(), retryMs: 50, maxRetryMs: 200 });
    delivery.put(record('web'));
    delivery.put(record('api', 'unhealthy'));
    await waitFor(() => delivery.lastError !== undefined, 'a failed delivery', 20_000);
    expect(delivery.pending).toBe(2);
    const back = await FakeKubeServer.start({ namespaces: NAMESPACES, port });
    try {
      await waitFor(() => delivery.pending === 0, 'delivery after the server came back', 30_000);
      expect(back.store.list(AV, 'HealthRecord', 'team-a').map((o) => `${o.metadata.name!} ${(o.data as { state: string }).state}`).sort()).toEqual(['api-edge unhealthy', 'web-edge healthy']);
    } finally {
      delivery.close();
      await back.close();
    }
  }, 90_000);
});

describe.skipIf(opensslMissing())('KubernetesStateStore over TLS', () => {
  it('a server certificate the kubeconfig does not trust is reported naming the connection setting', async () => {
    const tls = selfSignedCertificate(tempDir('vigil-kube-tls-'), 2);
    const server = createHttpsServer(tls, (_req, res) => { res.writeHead(500).end(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: 'c', server: url }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
      const s = new KubernetesStateStore({ kube: new Kube(kc), connection: 'store.kubeconfig (test)', logger: silentLogger() });
      stores.push(s);
      await expect(s.init()).rejects.toThrow(new RegExp(`^store\\.kubeconfig \\(test\\): TLS with the Kubernetes API server ${url.replace(/\./g, '\\.')} failed \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\\)`));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
    }
  }, 30_000);
});

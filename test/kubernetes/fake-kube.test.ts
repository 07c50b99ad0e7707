/**
 * The wire-level fake Kubernetes API server itself (test/support/fake-kube, ADR 0010): what the
 * controller's tests rely on, checked with the real @kubernetes/client-node and with raw HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, Watch } from '@kubernetes/client-node';
import { FakeKubeServer } from '../support/fake-kube/index.js';
import { waitFor } from '../support/tmp.js';

const NS = 'default';
/** Plain JSON bodies for the typed client (its model classes are only types on the wire). */
const b = (o: object): any => o;

describe('fake-kube: the API surface', () => {
  let fake: FakeKubeServer;
  beforeEach(async () => { fake = await FakeKubeServer.start({ bookmarkIntervalMs: 100 }); });
  afterEach(async () => { await fake.close(); });

  const http = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${fake.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': contentType }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  it('serves discovery for the resources vigil uses', async () => {
    const core = await http('GET', '/api/v1');
    expect(core.status).toBe(200);
    const coreNames = core.json.resources.map((r: any) => String(r.name));
    for (const r of ['pods', 'configmaps', 'serviceaccounts', 'namespaces', 'events']) expect(coreNames).toContain(r);
    const groups = await http('GET', '/apis');
    const names = groups.json.groups.map((g: any) => String(g.name));
    for (const g of ['batch', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'platform.kratix.io']) expect(names).toContain(g);
    const kratix = await http('GET', '/apis/platform.kratix.io/v1alpha1');
    const kinds = kratix.json.resources.map((r: any) => String(r.kind));
    for (const k of ['HealthDefinition', 'HealthRecord', 'HealthState']) expect(kinds).toContain(k);
    expect(kratix.json.resources.find((r: any) => r.name === 'healthdefinitions/status')).toBeDefined();
    const batch = await http('GET', '/apis/batch/v1');
    expect(batch.json.resources.find((r: any) => r.name === 'cronjobs')).toMatchObject({ namespaced: true, kind: 'CronJob' });
  });

  it('creates, gets, updates (409 on a stale resourceVersion), patches three ways and deletes (404 after) with the real client', async () => {
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const objects = fake.kubeConfig().makeApiClient(KubernetesObjectApi);
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: 'cm', labels: { a: '1' } }, data: { k: 'v' } }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBeDefined();
    const dup = await http('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'cm' } });
    expect(dup).toMatchObject({ status: 409, json: { kind: 'Status', reason: 'AlreadyExists', code: 409 } });

    const got = await core.readNamespacedConfigMap({ name: 'cm', namespace: NS });
    expect(got.data).toEqual({ k: 'v' });
    const updated = await core.replaceNamespacedConfigMap({ name: 'cm', namespace: NS, body: b({ metadata: { name: 'cm', resourceVersion: got.metadata!.resourceVersion, labels: { a: '1' } }, data: { k: 'v2' } }) });
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(got.metadata!.resourceVersion));
    const stale = await http('PUT', `/api/v1/namespaces/${NS}/configmaps/cm`, { metadata: { name: 'cm', resourceVersion: got.metadata!.resourceVersion }, data: { k: 'stale' } });
    expect(stale).toMatchObject({ status: 409, json: { reason: 'Conflict' } });

    const header = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: NS } };
    await objects.patch(b({ ...header, data: { merged: 'yes' } }), undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
    await objects.patch(b({ ...header, metadata: { ...header.metadata, labels: { b: '2' } } }), undefined, undefined, 'test', undefined, PatchStrategy.StrategicMergePatch);
    // KubernetesObjectApi.patch needs an object body: a JSON patch (a list of operations) goes over raw HTTP.
    expect((await http('PATCH', `/api/v1/namespaces/${NS}/configmaps/cm`, [{ op: 'replace', path: '/data/k', value: 'v3' }], PatchStrategy.JsonPatch)).status).toBe(200);
    expect((await http('PATCH', `/api/v1/namespaces/${NS}/configmaps/cm`, [{ op: 'test', path: '/data/k', value: 'nope' }], PatchStrategy.JsonPatch)).status).toBeGreaterThanOrEqual(400);
    const patched: any = fake.store.get('v1', 'ConfigMap', NS, 'cm');
    expect(patched.data).toEqual({ k: 'v3', merged: 'yes' });
    expect(patched.metadata.labels).toEqual({ a: '1', b: '2' });
    const badType = await http('PATCH', `/api/v1/namespaces/${NS}/configmaps/cm`, { data: {} }, 'text/plain');
    expect(badType.status).toBe(415);

    await core.deleteNamespacedConfigMap({ name: 'cm', namespace: NS });
    expect(await http('GET', `/api/v1/namespaces/${NS}/configmaps/cm`)).toMatchObject({ status: 404, json: { reason: 'NotFound', code: 404 } });
    expect((await http('DELETE', `/api/v1/namespaces/${NS}/configmaps/cm`)).status).toBe(404);
  });

  it('answers 422 naming the field for invalid names and labels and a CronJob name over 52 characters', async () => {
    const badName = await http('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'Not_Valid' } });
    expect(badName.status).toBe(422);
    expect(badName.json.reason).toBe('Invalid');
    expect(badName.json.details.causes[0].field).toBe('metadata.name');
    const badLabel = await http('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'ok', labels: { x: 'has spaces' } } });
    expect(badLabel.status).toBe(422);
    expect(JSON.stringify(badLabel.json.details.causes)).toContain('metadata.labels');
    const cron = (name: string): unknown => ({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } } },
    });
    const long = await http('POST', `/apis/batch/v1/namespaces/${NS}/cronjobs`, cron('c'.repeat(53)));
    expect(long.status).toBe(422);
    expect(long.json.message).toContain('52');
    expect((await http('POST', `/apis/batch/v1/namespaces/${NS}/cronjobs`, cron('c'.repeat(52)))).status).toBe(201);
  });

  it('lists with a resourceVersion and pages; watches from it with BOOKMARKs; 410 Gone for a compacted version', async () => {
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    for (const n of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: n } }) });
    const page = await http('GET', `/api/v1/namespaces/${NS}/configmaps?limit=2`);
    expect(page.json.items).toHaveLength(2);
    expect(page.json.metadata.continue).toBeDefined();
    const rest = await http('GET', `/api/v1/namespaces/${NS}/configmaps?limit=2&continue=${encodeURIComponent(page.json.metadata.continue)}`);
    expect(rest.json.items.map((i: any) => String(i.metadata.name))).toEqual(['c']);
    const rv: string = page.json.metadata.resourceVersion;

    const events: { type: string; name?: string; rv?: string }[] = [];
    let ended: unknown = 'open';
    const watch = new Watch(fake.kubeConfig());
    const req = await watch.watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: rv, allowWatchBookmarks: true }, (type, obj: any) => {
      events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion });
    }, (err) => { ended = err; });
    await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: 'd' } }) });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: NS });
    await waitFor(() => events.some((e) => e.type === 'DELETED') && events.some((e) => e.type === 'BOOKMARK'), 'events and a bookmark');
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.name ?? ''}`)).toEqual(['ADDED d', 'DELETED a']);
    expect(Number(events.find((e) => e.type === 'BOOKMARK')!.rv)).toBeGreaterThanOrEqual(Number(rv));
    req.abort();

    fake.compact();
    const gone: { type: string; code?: number }[] = [];
    await watch.watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: rv }, (type, obj: any) => { gone.push({ type, code: obj.code }); }, (err) => { ended = err; });
    await waitFor(() => gone.length > 0, 'the 410 event');
    expect(gone[0]).toEqual({ type: 'ERROR', code: 410 });
    expect(ended).not.toBe('open');
    const expiredList = await http('GET', `/api/v1/namespaces/${NS}/configmaps?limit=1&continue=${encodeURIComponent(page.json.metadata.continue)}`);
    expect(expiredList.status).toBe(410);
  });

  it('cascades deletes through ownerReferences (background), and orphans on request', async () => {
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const owner = await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: 'owner' } }) });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
    await core.createNamespacedServiceAccount({ namespace: NS, body: b({ metadata: { name: 'child', ownerReferences: [ref] } }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: 'grandchild', ownerReferences: [{ ...ref, kind: 'ServiceAccount', name: 'child', uid: (fake.store.get('v1', 'ServiceAccount', NS, 'child') as any).metadata.uid }] } }) });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: NS, propagationPolicy: 'Background' });
    await waitFor(() => fake.store.get('v1', 'ServiceAccount', NS, 'child') === undefined && fake.store.get('v1', 'ConfigMap', NS, 'grandchild') === undefined, 'dependents collected');

    const o2 = await core.createNamespacedConfigMap({ namespace: NS, body: b({ metadata: { name: 'owner2' } }) });
    await core.createNamespacedServiceAccount({ namespace: NS, body: b({ metadata: { name: 'kept', ownerReferences: [{ ...ref, name: 'owner2', uid: o2.metadata!.uid! }] } }) });
    await core.deleteNamespacedConfigMap({ name: 'owner2', namespace: NS, propagationPolicy: 'Orphan' });
    expect(fake.store.get('v1', 'ServiceAccount', NS, 'kept')).toBeDefined();
  });
});

describe('fake-kube: the CronJob → Job → Pod simulation', () => {
  let fake: FakeKubeServer;
  beforeEach(async () => { fake = await FakeKubeServer.start(); });
  afterEach(async () => { await fake.close(); });

  async function cronJob(name: string): Promise<void> {
    await fake.kubeConfig().makeApiClient(BatchV1Api).createNamespacedCronJob({
      namespace: NS,
      body: b({
        metadata: { name },
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: {
            metadata: { labels: { app: name } },
            spec: { backoffLimit: 0, activeDeadlineSeconds: 60, template: { metadata: { labels: { app: name } }, spec: { restartPolicy: 'Never', initContainers: [{ name: 'check', image: 'check:v1' }], containers: [{ name: 'adapter', image: 'vigil:v1' }] } } },
          },
        },
      }),
    });
  }
  const job = (name: string): any => fake.store.get('batch/v1', 'Job', NS, name);

  it('fires a CronJob for a scheduled time: Job with the scheduled-timestamp annotation and owner, pod Pending, CronJob status', async () => {
    await cronJob('cj');
    const at = Date.parse('2026-12-01T10:05:00Z');
    const { job: j, pod } = fake.workloads.fireCronJob(NS, 'cj', at);
    expect(j.metadata.name).toBe(`cj-${at / 60_000}`);
    expect(job(j.metadata.name!).metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2026-12-01T10:05:00Z');
    expect((j.metadata.ownerReferences as any[])[0]).toMatchObject({ kind: 'CronJob', name: 'cj' });
    expect(job(j.metadata.name!).status.active).toBe(1);
    expect(pod.metadata.labels).toMatchObject({ app: 'cj', 'batch.kubernetes.io/job-name': j.metadata.name, 'batch.kubernetes.io/controller-uid': j.metadata.uid });
    expect((fake.store.get('batch/v1', 'CronJob', NS, 'cj') as any).status).toMatchObject({ lastScheduleTime: '2026-12-01T10:05:00Z', active: [{ name: j.metadata.name }] });
    expect(() => fake.workloads.fireCronJob(NS, 'cj', at)).toThrow(/already exists/);
  });

  it('succeeds with termination messages, fails on an init container, exceeds the deadline, and blocks on an image pull', async () => {
    await cronJob('cj');
    const ok = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T10:00:00Z'));
    fake.workloads.completePod(NS, ok.pod.metadata.name!, { kind: 'succeeded', messages: { adapter: '{"v":1}' } });
    const okPod: any = fake.store.get('v1', 'Pod', NS, ok.pod.metadata.name!);
    expect(okPod.status.phase).toBe('Succeeded');
    expect(okPod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, message: '{"v":1}' });
    expect(job(ok.job.metadata.name!).status.conditions.map((c: any) => String(c.type))).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect((fake.store.get('batch/v1', 'CronJob', NS, 'cj') as any).status.lastSuccessfulTime).toBeDefined();

    const init = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T10:05:00Z'));
    fake.workloads.completePod(NS, init.pod.metadata.name!, { kind: 'initFailed', container: 'check', exitCode: 3, message: 'boom' });
    const initPod: any = fake.store.get('v1', 'Pod', NS, init.pod.metadata.name!);
    expect(initPod.status.phase).toBe('Failed');
    expect(initPod.status.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, message: 'boom' });
    expect(initPod.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    expect(job(init.job.metadata.name!).status.conditions.find((c: any) => c.type === 'Failed').reason).toBe('BackoffLimitExceeded');

    const slow = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T10:10:00Z'));
    fake.workloads.completePod(NS, slow.pod.metadata.name!, 'deadlineExceeded');
    expect(job(slow.job.metadata.name!).status.conditions.find((c: any) => c.type === 'Failed').reason).toBe('DeadlineExceeded');
    expect(fake.store.get('v1', 'Pod', NS, slow.pod.metadata.name!)).toBeUndefined();

    const pull = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T10:15:00Z'));
    fake.workloads.completePod(NS, pull.pod.metadata.name!, { kind: 'imagePullError', container: 'check' });
    const pullPod: any = fake.store.get('v1', 'Pod', NS, pull.pod.metadata.name!);
    expect(pullPod.status.phase).toBe('Pending');
    expect(pullPod.status.initContainerStatuses[0].state.waiting).toMatchObject({ reason: 'ErrImagePull', message: expect.stringContaining('check:v1') });
    const pullMain = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T10:20:00Z'));
    fake.workloads.completePod(NS, pullMain.pod.metadata.name!, { kind: 'imagePullError', reason: 'ImagePullBackOff' });
    expect((fake.store.get('v1', 'Pod', NS, pullMain.pod.metadata.name!) as any).status.containerStatuses[0].state.waiting.reason).toBe('ImagePullBackOff');
    const events = fake.store.list('v1', 'Event', NS) as any[];
    expect(events.some((e) => e.reason === 'Failed' && e.involvedObject.name === pull.pod.metadata.name)).toBe(true);
    expect(events.some((e) => e.reason === 'DeadlineExceeded')).toBe(true);
  });

  it('deleting a Job deletes its pods (the Job owns them)', async () => {
    await cronJob('cj');
    const { job: j, pod } = fake.workloads.fireCronJob(NS, 'cj', Date.parse('2026-12-01T11:00:00Z'));
    fake.workloads.completePod(NS, pod.metadata.name!, 'succeeded');
    await fake.kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({ name: j.metadata.name!, namespace: NS, propagationPolicy: 'Background' });
    await waitFor(() => fake.store.get('v1', 'Pod', NS, pod.metadata.name!) === undefined, 'pod collected');
  });
});

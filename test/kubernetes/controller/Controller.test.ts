import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { tempDir, waitFor } from '../../support/tmp.js';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { ADAPTER_CONTAINER, cronJobName } from '../../../agent/src/kubernetes/resources/index.js';
import { encodeReport } from '../../../agent/src/kubernetes/transport/report.js';
import { buildHealthState } from '../../../agent/src/kubernetes/transport/health-state.js';
import { COLLECTED_ANNOTATION, RUN_NOW_ANNOTATION } from '../../../agent/src/kubernetes/controller/apply.js';
import type { KubernetesController } from '../../../agent/src/kubernetes/controller/Controller.js';
import { HD_API, hd, makeController } from './harness.js';

const NS = 'default';
/** Scheduled times in the near future (minute-aligned), so no run counts as missed. */
const T0 = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
const at = (minutes: number): number => T0 + minutes * 60_000;

describe('KubernetesController against the fake API server', () => {
  let fake: FakeKubeServer;
  let dir: string;
  const running: KubernetesController[] = [];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ bookmarkIntervalMs: 500, namespaces: ['default', 'team-a', 'other', 'vigil-system'] });
    dir = tempDir('vigil-k8s-');
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await fake.close();
  });

  async function start(options: Parameters<typeof makeController>[0]['options'] = {}): Promise<KubernetesController> {
    const { controller } = makeController({ kc: fake.kubeConfig(), dir, options });
    running.push(controller);
    await controller.start();
    return controller;
  }

  async function stop(controller: KubernetesController): Promise<void> {
    running.splice(running.indexOf(controller), 1);
    await controller.stop();
  }

  const get = (apiVersion: string, kind: string, name: string, ns: string | undefined = NS): any => fake.store.get(apiVersion, kind, ns, name);
  const definition = (name: string, ns = NS): any => get(HD_API, 'HealthDefinition', name, ns);
  const condition = (name: string, type: string, ns = NS): any => (definition(name, ns)?.status?.conditions ?? []).find((c: any) => c.type === type);
  const recordFile = (name: string, ns = NS): string => join(dir, 'state', ns, `${name}-test-cluster.yaml`);
  const record = (name: string, ns = NS): any => parseYamlDocument(readFileSync(recordFile(name, ns), 'utf8'));

  function succeed(jobName: string, report: object, ns = NS): void {
    const pod = fake.workloads.podsOf(ns, jobName)[0]!;
    fake.workloads.completePod(ns, pod.metadata.name!, { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: encodeReport({ v: 1, output: 'status', finishedAt: Date.now(), ...report } as any) } });
  }

  it('creates the objects of a new definition, owned by it, and reports Ready in its status', async () => {
    await start();
    fake.store.put(hd('redis-a'));
    const cj = cronJobName(definition('redis-a'));
    await waitFor(() => condition('redis-a', 'Ready')?.status === 'True', 'Ready=True');
    const cron = get('batch/v1', 'CronJob', cj);
    expect(cron.spec.schedule).toBe('*/5 * * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.metadata.ownerReferences[0]).toMatchObject({ kind: 'HealthDefinition', name: 'redis-a', uid: definition('redis-a').metadata.uid });
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding']) {
      const apiVersion = kind === 'ServiceAccount' ? 'v1' : 'rbac.authorization.k8s.io/v1';
      expect(fake.store.list(apiVersion, kind, NS).filter((o: any) => o.metadata.ownerReferences?.[0]?.name === 'redis-a')).toHaveLength(1);
    }
    const status = definition('redis-a').status;
    expect(status).toMatchObject({ observedGeneration: definition('redis-a').metadata.generation, cronJobName: cj });
    expect(status.nextRunTime).toMatch(/Z$/);
    expect(condition('redis-a', 'Failing')).toMatchObject({ status: 'Unknown', reason: 'NoRunYet' });
  });

  it('updates objects in place when the definition changes, and makes no writes when nothing changed', async () => {
    const c = await start();
    fake.store.put(hd('redis-a'));
    await waitFor(() => condition('redis-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('redis-a'));
    const uid = get('batch/v1', 'CronJob', cj).metadata.uid;

    const changed = hd('redis-a', NS, { schedule: '@daily', timeoutSeconds: 60 });
    fake.store.put({ ...changed, metadata: { ...definition('redis-a').metadata } , spec: changed.spec });
    await waitFor(() => get('batch/v1', 'CronJob', cj).spec.schedule === '0 0 * * *', 'CronJob updated');
    const cron = get('batch/v1', 'CronJob', cj);
    expect(cron.metadata.uid).toBe(uid);
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(60);
    await waitFor(() => definition('redis-a').status.observedGeneration === definition('redis-a').metadata.generation, 'observedGeneration');
    await c.idle();

    // Level-triggered resync with nothing to do: no write requests at all.
    fake.requests.clear();
    (c as any).requeueAll();
    await c.idle();
    expect(fake.requests.writes()).toEqual([]);
  });

  it('deletes the objects and the record of a deleted definition, including cluster-scoped RBAC', async () => {
    await start();
    const def = hd('cluster-reader', NS, {});
    def.spec.workflow.spec.rbac = { permissions: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'], resourceNamespace: '*' }] };
    fake.store.put(def);
    await waitFor(() => fake.store.list('rbac.authorization.k8s.io/v1', 'ClusterRole').some((o: any) => o.metadata.annotations?.['health.vigil.dev/definition'] === 'default/cluster-reader'), 'ClusterRole');
    const cj = cronJobName(definition('cluster-reader'));
    const { job } = fake.workloads.fireCronJob(NS, cj);
    succeed(job.metadata.name!, { state: 'healthy' });
    await waitFor(() => existsSync(recordFile('cluster-reader')), 'record written');

    fake.store.delete(HD_API, 'HealthDefinition', NS, 'cluster-reader');
    await waitFor(() => !existsSync(recordFile('cluster-reader')), 'record deleted');
    await waitFor(() => fake.store.list('rbac.authorization.k8s.io/v1', 'ClusterRole').every((o: any) => o.metadata.annotations?.['health.vigil.dev/definition'] !== 'default/cluster-reader'), 'ClusterRole deleted');
    expect(fake.store.list('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding').filter((o: any) => o.metadata.annotations?.['health.vigil.dev/definition'] === 'default/cluster-reader')).toEqual([]);
    expect(get('batch/v1', 'CronJob', cj)).toBeUndefined();
  });

  it('rejects a bad definition with Ready=False InvalidSpec naming the field, while the others run', async () => {
    await start();
    fake.store.put(hd('bad', NS, { schedule: '@every 5m' }));
    fake.store.put(hd('good'));
    await waitFor(() => condition('bad', 'Ready')?.reason === 'InvalidSpec', 'bad rejected');
    expect(condition('bad', 'Ready').status).toBe('False');
    expect(condition('bad', 'Ready').message).toContain('spec.schedule');
    expect(condition('bad', 'Ready').message).toContain('default/bad');
    await waitFor(() => condition('good', 'Ready')?.status === 'True', 'good ready');
    expect(get('batch/v1', 'CronJob', cronJobName(definition('good')))).toBeDefined();
    expect(get('batch/v1', 'CronJob', cronJobName(definition('bad')))).toBeUndefined();

    // Fixing it makes it run.
    fake.store.put({ ...definition('bad'), spec: { ...definition('bad').spec, schedule: '@hourly' } });
    await waitFor(() => condition('bad', 'Ready')?.status === 'True', 'bad fixed');
    expect(get('batch/v1', 'CronJob', cronJobName(definition('bad'))).spec.schedule).toBe('0 * * * *');
  });

  it('turns finished Jobs into records, once each, with the failure vocabulary', async () => {
    const c = await start();
    fake.store.put(hd('redis-a', NS, { promiseVersion: 'v1.2.0' }));
    await waitFor(() => condition('redis-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('redis-a'));

    const first = fake.workloads.fireCronJob(NS, cj, at(0));
    succeed(first.job.metadata.name!, { state: 'healthy', details: { replicas: 3 } });
    await waitFor(() => existsSync(recordFile('redis-a')), 'record');
    expect(record('redis-a').data).toMatchObject({ promiseRef: { name: 'redis' }, state: 'healthy', details: { replicas: 3 }, promiseVersion: 'v1.2.0' });
    await waitFor(() => get('batch/v1', 'Job', first.job.metadata.name!).metadata.annotations?.[COLLECTED_ANNOTATION] !== undefined, 'Job marked collected');
    await waitFor(() => condition('redis-a', 'Failing')?.reason === 'Succeeded', 'status after run');
    expect(definition('redis-a').status).toMatchObject({ state: 'healthy', lastJob: first.job.metadata.name! });

    // An init (user) container failing: unknown + ExitCode.
    const second = fake.workloads.fireCronJob(NS, cj, at(5));
    fake.workloads.completePod(NS, second.pod.metadata.name!, { kind: 'initFailed', container: 'check', exitCode: 2, message: 'connection refused' });
    await waitFor(() => record('redis-a').data.state === 'unknown', 'failure record');
    expect(record('redis-a').data.details.error.reason).toBe('ExitCode');
    await waitFor(() => condition('redis-a', 'Failing')?.status === 'True', 'Failing=True');
    expect(condition('redis-a', 'Failing').reason).toBe('ExitCode');

    // Deadline exceeded: Timeout.
    const third = fake.workloads.fireCronJob(NS, cj, at(10));
    fake.workloads.completePod(NS, third.pod.metadata.name!, { kind: 'deadlineExceeded' });
    await waitFor(() => record('redis-a').data.details?.error?.reason === 'Timeout', 'timeout record');

    // A HealthState written by the adapter wins over the termination message.
    const fourth = fake.workloads.fireCronJob(NS, cj, at(15));
    const def = definition('redis-a');
    fake.store.put(buildHealthState({
      namespace: NS, jobName: fourth.job.metadata.name!, jobUid: fourth.job.metadata.uid!, podUid: fourth.pod.metadata.uid!, definitionUid: def.metadata.uid,
      promiseRef: { name: 'redis' }, report: { v: 1, output: 'status', state: 'degraded', details: { lag: 12 }, finishedAt: Date.now() },
    }) as any);
    // Separate watches: let the HealthState reach the cache before the pod ends (a loaded machine can lag past the grace period).
    await waitFor(() => c.cached('HealthState').some((h) => h.metadata.name === fourth.job.metadata.name), 'HealthState cached');
    fake.workloads.completePod(NS, fourth.pod.metadata.name!, { kind: 'succeeded' });
    await waitFor(() => record('redis-a').data.state === 'degraded', 'HealthState result');
    await waitFor(() => get(HD_API, 'HealthState', fourth.job.metadata.name!) === undefined, 'HealthState deleted after collection');

    await c.idle();
    expect((c.summary() as any).counters.runsCollected).toBe(4);
    expect((c.definition(NS, 'redis-a') as any).history).toHaveLength(4);
  });

  it('loses nothing and doubles nothing across an agent restart mid-run', async () => {
    const first = await start();
    fake.store.put(hd('redis-a'));
    await waitFor(() => condition('redis-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('redis-a'));
    const a = fake.workloads.fireCronJob(NS, cj, at(0));
    await waitFor(() => (first.definition(NS, 'redis-a') as any).running !== null, 'run seen running');
    await stop(first);

    // While no agent runs: the running Job finishes, and a second one runs entirely.
    succeed(a.job.metadata.name!, { state: 'healthy' });
    const b = fake.workloads.fireCronJob(NS, cj, at(5));
    succeed(b.job.metadata.name!, { state: 'degraded' });

    const second = await start();
    await waitFor(() => (second.summary() as any).counters.runsCollected === 2, 'both runs collected');
    await second.flushRecords(5_000);
    expect(record('redis-a').data.state).toBe('degraded'); // the newer run wins
    await waitFor(() => [a, b].every((r) => get('batch/v1', 'Job', r.job.metadata.name!).metadata.annotations?.[COLLECTED_ANNOTATION]), 'both marked');
    await stop(second);

    // Another restart: nothing is collected again.
    const third = await start();
    await third.idle();
    expect((third.summary() as any).counters.runsCollected).toBe(0);
  });

  it('keeps reconciling after the watch expires (410) and after a silent stall', async () => {
    const c = await start({ stallSeconds: 1 });
    fake.store.put(hd('one'));
    await waitFor(() => condition('one', 'Ready')?.status === 'True', 'one');
    fake.compact({ expireWatches: true });
    fake.store.put(hd('two'));
    await waitFor(() => condition('two', 'Ready')?.status === 'True', 'two after 410');

    fake.failNext({ watch: true, path: '/apis/platform.kratix.io/v1alpha1/healthdefinitions' }, 'hang');
    fake.endWatches();
    fake.store.put(hd('three'));
    await waitFor(() => condition('three', 'Ready')?.status === 'True', 'three after the stall', 15_000);
    expect((c.summary() as any).informers.HealthDefinition.gone).toBeGreaterThanOrEqual(1);
  });

  it('creates a Job from the CronJob when the run-now annotation changes', async () => {
    await start();
    fake.store.put(hd('redis-a'));
    await waitFor(() => condition('redis-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('redis-a'));
    const d = definition('redis-a');
    fake.store.put({ ...d, metadata: { ...d.metadata, annotations: { [RUN_NOW_ANNOTATION]: 'please-1' } } });
    await waitFor(() => fake.store.list('batch/v1', 'Job', NS).some((j: any) => j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual'), 'manual Job');
    const job: any = fake.store.list('batch/v1', 'Job', NS).find((j: any) => j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual');
    expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: cj });
    expect(job.spec.backoffLimit).toBe(0);
    await waitFor(() => definition('redis-a').status?.runNowHandled === 'please-1', 'handled');
    // The same value again does nothing; a new value runs again.
    const count = (): number => fake.store.list('batch/v1', 'Job', NS).length;
    expect(count()).toBe(1);
    const d2 = definition('redis-a');
    fake.store.put({ ...d2, metadata: { ...d2.metadata, annotations: { [RUN_NOW_ANNOTATION]: 'please-2' } } });
    await waitFor(() => count() === 2, 'second manual Job');
  });

  it('reports a scheduled run that never started', async () => {
    // The controller's clock runs a day ahead: the CronJob, created "now", should have fired long ago.
    await start({ clock: { now: () => Date.now() + 86_400_000 } });
    fake.store.put(hd('stuck', NS, { schedule: '@hourly' }));
    await waitFor(() => condition('stuck', 'Failing')?.reason === 'MissedSchedule', 'MissedSchedule');
    expect(condition('stuck', 'Failing').message).toMatch(/no Job started for the run scheduled at/);
  });

  it('with leader election, only the leader writes; a standby takes over when the leader dies', async () => {
    const le = { namespace: 'vigil-system', name: 'vigil', leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.2 };
    const a = await start({ leaderElection: { ...le, identity: 'a' } });
    await waitFor(() => a.isLeader, 'a leads');
    const b = await start({ leaderElection: { ...le, identity: 'b' } });
    fake.store.put(hd('one'));
    await waitFor(() => condition('one', 'Ready')?.status === 'True', 'one');
    expect(b.isLeader).toBe(false);
    expect((b.summary() as any).counters.creates).toBe(0);

    // The leader dies without releasing the lease.
    await (a as any).elector.stop(false);
    (a as any).leading = false;
    fake.store.put(hd('two'));
    await waitFor(() => b.isLeader, 'b leads', 10_000);
    await waitFor(() => condition('two', 'Ready')?.status === 'True', 'two reconciled by b');
    expect((b.summary() as any).counters.creates).toBeGreaterThan(0);
  });
  it('ends runs stuck before the check as unknown: ImagePull, StartFailed (CreateContainerConfigError), Unschedulable; the Job is deleted', async () => {
    const c = await start({ unschedulableAfterSeconds: 1, startErrorAfterSeconds: 1 });
    fake.store.put(hd('stuck-a'));
    await waitFor(() => condition('stuck-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('stuck-a'));

    const pull = fake.workloads.fireCronJob(NS, cj, at(0));
    fake.workloads.completePod(NS, pull.pod.metadata.name!, { kind: 'imagePullError', container: 'check', reason: 'ImagePullBackOff' });
    await waitFor(() => existsSync(recordFile('stuck-a')) && record('stuck-a').data.details?.error?.reason === 'ImagePull', 'ImagePull record', 20_000);
    expect(record('stuck-a').data.state).toBe('unknown');
    expect(record('stuck-a').data.details.error.message).toContain('ghcr.io/example/redis-check:v1');
    await waitFor(() => get('batch/v1', 'Job', pull.job.metadata.name!) === undefined, 'stuck Job deleted');
    await waitFor(() => condition('stuck-a', 'Failing')?.reason === 'ImagePull', 'Failing=ImagePull');

    const config = fake.workloads.fireCronJob(NS, cj, at(5));
    fake.workloads.completePod(NS, config.pod.metadata.name!, { kind: 'createContainerConfigError', container: 'check', message: 'secret "redis-auth" not found' });
    await waitFor(() => record('stuck-a').data.details?.error?.reason === 'StartFailed', 'StartFailed record', 20_000);
    expect(record('stuck-a').data.details.error.message).toContain('CreateContainerConfigError: secret "redis-auth" not found');

    const unsched = fake.workloads.fireCronJob(NS, cj, at(10));
    fake.workloads.completePod(NS, unsched.pod.metadata.name!, { kind: 'unschedulable' });
    await waitFor(() => record('stuck-a').data.details?.error?.reason === 'Unschedulable', 'Unschedulable record', 20_000);
    expect(record('stuck-a').data.details.error.message).toContain('Insufficient cpu');
    await waitFor(() => get('batch/v1', 'Job', unsched.job.metadata.name!) === undefined, 'unschedulable Job deleted');
    await c.idle();
    expect((c.summary() as any).counters.runsCollected).toBe(3);
  }, 60_000);

  it('shows a Job that has not run yet in the status (waitingJob) and the logs, and clears it when the run moves on', async () => {
    await start();
    fake.store.put(hd('pending-a'));
    await waitFor(() => condition('pending-a', 'Ready')?.status === 'True', 'Ready');
    const cj = cronJobName(definition('pending-a'));
    const { job, pod } = fake.workloads.fireCronJob(NS, cj, at(0));
    fake.workloads.completePod(NS, pod.metadata.name!, { kind: 'unschedulable', message: '0/3 nodes are available: 3 node(s) had untolerated taint' });
    await waitFor(() => typeof definition('pending-a').status?.waitingJob === 'string', 'waitingJob in status');
    expect(definition('pending-a').status.waitingJob).toBe(`${job.metadata.name!}: pod unschedulable: 0/3 nodes are available: 3 node(s) had untolerated taint`);
    fake.workloads.runPod(NS, pod.metadata.name!);
    succeed(job.metadata.name!, { state: 'healthy' });
    await waitFor(() => definition('pending-a').status?.state === 'healthy', 'run recorded');
    expect(definition('pending-a').status.waitingJob).toBeUndefined();
  }, 60_000);
  it('watches only the configured namespaces when some are given', async () => {
    await start({ namespaces: ['team-a'] });
    fake.store.put(hd('in-scope', 'team-a'));
    fake.store.put(hd('out-of-scope', 'other'));
    await waitFor(() => condition('in-scope', 'Ready', 'team-a')?.status === 'True', 'team-a reconciled');
    expect(get('batch/v1', 'CronJob', cronJobName(definition('in-scope', 'team-a')), 'team-a')).toBeDefined();
    expect(definition('out-of-scope', 'other').status).toBeUndefined();
    expect(fake.store.list('batch/v1', 'CronJob', 'other')).toEqual([]);
    // Every watch is scoped to team-a, except RBAC (a definition may ask for Roles in other namespaces, and ClusterRoles).
    const watches = fake.requests.filter({ watch: true }).map((r) => r.path).filter((p) => !p.startsWith('/apis/rbac.authorization.k8s.io/'));
    expect(watches.length).toBeGreaterThan(0);
    for (const p of watches) expect(p).toMatch(/\/namespaces\/team-a\//);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Plain } from '../../../agent/src/kubernetes/resources/index.js';
import { ADAPTER_CONTAINER, interpretRun, jobScheduledTime } from '../../../agent/src/kubernetes/resources/index.js';
import { buildHealthState } from '../../../agent/src/kubernetes/transport/health-state.js';
import { encodeReport } from '../../../agent/src/kubernetes/transport/report.js';

const T0 = Date.parse('2026-11-22T09:00:00Z');
const JOB_UID = 'job-uid-1';
const POD_UID = 'pod-uid-1';

function job(conditions: { type: string; reason?: string; message?: string }[] = [], extra: Partial<Plain<V1Job>['status']> = {}): Plain<V1Job> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'redis-check-29400540',
      namespace: 'team-a',
      uid: JOB_UID,
      creationTimestamp: '2026-11-22T09:00:01Z',
      annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-11-22T09:00:00Z' },
    },
    spec: {
      template: {
        spec: {
          initContainers: [
            { name: 'prepare', image: 'busybox' },
            { name: 'check', image: 'example/check:v1' },
          ],
          containers: [{ name: ADAPTER_CONTAINER, image: 'vigil' }],
        },
      },
    },
    status: {
      startTime: '2026-11-22T09:00:01Z',
      conditions: conditions.map((c) => ({ status: 'True', lastTransitionTime: '2026-11-22T09:00:30Z', ...c })),
      ...extra,
    },
  };
}

type PodStatus = NonNullable<Plain<V1Pod>['status']>;

function pod(status: PodStatus, created = '2026-11-22T09:00:02Z'): Plain<V1Pod> {
  return {
    metadata: { name: 'redis-check-29400540-abcde', namespace: 'team-a', uid: POD_UID, creationTimestamp: created, labels: { 'batch.kubernetes.io/controller-uid': JOB_UID } },
    status,
  };
}

const terminated = (exitCode: number, message?: string) => ({ state: { terminated: { exitCode, ...(message ? { message } : {}) } } });

function succeededPod(report?: string): Plain<V1Pod> {
  return pod({
    phase: 'Succeeded',
    initContainerStatuses: [
      { name: 'prepare', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...terminated(0) },
      { name: 'check', image: 'example/check:v1', imageID: '', ready: false, restartCount: 0, ...terminated(0) },
    ],
    containerStatuses: [{ name: ADAPTER_CONTAINER, image: 'vigil', imageID: '', ready: false, restartCount: 0, ...terminated(0, report) }],
  });
}

const report = (state: 'healthy' | 'degraded', details?: Record<string, unknown>) => encodeReport({ v: 1, output: 'status', state, finishedAt: T0 + 30_000, ...(details ? { details } : {}) });

describe('jobScheduledTime', () => {
  it('reads the CronJob annotation, else the creation time', () => {
    expect(jobScheduledTime(job())).toBe(T0);
    const runNow = job();
    delete runNow.metadata!.annotations;
    expect(jobScheduledTime(runNow)).toBe(Date.parse('2026-11-22T09:00:01Z'));
    runNow.metadata!.creationTimestamp = new Date(T0 + 5000);
    expect(jobScheduledTime(runNow)).toBe(T0 + 5000);
  });
});

describe('interpretRun', () => {
  it('is running while the Job has no terminal condition', () => {
    const r = interpretRun(job(), [pod({ phase: 'Pending' })], T0 + 10_000);
    expect(r).toEqual({ phase: 'running', jobName: 'redis-check-29400540', scheduledAt: T0 });
  });

  it('takes the result from the adapter termination message', () => {
    const r = interpretRun(job([{ type: 'Complete' }]), [succeededPod(report('degraded', { replicas: 1 }))], T0 + 60_000);
    expect(r).toMatchObject({ phase: 'finished', source: 'terminationMessage', finishedAt: T0 + 30_000, result: { state: 'degraded', details: { replicas: 1 }, source: 'file' } });
  });

  it('prefers a matching HealthState (full details) and ignores one from another Job', () => {
    const hs = buildHealthState({
      namespace: 'team-a',
      jobName: 'redis-check-29400540',
      jobUid: JOB_UID,
      podUid: POD_UID,
      definitionUid: 'def',
      promiseRef: { name: 'redis' },
      report: { v: 1, output: 'status', state: 'healthy', details: { big: 'x'.repeat(10_000) }, finishedAt: T0 + 29_000 },
    });
    const withHs = interpretRun(job([{ type: 'Complete' }]), [succeededPod(report('degraded'))], T0 + 60_000, { healthState: hs });
    expect(withHs).toMatchObject({ phase: 'finished', source: 'healthState', result: { state: 'healthy' } });
    if (withHs.phase === 'finished') expect((withHs.result.details.big as string).length).toBe(10_000);

    const forged = { ...hs, metadata: { ...hs.metadata, labels: { ...hs.metadata!.labels, 'health.vigil.dev/job-uid': 'other' } } };
    const r = interpretRun(job([{ type: 'Complete' }]), [succeededPod(report('degraded'))], T0 + 60_000, { healthState: forged });
    expect(r).toMatchObject({ phase: 'finished', source: 'terminationMessage', result: { state: 'degraded' } });
    if (r.phase === 'finished') expect(r.warnings[0]).toMatch(/ignored: it names Job uid other/);
  });

  it('uses the HealthState when the pod is gone (agent was down past the Job history)', () => {
    const hs = buildHealthState({ namespace: 'team-a', jobName: 'j', jobUid: JOB_UID, podUid: POD_UID, definitionUid: 'def', promiseRef: { name: 'redis' }, report: { v: 1, output: 'missing', finishedAt: T0 } });
    const r = interpretRun(job([{ type: 'Complete' }]), [], T0 + 3_600_000, { healthState: hs });
    expect(r).toMatchObject({ phase: 'finished', source: 'healthState', result: { state: 'unknown', reason: 'MissingOutput' } });
  });

  it('maps an invalid output file to InvalidOutput', () => {
    const msg = encodeReport({ v: 1, output: 'invalid', message: 'health-status.yaml: state: "great" is not one of: unknown, ready', finishedAt: T0 });
    const r = interpretRun(job([{ type: 'Complete' }]), [succeededPod(msg)], T0 + 60_000);
    expect(r).toMatchObject({ phase: 'finished', result: { state: 'unknown', reason: 'InvalidOutput', details: { error: { message: expect.stringContaining('"great"') } } } });
  });

  it('maps a user init container exiting non-zero to ExitCode with its last log lines', () => {
    const failedPod = pod({
      phase: 'Failed',
      initContainerStatuses: [
        { name: 'prepare', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...terminated(0) },
        { name: 'check', image: 'example/check:v1', imageID: '', ready: false, restartCount: 0, ...terminated(3, 'connecting to db\nconnection refused\n') },
      ],
      containerStatuses: [{ name: ADAPTER_CONTAINER, image: 'vigil', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    const r = interpretRun(job([{ type: 'Failed', reason: 'BackoffLimitExceeded' }]), [failedPod], T0 + 60_000);
    expect(r).toMatchObject({
      phase: 'finished',
      source: 'job',
      result: { state: 'unknown', reason: 'ExitCode', details: { error: { container: 'check', exitCode: 3, message: 'container "check" exited with code 3: connecting to db | connection refused' } } },
    });
  });

  it('in Nagios mode, a failing exit code carries the state', () => {
    const failedPod = pod({
      phase: 'Failed',
      initContainerStatuses: [
        { name: 'prepare', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...terminated(0) },
        { name: 'check', image: 'example/check:v1', imageID: '', ready: false, restartCount: 0, ...terminated(1, 'DISK WARNING - 85% used | used=85%;80;90\n') },
      ],
    });
    const r = interpretRun(job([{ type: 'Failed', reason: 'BackoffLimitExceeded' }]), [failedPod], T0 + 60_000, { exitCodeMode: 'Nagios' });
    expect(r).toMatchObject({ phase: 'finished', result: { state: 'degraded', details: { exitCode: 1, message: 'DISK WARNING - 85% used' } } });
  });

  it('maps DeadlineExceeded to Timeout', () => {
    const running = pod({ phase: 'Running', initContainerStatuses: [{ name: 'prepare', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] });
    const r = interpretRun(job([{ type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }]), [running], T0 + 400_000, { timeoutSeconds: 300 });
    expect(r).toMatchObject({ phase: 'finished', result: { state: 'unknown', reason: 'Timeout', details: { error: { container: 'prepare' } } } });
    expect(interpretRun(job([{ type: 'Failed', reason: 'DeadlineExceeded' }]), [], T0 + 400_000)).toMatchObject({ result: { reason: 'Timeout' } });
  });

  it('maps an image pull error to ImagePull after a grace period, and reports the Job as stuck', () => {
    const pulling = pod({
      phase: 'Pending',
      initContainerStatuses: [{ name: 'prepare', image: 'busybox:nope', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }],
    });
    expect(interpretRun(job(), [pulling], T0 + 30_000)).toMatchObject({ phase: 'running', waiting: 'container "prepare": ImagePullBackOff: Back-off pulling image' });
    const r = interpretRun(job(), [pulling], T0 + 200_000);
    expect(r).toMatchObject({ phase: 'finished', stuck: true, result: { reason: 'ImagePull', details: { error: { container: 'prepare' } } } });
    // A Job that hit its deadline while pulling is an ImagePull, not a Timeout.
    expect(interpretRun(job([{ type: 'Failed', reason: 'DeadlineExceeded' }]), [pulling], T0 + 30_000)).toMatchObject({ result: { reason: 'ImagePull' } });
  });

  it('maps CreateContainerConfigError to StartFailed', () => {
    const bad = pod({
      phase: 'Pending',
      initContainerStatuses: [{ name: 'prepare', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } }],
    });
    expect(interpretRun(job(), [bad], T0 + 500_000)).toMatchObject({ phase: 'finished', result: { reason: 'StartFailed', message: 'container "prepare" could not start: CreateContainerConfigError: secret "db" not found' } });
  });

  it('maps a pod unschedulable past the deadline to Unschedulable', () => {
    const pending = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] });
    expect(interpretRun(job(), [pending], T0 + 60_000)).toMatchObject({ phase: 'running', waiting: 'pod unschedulable: 0/3 nodes are available: 3 Insufficient cpu.' });
    expect(interpretRun(job(), [pending], T0 + 60_000, { unschedulableAfterSeconds: 30 })).toMatchObject({ phase: 'finished', stuck: true, result: { reason: 'Unschedulable' } });
  });

  it('ignores pods of other Jobs and says when the result is gone', () => {
    const other = succeededPod(report('healthy'));
    other.metadata!.labels = { 'batch.kubernetes.io/controller-uid': 'another-job' };
    expect(interpretRun(job([{ type: 'Complete' }]), [other], T0 + 60_000)).toMatchObject({ phase: 'finished', result: { reason: 'MissingOutput', message: expect.stringContaining('no longer available') } });
  });

  it('reports a broken adapter report instead of trusting it', () => {
    const r = interpretRun(job([{ type: 'Complete' }]), [succeededPod('{"v":1,"output":"status","state":"great","finishedAt":1}')], T0 + 60_000);
    expect(r).toMatchObject({ phase: 'finished', result: { state: 'unknown', reason: 'MissingOutput' } });
    if (r.phase === 'finished') expect(r.warnings[0]).toMatch(/invalid state "great"/);
  });
});

/**
 * Deterministic simulation of the CronJob, Job and kubelet controllers for the fake API server.
 * Nothing happens on a timer: tests fire CronJobs (`fireCronJob`), start Jobs (`startJob`, or
 * automatically with `autoRun`), and decide how each pod ends (`completePod`). Statuses, labels,
 * annotations, ownerReferences, conditions and Events are written the way the real controllers
 * write them (Kubernetes 1.31), so code reading them is exercised against realistic objects.
 */
import { randomBytes } from 'node:crypto';
import type { StoreControl } from './index.js';
import { timestamp, type KubeObject, type ObjectStore } from './store.js';
import { clone } from './patch.js';

/** How a pod ends (or gets stuck). */
export type PodOutcome =
  /** All containers exit 0; optional termination messages and exit codes per container (init containers included). */
  | { kind: 'succeeded'; messages?: Record<string, string> }
  /** A main container exits non-zero (default: the first one, exit code 1). */
  | { kind: 'failed'; container?: string; exitCode?: number; message?: string }
  /** An init container exits non-zero (default: the first one); the main containers never start. */
  | { kind: 'initFailed'; container?: string; exitCode?: number; message?: string }
  /** The Job's activeDeadlineSeconds passes: the Job fails with reason DeadlineExceeded and its pods are deleted. */
  | { kind: 'deadlineExceeded' }
  /** The image cannot be pulled: the pod stays Pending with a waiting reason (a main container by default, or the named init container). */
  | { kind: 'imagePullError'; container?: string; reason?: 'ErrImagePull' | 'ImagePullBackOff'; message?: string }
  /** The container (main by default, or the named init container) cannot be created (e.g. a missing Secret): the pod stays Pending. */
  | { kind: 'createContainerConfigError'; container?: string; message?: string }
  /** No node fits: PodScheduled False, reason Unschedulable. */
  | { kind: 'unschedulable'; message?: string };

export interface FiredJob {
  job: KubeObject;
  pod: KubeObject;
}

export interface CompleteOptions {
  /** Pod logs per container name, served at pods/<name>/log. */
  logs?: Record<string, string>;
}

export type AutoRunDecider = (pod: KubeObject, job: KubeObject) => PodOutcome | undefined | Promise<PodOutcome | undefined>;

interface Container {
  name: string;
  image?: string;
}

const CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  return [...randomBytes(5)].map((b) => CHARS[b % CHARS.length]).join('');
}

function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function containersOf(pod: KubeObject): { init: Container[]; main: Container[] } {
  const spec = rec(pod.spec);
  return { init: (spec.initContainers as Container[] | undefined) ?? [], main: (spec.containers as Container[] | undefined) ?? [] };
}

function ownerRef(obj: KubeObject): Record<string, unknown> {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, uid: obj.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export class Workloads {
  private decider: AutoRunDecider | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Errors thrown by the autoRun decider (tests can assert there are none). */
  readonly autoRunErrors: unknown[] = [];

  constructor(
    private readonly objects: ObjectStore,
    private readonly store: StoreControl,
    private readonly podLogs: Map<string, string>,
    private readonly now: () => number,
  ) {}

  /**
   * Runs the CronJob controller for one scheduled time: creates the Job from spec.jobTemplate
   * (name `<cronjob>-<unix minutes>`, ownerReference, scheduled-timestamp annotation, cronjob-name
   * label), records it in the CronJob's status.active and lastScheduleTime, and starts its pod.
   */
  fireCronJob(namespace: string, name: string, scheduledTime: Date | number = this.now()): FiredJob {
    const cj = this.store.get('batch/v1', 'CronJob', namespace, name);
    if (!cj) throw new Error(`fake-kube workloads: CronJob ${namespace}/${name} not found`);
    const at = typeof scheduledTime === 'number' ? scheduledTime : scheduledTime.getTime();
    const template = rec(rec(cj.spec).jobTemplate);
    const tmeta = rec(template.metadata);
    const jobName = `${name}-${Math.floor(at / 60_000)}`;
    if (this.store.get('batch/v1', 'Job', namespace, jobName)) throw new Error(`fake-kube workloads: Job ${namespace}/${jobName} already exists (CronJob fired twice for the same minute)`);
    const job = this.store.put({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace,
        labels: { ...(rec(tmeta.labels) as Record<string, string>), 'batch.kubernetes.io/cronjob-name': name },
        annotations: { ...(rec(tmeta.annotations) as Record<string, string>), 'batch.kubernetes.io/cronjob-scheduled-timestamp': timestamp(at) },
        ownerReferences: [ownerRef(cj)],
      },
      spec: clone(template.spec ?? {}),
    });
    const status = rec(cj.status);
    const active = ((status.active as unknown[] | undefined) ?? []).concat([
      { apiVersion: 'batch/v1', kind: 'Job', name: jobName, namespace, uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion },
    ]);
    this.store.putStatus('batch/v1', 'CronJob', namespace, name, { ...status, active, lastScheduleTime: timestamp(at) });
    const pod = this.startJob(namespace, jobName);
    return { job: this.store.get('batch/v1', 'Job', namespace, jobName)!, pod };
  }

  /** Runs the Job controller for a Job: creates its pod (Pending) and marks the Job active. */
  startJob(namespace: string, jobName: string): KubeObject {
    const job = this.store.get('batch/v1', 'Job', namespace, jobName);
    if (!job) throw new Error(`fake-kube workloads: Job ${namespace}/${jobName} not found`);
    const template = rec(rec(job.spec).template);
    const tmeta = rec(template.metadata);
    const pod = this.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${jobName}-${suffix()}`,
        namespace,
        labels: { ...(rec(tmeta.labels) as Record<string, string>) },
        ...(tmeta.annotations ? { annotations: clone(tmeta.annotations) } : {}),
        ownerReferences: [ownerRef(job)],
        finalizers: ['batch.kubernetes.io/job-tracking'],
      },
      spec: clone(template.spec ?? {}),
    });
    const status = rec(job.status);
    this.store.putStatus('batch/v1', 'Job', namespace, jobName, {
      ...status,
      active: ((status.active as number | undefined) ?? 0) + 1,
      startTime: status.startTime ?? timestamp(this.now()),
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    });
    return pod;
  }

  /** Pods of a Job (by the controller-uid label). */
  podsOf(namespace: string, jobName: string): KubeObject[] {
    const job = this.store.get('batch/v1', 'Job', namespace, jobName);
    if (!job) return [];
    return this.store.list('v1', 'Pod', namespace).filter((p) => (p.metadata.ownerReferences as { uid?: string }[] | undefined)?.some((r) => r.uid === job.metadata.uid));
  }

  /** Marks a pod scheduled and running (all main containers running). */
  runPod(namespace: string, podName: string): KubeObject {
    const pod = this.mustPod(namespace, podName);
    const { init, main } = containersOf(pod);
    const t = timestamp(this.now());
    return this.store.putStatus('v1', 'Pod', namespace, podName, {
      phase: 'Running',
      conditions: this.conditions({ scheduled: true, initialized: true, ready: true }),
      hostIP: '10.0.0.10',
      podIP: '10.244.0.10',
      startTime: t,
      qosClass: 'BestEffort',
      ...(init.length ? { initContainerStatuses: init.map((c) => this.terminated(c, 0, 'Completed')) } : {}),
      containerStatuses: main.map((c) => ({ ...this.base(c), ready: true, started: true, state: { running: { startedAt: t } } })),
    });
  }

  /**
   * Ends (or blocks) a pod the way the kubelet and the Job controller would for `outcome`, and
   * updates the Job and its CronJob. A failure within the Job's backoffLimit makes the Job
   * controller start a replacement pod, which is returned.
   */
  completePod(namespace: string, podName: string, outcome: PodOutcome | PodOutcome['kind'], options: CompleteOptions = {}): { pod?: KubeObject; job?: KubeObject; retryPod?: KubeObject } {
    const o: PodOutcome = typeof outcome === 'string' ? ({ kind: outcome }) : outcome;
    const pod = this.mustPod(namespace, podName);
    for (const [container, text] of Object.entries(options.logs ?? {})) this.podLogs.set(`${namespace}/${podName}/${container}`, text);
    const { init, main } = containersOf(pod);
    const jobName = (pod.metadata.ownerReferences as { kind?: string; name?: string }[] | undefined)?.find((r) => r.kind === 'Job')?.name;
    const t = timestamp(this.now());
    const startTime = rec(pod.status).startTime ?? t;
    const running = { hostIP: '10.0.0.10', podIP: '10.244.0.10', startTime, qosClass: 'BestEffort' };
    switch (o.kind) {
      case 'succeeded': {
        const msg = o.messages ?? {};
        const status = {
          phase: 'Succeeded',
          conditions: this.conditions({ scheduled: true, initialized: true, ready: false, reason: 'PodCompleted' }),
          ...running,
          ...(init.length ? { initContainerStatuses: init.map((c) => this.terminated(c, 0, 'Completed', msg[c.name])) } : {}),
          containerStatuses: main.map((c) => this.terminated(c, 0, 'Completed', msg[c.name])),
        };
        const done = this.finishPod(namespace, podName, status);
        return { pod: done, ...(jobName ? { job: this.jobPodEnded(namespace, jobName, true) } : {}) };
      }
      case 'failed':
      case 'initFailed': {
        const initFail = o.kind === 'initFailed';
        const list = initFail ? init : main;
        const failing = o.container ?? list[0]?.name;
        if (!failing || !list.some((c) => c.name === failing)) throw new Error(`fake-kube workloads: pod ${podName} has no ${initFail ? 'init ' : ''}container ${failing ?? '(none)'}`);
        const code = o.exitCode ?? 1;
        let initStatuses = init.map((c) => this.terminated(c, 0, 'Completed'));
        let mainStatuses;
        if (initFail) {
          const idx = init.findIndex((c) => c.name === failing);
          initStatuses = init.map((c, i) =>
            i < idx ? this.terminated(c, 0, 'Completed') : i === idx ? this.terminated(c, code, 'Error', o.message) : { ...this.base(c), state: { waiting: { reason: 'PodInitializing' } } },
          );
          mainStatuses = main.map((c) => ({ ...this.base(c), state: { waiting: { reason: 'PodInitializing' } } }));
        } else {
          mainStatuses = main.map((c) => (c.name === failing ? this.terminated(c, code, 'Error', o.message) : this.terminated(c, 0, 'Completed')));
        }
        const status = {
          phase: 'Failed',
          conditions: this.conditions({ scheduled: true, initialized: !initFail, ready: false, reason: initFail ? 'ContainersNotInitialized' : 'PodFailed' }),
          ...running,
          ...(init.length ? { initContainerStatuses: initStatuses } : {}),
          containerStatuses: mainStatuses,
        };
        const done = this.finishPod(namespace, podName, status);
        if (!jobName) return { pod: done };
        const job = this.jobPodEnded(namespace, jobName, false);
        const failed = job.status !== undefined && rec(job.status).conditions !== undefined && (rec(job.status).conditions as { type: string }[]).some((c) => c.type === 'Failed');
        if (failed) return { pod: done, job };
        const retryPod = this.startJob(namespace, jobName);
        return { pod: done, job: this.store.get('batch/v1', 'Job', namespace, jobName)!, retryPod };
      }
      case 'deadlineExceeded': {
        if (!jobName) throw new Error(`fake-kube workloads: pod ${podName} belongs to no Job (deadlineExceeded is a Job outcome)`);
        return { job: this.failJob(namespace, jobName, 'DeadlineExceeded', 'Job was active longer than specified deadline') };
      }
      case 'imagePullError': {
        const reason = o.reason ?? 'ErrImagePull';
        const c = o.container ?? main[0]?.name;
        const image = [...init, ...main].find((x) => x.name === c)?.image ?? '';
        const message = o.message ?? `failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
        const done = this.blockPod(namespace, podName, c, reason, message, running);
        this.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
        return { pod: done };
      }
      case 'createContainerConfigError': {
        const message = o.message ?? 'secret "missing" not found';
        const done = this.blockPod(namespace, podName, o.container ?? main[0]?.name, 'CreateContainerConfigError', message, running);
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`);
        return { pod: done };
      }
      case 'unschedulable': {
        const message = o.message ?? '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
        const done = this.store.putStatus('v1', 'Pod', namespace, podName, {
          phase: 'Pending',
          qosClass: 'BestEffort',
          conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: t, reason: 'Unschedulable', message }],
        });
        this.event(pod, 'Warning', 'FailedScheduling', message);
        return { pod: done };
      }
    }
  }

  /**
   * Auto mode: every Job created from now on (through the API or fireCronJob) gets its pod at
   * once, and `decide(pod, job)` picks its outcome (undefined leaves the pod Pending for the test
   * to complete). Pass undefined to stop.
   */
  autoRun(decide: AutoRunDecider | undefined): void {
    this.decider = decide;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (!decide) return;
    this.unsubscribe = this.objects.subscribe((e) => {
      if (e.type !== 'ADDED' || e.rid !== 'jobs.batch/v1') return;
      const ns = e.object.metadata.namespace!;
      const name = e.object.metadata.name!;
      // After the current write completes (fireCronJob starts its own pod synchronously).
      setImmediate(() => { void this.autoStart(ns, name); });
    });
  }

  private async autoStart(ns: string, name: string): Promise<void> {
    try {
      const decide = this.decider;
      if (!decide) return;
      let pods = this.podsOf(ns, name);
      const job = this.store.get('batch/v1', 'Job', ns, name);
      if (!job || rec(job.spec).suspend === true) return;
      if (pods.length === 0) pods = [this.startJob(ns, name)];
      for (let pod: KubeObject | undefined = pods[0]; pod; ) {
        const outcome = await decide(pod, this.store.get('batch/v1', 'Job', ns, name) ?? job);
        if (!outcome || !this.store.get('v1', 'Pod', ns, pod.metadata.name!)) return;
        pod = this.completePod(ns, pod.metadata.name!, outcome).retryPod;
      }
    } catch (err) {
      this.autoRunErrors.push(err);
    }
  }

  // ------------------------------------------------------------------ helpers

  private mustPod(namespace: string, podName: string): KubeObject {
    const pod = this.store.get('v1', 'Pod', namespace, podName);
    if (!pod) throw new Error(`fake-kube workloads: Pod ${namespace}/${podName} not found`);
    return pod;
  }

  private base(c: Container): Record<string, unknown> {
    return { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false };
  }

  private terminated(c: Container, exitCode: number, reason: string, message?: string): Record<string, unknown> {
    const t = timestamp(this.now());
    return {
      ...this.base(c),
      imageID: `${c.image ?? ''}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${randomBytes(32).toString('hex')}`,
      state: { terminated: { exitCode, reason, ...(message !== undefined ? { message } : {}), startedAt: t, finishedAt: t, containerID: `containerd://${randomBytes(32).toString('hex')}` } },
    };
  }

  private conditions(s: { scheduled: boolean; initialized: boolean; ready: boolean; reason?: string }): Record<string, unknown>[] {
    const t = timestamp(this.now());
    const c = (type: string, ok: boolean, reason?: string): Record<string, unknown> => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: t, ...(reason && !ok ? { reason } : {}) });
    return [
      c('PodReadyToStartContainers', true),
      c('Initialized', s.initialized, s.reason),
      c('Ready', s.ready, s.reason),
      c('ContainersReady', s.ready, s.reason),
      c('PodScheduled', s.scheduled),
    ];
  }

  /** Writes the final status and removes the Job controller's tracking finalizer. */
  private finishPod(namespace: string, podName: string, status: Record<string, unknown>): KubeObject {
    this.store.putStatus('v1', 'Pod', namespace, podName, status);
    const pod = this.mustPod(namespace, podName);
    const finalizers = ((pod.metadata.finalizers as string[] | undefined) ?? []).filter((f) => f !== 'batch.kubernetes.io/job-tracking');
    const next = clone(pod);
    if (finalizers.length > 0) next.metadata.finalizers = finalizers;
    else delete next.metadata.finalizers;
    return this.store.put(next);
  }

  private blockPod(namespace: string, podName: string, container: string | undefined, reason: string, message: string, running: Record<string, unknown>): KubeObject {
    const pod = this.mustPod(namespace, podName);
    const { init, main } = containersOf(pod);
    const initIdx = init.findIndex((c) => c.name === container);
    if (container && initIdx >= 0) {
      // An init container stuck: the ones before it completed, the rest (and every main container) wait.
      return this.store.putStatus('v1', 'Pod', namespace, podName, {
        phase: 'Pending',
        conditions: this.conditions({ scheduled: true, initialized: false, ready: false, reason: 'ContainersNotInitialized' }),
        ...running,
        initContainerStatuses: init.map((c, i) => (i < initIdx ? this.terminated(c, 0, 'Completed') : { ...this.base(c), state: { waiting: i === initIdx ? { reason, message } : { reason: 'PodInitializing' } } })),
        containerStatuses: main.map((c) => ({ ...this.base(c), state: { waiting: { reason: 'PodInitializing' } } })),
      });
    }
    if (!container || !main.some((c) => c.name === container)) throw new Error(`fake-kube workloads: pod ${podName} has no container ${container ?? '(none)'}`);
    return this.store.putStatus('v1', 'Pod', namespace, podName, {
      phase: 'Pending',
      conditions: this.conditions({ scheduled: true, initialized: true, ready: false, reason: 'ContainersNotReady' }),
      ...running,
      ...(init.length ? { initContainerStatuses: init.map((c) => this.terminated(c, 0, 'Completed')) } : {}),
      containerStatuses: main.map((c) => ({ ...this.base(c), state: c.name === container ? { waiting: { reason, message } } : { running: { startedAt: running.startTime } } })),
    });
  }

  /** Job controller bookkeeping after one of its pods ended. */
  private jobPodEnded(namespace: string, jobName: string, succeeded: boolean): KubeObject {
    const job = this.store.get('batch/v1', 'Job', namespace, jobName)!;
    const status = rec(job.status);
    const spec = rec(job.spec);
    const t = timestamp(this.now());
    const next: Record<string, unknown> = { ...status, active: Math.max(0, ((status.active as number | undefined) ?? 1) - 1), ready: 0 };
    if (succeeded) {
      next.succeeded = ((status.succeeded as number | undefined) ?? 0) + 1;
      if ((next.succeeded as number) >= ((spec.completions as number | undefined) ?? 1)) {
        next.completionTime = t;
        next.conditions = [
          { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: t, lastTransitionTime: t },
          { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: t, lastTransitionTime: t },
        ];
      }
      this.store.putStatus('batch/v1', 'Job', namespace, jobName, next);
      this.cronJobJobEnded(namespace, job, next.completionTime !== undefined ? t : undefined);
      return this.store.get('batch/v1', 'Job', namespace, jobName)!;
    }
    next.failed = ((status.failed as number | undefined) ?? 0) + 1;
    this.store.putStatus('batch/v1', 'Job', namespace, jobName, next);
    if ((next.failed as number) > ((spec.backoffLimit as number | undefined) ?? 6)) {
      return this.failJob(namespace, jobName, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    return this.store.get('batch/v1', 'Job', namespace, jobName)!;
  }

  /** Fails a Job (FailureTarget then Failed conditions), deleting its still-active pods. */
  failJob(namespace: string, jobName: string, reason: string, message: string): KubeObject {
    const job = this.store.get('batch/v1', 'Job', namespace, jobName);
    if (!job) throw new Error(`fake-kube workloads: Job ${namespace}/${jobName} not found`);
    let deleted = 0;
    for (const pod of this.podsOf(namespace, jobName)) {
      const phase = rec(pod.status).phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const next = clone(pod);
      delete next.metadata.finalizers;
      this.store.put(next);
      this.store.delete('v1', 'Pod', namespace, pod.metadata.name!);
      deleted++;
    }
    const status = rec(job.status);
    const t = timestamp(this.now());
    this.store.putStatus('batch/v1', 'Job', namespace, jobName, {
      ...status,
      active: 0,
      ready: 0,
      ...(deleted > 0 ? { failed: ((status.failed as number | undefined) ?? 0) + deleted } : {}),
      conditions: [
        { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t },
        { type: 'Failed', status: 'True', reason, message, lastProbeTime: t, lastTransitionTime: t },
      ],
    });
    this.event(job, 'Warning', reason, message);
    this.cronJobJobEnded(namespace, job, undefined);
    return this.store.get('batch/v1', 'Job', namespace, jobName)!;
  }

  /** CronJob controller bookkeeping: the Job leaves status.active; success sets lastSuccessfulTime. */
  private cronJobJobEnded(namespace: string, job: KubeObject, successfulAt: string | undefined): void {
    const owner = (job.metadata.ownerReferences as { kind?: string; name?: string }[] | undefined)?.find((r) => r.kind === 'CronJob');
    if (!owner?.name) return;
    const cj = this.store.get('batch/v1', 'CronJob', namespace, owner.name);
    if (!cj) return;
    const status = rec(cj.status);
    const active = ((status.active as { uid?: string }[] | undefined) ?? []).filter((r) => r.uid !== job.metadata.uid);
    const next: Record<string, unknown> = { ...status };
    if (active.length > 0) next.active = active;
    else delete next.active;
    if (successfulAt) next.lastSuccessfulTime = successfulAt;
    this.store.putStatus('batch/v1', 'CronJob', namespace, owner.name, next);
  }

  private event(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const t = timestamp(this.now());
    this.store.put({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${about.metadata.name!}.${randomBytes(8).toString('hex')}`, namespace: about.metadata.namespace! },
      involvedObject: { apiVersion: about.apiVersion, kind: about.kind, name: about.metadata.name, namespace: about.metadata.namespace, uid: about.metadata.uid },
      reason,
      message,
      type,
      source: { component: about.kind === 'Pod' ? (reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet') : 'job-controller' },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      reportingComponent: '',
      reportingInstance: '',
    });
  }
}

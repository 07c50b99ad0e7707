/**
 * Kubernetes mode: HealthDefinitions in the cluster become CronJobs (and their RBAC and
 * input), and the Jobs those CronJobs run become HealthRecords in the state store.
 *
 * Level-triggered: every event only queues a key; reconciling a definition computes its
 * desired objects (resources/desiredObjects) and compares them with what the informers see
 * (applied-hash annotation), then creates, replaces or deletes. Every `resyncSeconds` all
 * definitions are queued again. One bad definition gets `Ready=False` in its status and
 * never blocks the others.
 *
 * Results: Jobs, their pods and the HealthStates their adapters write are watched; a
 * finished run is interpreted (resources/interpretRun), its record put in the outbox, the
 * Job annotated `health.vigil.dev/collected` and the HealthState deleted. The annotation
 * makes collection exactly-once per (definition, scheduled time) across restarts.
 *
 * With leader election, every replica keeps warm caches; only the leader writes.
 */
import type { Logger } from 'pino';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Clock, StateStore } from '../../core/interfaces.js';
import { systemClock } from '../../core/interfaces.js';
import { API_VERSION, type HealthDefinition, type HealthRecord, type HealthState } from '../../core/model.js';
import { formatIssue, ValidationError } from '../../core/issues.js';
import type { DefinitionValidator } from '../../core/definition.js';
import { buildHealthRecord, recordRef, ANNOTATION_DEFINITION, LABEL_DESTINATION } from '../../core/record.js';
import type { ReasonCode } from '../../core/reasons.js';
import { parseSchedule } from '../../core/schedule/index.js';
import { expectsReport } from '../../reporting/protocol.js';
import { RecordDelivery } from '../../records/RecordDelivery.js';
import type { Outbox } from '../../records/Outbox.js';
import { getRecordValidator } from '../../crds.js';
import type { StatusProvider } from '../../server/server.js';
import {
  ANNOTATIONS,
  HEALTH_STATE,
  LABELS,
  MANAGED_BY,
  definitionHash,
  desiredObjects,
  interpretRun,
  type DesiredOptions,
} from '../resources/index.js';
import type { HealthStateObject } from '../transport/health-state.js';
import { kubeError, type Kube, type KubeObject } from '../client.js';
import { ResilientInformer, objectKey } from '../watch/ResilientInformer.js';
import { LeaderElector } from '../leader/LeaderElector.js';
import { WorkQueue } from './WorkQueue.js';
import { OwnedIndex } from './OwnedIndex.js';
import { COLLECTED_ANNOTATION, RUN_NOW_ANNOTATION, createJobFromCronJob, planObjects, runNowJobName, withHash } from './apply.js';
import { buildStatus, sameStatus, type DefinitionStatus, type StatusFacts } from './status.js';

export const HEALTH_DEFINITION = { apiVersion: API_VERSION, kind: 'HealthDefinition', plural: 'healthdefinitions' } as const;

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

export interface ControllerOptions {
  kube: Kube;
  logger: Logger;
  store: StateStore;
  outbox?: Outbox;
  validator: DefinitionValidator;
  destination: string;
  /** Namespaces of definitions (and their objects); undefined or empty: cluster-wide. */
  namespaces?: readonly string[];
  desired: DesiredOptions;
  /** Periodic full re-list and re-reconcile. Default 600. */
  resyncSeconds?: number;
  /** Watch stall watchdog. Default 120. */
  stallSeconds?: number;
  /** Backoff of informers after errors (tests lower it). */
  informerBackoffMs?: { initial: number; max: number };
  /** Without it, this replica always leads. */
  leaderElection?: LeaderElectionOptions;
  /** Parallel reconciles. Default 4. */
  concurrency?: number;
  /** First retry delay of a failed reconcile. Default 1000 ms. */
  retryMs?: number;
  /** Runs kept per definition in the status API. Default 10. */
  historySize?: number;
  /** How long a finished Job without a visible pod or report waits for them before it is recorded as is. Default 10. */
  resultGraceSeconds?: number;
  /** A check pod unschedulable this long ends its run as Unschedulable (default 300). */
  unschedulableAfterSeconds?: number;
  /** An image pull or container configuration error lasting this long ends the run (default 120). */
  startErrorAfterSeconds?: number;
  /** A scheduled run not started this long after its time is reported missed (default: startingDeadline + 60 s). */
  missedAfterSeconds?: number;
  clock?: Clock;
}

/** One finished run, for the status API. */
export interface KubeRunSummary {
  jobName: string;
  scheduledAt: number;
  startedAt: number;
  finishedAt: number;
  state: HealthState;
  reason?: ReasonCode;
  message?: string;
  source: string;
}

interface Entry {
  key: string;
  raw: KubeObject;
  definition?: HealthDefinition;
  invalid?: string[];
  applyError?: string;
  cronJobName?: string;
  history: KubeRunSummary[];
  running?: { jobName: string; scheduledAt: number; waiting?: string };
  missed?: { scheduledAt: number; message: string };
  record?: HealthRecord;
  /** Scheduled time (epoch ms) of the newest run whose record was written. */
  lastWrittenScheduledAt?: number;
  runNowHandled?: string;
}

/** Owned kinds the controller compares with desired objects. */
interface OwnedKind {
  apiVersion: string;
  kind: string;
  plural: string;
  clusterWide: boolean;
}

const OWNED: OwnedKind[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', clusterWide: false },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', clusterWide: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', clusterWide: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', clusterWide: true },
  { apiVersion: 'batch/v1', kind: 'CronJob', plural: 'cronjobs', clusterWide: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', clusterWide: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', clusterWide: true },
];

const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

export class KubernetesController implements StatusProvider {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  /** uid of definitions seen, by key, so a deleted definition's cluster-scoped objects can be found. */
  private readonly uids = new Map<string, string>();
  private readonly defInformer: ResilientInformer;
  private readonly owned = new Map<string, ResilientInformer>();
  /** The owned informers' objects by definition (uid, or namespace and hash). */
  private readonly ownedIndex = new OwnedIndex();
  private readonly jobs: ResilientInformer;
  private readonly pods: ResilientInformer;
  private readonly healthStates: ResilientInformer;
  private readonly queue: WorkQueue;
  private readonly results: WorkQueue;
  private readonly delivery: RecordDelivery;
  private readonly elector: LeaderElector | undefined;
  private leading: boolean;
  private ready = false;
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly recheck = new Map<string, NodeJS.Timeout>();
  /** (definition, scheduled time) collected by this process, for runs whose annotation write failed. */
  private readonly collected = new Set<string>();
  private readonly startedAt: number;
  private readonly counters = { reconciles: 0, creates: 0, updates: 0, deletes: 0, statusWrites: 0, runsCollected: 0, runNow: 0, byState: {} as Record<string, number> };

  constructor(private readonly options: ControllerOptions) {
    this.log = options.logger.child({ component: 'kubernetes-controller' });
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    const namespaces = options.namespaces && options.namespaces.length > 0 ? options.namespaces : undefined;
    const informer = (apiVersion: string, kind: string, plural: string, clusterWide: boolean, labelSelector?: string): ResilientInformer =>
      new ResilientInformer({
        kube: options.kube,
        apiVersion,
        kind,
        plural,
        ...(clusterWide || !namespaces ? {} : { namespaces }),
        ...(labelSelector ? { labelSelector } : {}),
        logger: this.log,
        resyncSeconds: options.resyncSeconds ?? 600,
        stallSeconds: options.stallSeconds ?? 120,
        ...(options.informerBackoffMs ? { initialBackoffMs: options.informerBackoffMs.initial, maxBackoffMs: options.informerBackoffMs.max } : {}),
      });
    this.defInformer = informer(HEALTH_DEFINITION.apiVersion, HEALTH_DEFINITION.kind, HEALTH_DEFINITION.plural, false);
    for (const k of OWNED) this.owned.set(k.kind, informer(k.apiVersion, k.kind, k.plural, k.clusterWide, MANAGED_SELECTOR));
    this.jobs = informer('batch/v1', 'Job', 'jobs', false, MANAGED_SELECTOR);
    this.pods = informer('v1', 'Pod', 'pods', false, MANAGED_SELECTOR);
    this.healthStates = informer(HEALTH_STATE.apiVersion, HEALTH_STATE.kind, HEALTH_STATE.plural, false, MANAGED_SELECTOR);
    this.queue = new WorkQueue({ process: (key) => this.reconcile(key), concurrency: options.concurrency ?? 4, retryMs: options.retryMs ?? 1000, logger: this.log });
    this.results = new WorkQueue({ process: (key) => this.collect(key), concurrency: 2, retryMs: options.retryMs ?? 1000, logger: this.log });
    this.delivery = new RecordDelivery({ store: options.store, logger: this.log, ...(options.outbox ? { outbox: options.outbox } : {}) });
    this.leading = options.leaderElection === undefined;
    if (options.leaderElection) {
      const le = options.leaderElection;
      this.elector = new LeaderElector({
        kube: options.kube,
        namespace: le.namespace,
        name: le.name,
        ...(le.identity ? { identity: le.identity } : {}),
        ...(le.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: le.leaseDurationSeconds } : {}),
        ...(le.renewDeadlineSeconds !== undefined ? { renewDeadlineSeconds: le.renewDeadlineSeconds } : {}),
        ...(le.retryPeriodSeconds !== undefined ? { retryPeriodSeconds: le.retryPeriodSeconds } : {}),
        logger: this.log,
        onStartedLeading: () => { this.startLeading(); },
        onStoppedLeading: () => { this.leading = false; },
      });
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts the informers; resolves when every cache is synced (the controller is ready). */
  async start(): Promise<void> {
    this.delivery.resume();
    this.defInformer.subscribe((e) => {
      if (e.type === 'synced') return;
      this.queue.add(objectKey(e.object));
    });
    for (const [kind, inf] of this.owned) {
      inf.subscribe((e) => {
        if (e.type === 'synced') return;
        const key = objectKey(e.object);
        if (e.type === 'update') this.ownedIndex.remove(kind, key, e.old);
        if (e.type === 'delete') this.ownedIndex.remove(kind, key, e.object);
        else this.ownedIndex.add(kind, key, e.object);
        const owner = e.object.metadata.annotations?.[ANNOTATIONS.definition];
        if (owner && this.ready) this.queue.add(owner);
      });
    }
    const queueRun = (namespace: string | undefined, jobName: string | undefined): void => {
      if (namespace && jobName) this.results.add(`${namespace}/${jobName}`);
    };
    this.jobs.subscribe((e) => { if (e.type !== 'synced') queueRun(e.object.metadata.namespace, e.object.metadata.name); });
    this.pods.subscribe((e) => {
      if (e.type === 'synced') return;
      const labels = e.object.metadata.labels ?? {};
      queueRun(e.object.metadata.namespace, labels['batch.kubernetes.io/job-name'] ?? labels['job-name']);
    });
    // A HealthState is named after its Job.
    this.healthStates.subscribe((e) => { if (e.type !== 'synced') queueRun(e.object.metadata.namespace, e.object.metadata.name); });
    await Promise.all([this.defInformer.start(), ...[...this.owned.values()].map((i) => i.start()), this.jobs.start(), this.pods.start(), this.healthStates.start()]);
    if (this.stopped) return;
    this.ready = true;
    this.log.info({ definitions: this.defInformer.size, jobs: this.jobs.size, leaderElection: this.elector !== undefined }, 'caches synced');
    if (this.elector) this.elector.start();
    else this.startLeading();
    const resyncMs = (this.options.resyncSeconds ?? 600) * 1000;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => { this.requeueAll(); }, resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    clearInterval(this.resyncTimer);
    for (const t of this.recheck.values()) clearTimeout(t);
    await this.elector?.stop();
    await Promise.all([this.queue.stop(), this.results.stop()]);
    await Promise.all([this.defInformer.stop(), ...[...this.owned.values()].map((i) => i.stop()), this.jobs.stop(), this.pods.stop(), this.healthStates.stop()]);
    await this.delivery.flush(5_000);
    this.delivery.close();
    await this.options.store.close();
  }

  /** Resolves when nothing is queued or being processed (tests, benchmarks). */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.results.idle();
  }

  /** Delivery of records to the store, for tests and shutdown. */
  async flushRecords(timeoutMs: number): Promise<boolean> {
    return await this.delivery.flush(timeoutMs);
  }

  private startLeading(): void {
    this.leading = true;
    this.log.info('leading: reconciling every definition and collecting results');
    void this.collectOrphanRecords();
    this.requeueAll();
  }

  private requeueAll(): void {
    if (!this.leading || this.stopped) return;
    for (const d of this.defInformer.list()) this.queue.add(objectKey(d));
    for (const key of this.entries.keys()) if (!this.defInformer.get(key)) this.queue.add(key);
    for (const j of this.jobs.list()) this.results.add(objectKey(j));
    for (const h of this.healthStates.list()) this.results.add(objectKey(h));
  }

  // ------------------------------------------------------------------ reconcile

  private async reconcile(key: string): Promise<void> {
    // Not before every cache has synced: a definition listed before the objects it owns would
    // look as if it had none (409s and replaced objects on every restart). start() queues every
    // definition once the caches are ready.
    if (!this.leading || this.stopped || !this.ready) return;
    this.counters.reconciles++;
    const raw = this.defInformer.get(key);
    if (!raw) {
      await this.cleanup(key);
      return;
    }
    if (raw.metadata.uid) this.uids.set(key, raw.metadata.uid);
    const entry = this.entryFor(key, raw);
    const check = this.options.validator.check(raw);
    const log = this.log.child({ definition: key });
    let facts: StatusFacts;
    if (!check.definition) {
      const errors = check.issues.filter((i) => i.severity === 'error').map((i) => formatIssue(key, i));
      this.rejectInvalid(entry, errors, log);
      facts = this.facts(entry);
    } else {
      const def = { ...check.definition, metadata: { ...check.definition.metadata, ...pickMeta(raw) } } as HealthDefinition;
      let desired;
      try {
        const khRunDeadline = expectsReport(def.metadata.annotations) ? this.nextKhDeadline(entry, def) : undefined;
        desired = desiredObjects(def, khRunDeadline !== undefined ? { ...this.options.desired, khRunDeadline } : this.options.desired);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        const errors = err.issues.filter((i) => i.severity === 'error').map((i) => formatIssue(key, i));
        this.rejectInvalid(entry, errors, log);
        await this.writeStatus(entry, this.facts(entry));
        return;
      }
      if (entry.invalid) log.info('definition is valid again');
      entry.invalid = undefined;
      entry.definition = def;
      entry.cronJobName = desired.cronJob.metadata?.name;
      const want = [...desired.namespaced, ...desired.otherNamespaces, ...desired.clusterScoped].map((o) => withHash(o));
      try {
        await this.applyObjects(def, want, log);
        entry.applyError = undefined;
      } catch (err) {
        entry.applyError = kubeError(err).message;
        await this.writeStatus(entry, this.facts(entry));
        throw err;
      }
      await this.handleRunNow(entry, raw, log);
      this.checkMissed(entry, log);
      facts = this.facts(entry);
    }
    await this.writeStatus(entry, facts);
  }

  /**
   * KH_CHECK_RUN_DEADLINE of the next run of a Kuberhealthy-style definition: its scheduled time
   * (the first after the newest run seen, or the CronJob's last schedule time, and at most 10 s
   * in the past: the CronJob controller creates a Job a moment after its time) plus the timeout.
   * Kept in the CronJob's pod template and moved on after each run (ADR 0013).
   */
  private nextKhDeadline(entry: Entry, def: HealthDefinition): number | undefined {
    const cj = entry.cronJobName ? this.owned.get('CronJob')!.get(`${def.metadata.namespace}/${entry.cronJobName}`) : undefined;
    const lastSchedule = Date.parse(((cj?.status ?? {}) as { lastScheduleTime?: string }).lastScheduleTime ?? '');
    const newest = Math.max(entry.running?.scheduledAt ?? 0, entry.history[0]?.scheduledAt ?? 0, entry.lastWrittenScheduledAt ?? 0, Number.isNaN(lastSchedule) ? 0 : lastSchedule);
    const after = Math.max(newest, this.clock.now() - 10_000);
    try {
      const next = parseSchedule(def.spec.schedule, def.spec.timeZone ?? this.options.desired.defaultTimeZone).next(after);
      return next === undefined ? undefined : next + (def.spec.timeoutSeconds ?? this.options.desired.defaultTimeoutSeconds) * 1000;
    } catch {
      return undefined;
    }
  }

  private rejectInvalid(entry: Entry, errors: string[], log: Logger): void {
    const changed = JSON.stringify(entry.invalid) !== JSON.stringify(errors);
    entry.invalid = errors;
    entry.definition = undefined;
    if (changed) log.error({ problems: errors }, 'definition rejected; its objects are left as they were and the others keep running');
  }

  private entryFor(key: string, raw: KubeObject): Entry {
    let entry = this.entries.get(key);
    if (!entry || (entry.raw.metadata.uid && raw.metadata.uid && entry.raw.metadata.uid !== raw.metadata.uid)) {
      const status = (raw.status ?? {}) as Partial<DefinitionStatus>;
      entry = {
        key,
        raw,
        history: [],
        ...(typeof status.lastScheduleTime === 'string' && !Number.isNaN(Date.parse(status.lastScheduleTime)) ? { lastWrittenScheduledAt: Date.parse(status.lastScheduleTime) } : {}),
        ...(typeof status.runNowHandled === 'string' ? { runNowHandled: status.runNowHandled } : {}),
      };
      this.entries.set(key, entry);
    }
    entry.raw = raw;
    return entry;
  }

  /** The objects of a definition that exist now, from the informers' caches. */
  private existingObjects(def: HealthDefinition): KubeObject[] {
    return this.ownedObjects(def.metadata.uid, def.metadata.namespace, definitionHash(def)).map(({ kind, object }) => ({ ...object, apiVersion: kind.apiVersion, kind: kind.kind }));
  }

  /** A definition's cached objects (through the index, not a scan of every cache), in OWNED order. */
  private ownedObjects(uid: string | undefined, namespace: string, hash: string): { kind: OwnedKind; object: KubeObject }[] {
    const out: { kind: OwnedKind; object: KubeObject; order: number }[] = [];
    for (const ref of this.ownedIndex.find(uid, namespace, hash)) {
      const order = OWNED.findIndex((k) => k.kind === ref.kind);
      const object = this.owned.get(ref.kind)?.get(ref.key);
      if (order >= 0 && object) out.push({ kind: OWNED[order]!, object, order });
    }
    return out.sort((a, b) => a.order - b.order);
  }

  private async applyObjects(def: HealthDefinition, desired: KubeObject[], log: Logger): Promise<void> {
    const plan = planObjects(desired, this.existingObjects(def));
    const kube = this.options.kube;
    // RBAC before the CronJob that uses it; deletions last.
    for (const o of plan.create) {
      try {
        await kube.create(o);
        this.counters.creates++;
        log.info({ object: `${o.kind ?? ''} ${o.metadata.name}` }, 'created');
      } catch (err) {
        if (kubeError(err).code !== 409) throw err;
        // Created meanwhile (or the cache is behind): replace it with what is desired.
        const current = await kube.get(o.apiVersion!, o.kind!, o.metadata.namespace, o.metadata.name);
        if (current) await this.replace(o, current, log);
      }
    }
    for (const { desired: d, existing } of plan.update) await this.replace(d, existing, log);
    for (const o of plan.delete) {
      await kube.delete(o.apiVersion!, o.kind!, o.metadata.namespace, o.metadata.name);
      this.counters.deletes++;
      log.info({ object: `${o.kind ?? ''} ${o.metadata.name}` }, 'deleted (no longer desired)');
    }
  }

  private async replace(desired: KubeObject, existing: KubeObject, log: Logger): Promise<void> {
    const kube = this.options.kube;
    const next: KubeObject = { ...desired, metadata: { ...desired.metadata, ...(existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}) } };
    try {
      await kube.replace(next);
      this.counters.updates++;
      log.info({ object: `${desired.kind ?? ''} ${desired.metadata.name}` }, 'updated in place');
    } catch (err) {
      const code = kubeError(err).code;
      if (code !== 422) throw err;
      // An immutable field changed (e.g. a RoleBinding's roleRef): delete and create.
      await kube.delete(desired.apiVersion!, desired.kind!, desired.metadata.namespace, desired.metadata.name);
      await kube.create(desired);
      this.counters.updates++;
      log.info({ object: `${desired.kind ?? ''} ${desired.metadata.name}` }, 'recreated (immutable field changed)');
    }
  }

  /** A definition is gone: its cluster-scoped and other-namespace objects, its HealthStates and its record go too. */
  private async cleanup(key: string): Promise<void> {
    const entry = this.entries.get(key);
    const uid = this.uids.get(key) ?? entry?.raw.metadata.uid;
    const log = this.log.child({ definition: key });
    const kube = this.options.kube;
    const [namespace, name] = splitKey(key);
    const hash = definitionHash({ metadata: { namespace, name } });
    for (const { kind: k, object: o } of this.ownedObjects(uid, namespace, hash)) {
      // Namespaced objects are garbage-collected through their owner reference; delete anyway (idempotent).
      await kube.delete(k.apiVersion, k.kind, o.metadata.namespace, o.metadata.name);
      this.counters.deletes++;
    }
    for (const hs of this.healthStates.list()) {
      if (uid !== undefined && hs.metadata.labels?.['health.vigil.dev/definition-uid'] === uid) await kube.delete(HEALTH_STATE.apiVersion, HEALTH_STATE.kind, hs.metadata.namespace, hs.metadata.name);
    }
    const ref = { namespace, name: recordRef({ metadata: { namespace, name } } as HealthDefinition, this.options.destination).name };
    this.delivery.delete(ref);
    this.entries.delete(key);
    this.uids.delete(key);
    this.queue.forget(key);
    log.info({ record: `${ref.namespace}/${ref.name}` }, 'definition deleted: its objects and its record are removed');
  }

  /** Records of this destination whose definition no longer exists (deleted while no agent led). */
  private async collectOrphanRecords(): Promise<void> {
    let stored: HealthRecord[];
    try {
      stored = await this.options.store.list();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot list the state store to find orphaned records; continuing');
      return;
    }
    const scope = this.options.namespaces && this.options.namespaces.length > 0 ? new Set(this.options.namespaces) : undefined;
    for (const r of stored) {
      if (r.metadata.labels?.[LABEL_DESTINATION] !== this.options.destination) continue;
      const owner = r.metadata.annotations?.[ANNOTATION_DEFINITION];
      if (!owner || this.defInformer.get(owner)) continue;
      if (scope && !scope.has(r.metadata.namespace)) continue;
      this.log.info({ record: `${r.metadata.namespace}/${r.metadata.name}`, definition: owner }, 'deleting the record of a definition that no longer exists');
      this.delivery.delete({ namespace: r.metadata.namespace, name: r.metadata.name });
    }
  }

  // ------------------------------------------------------------------ run now, missed runs

  private async handleRunNow(entry: Entry, raw: KubeObject, log: Logger): Promise<void> {
    const request = raw.metadata.annotations?.[RUN_NOW_ANNOTATION];
    if (request === undefined || request === '' || request === entry.runNowHandled || !entry.cronJobName) return;
    const cronJob = this.owned.get('CronJob')!.get(`${raw.metadata.namespace ?? ''}/${entry.cronJobName}`)
      ?? await this.options.kube.get('batch/v1', 'CronJob', raw.metadata.namespace, entry.cronJobName);
    if (!cronJob) throw new Error(`run-now: CronJob ${entry.cronJobName} not found yet`);
    const { job, created } = await createJobFromCronJob(this.options.kube, cronJob, runNowJobName(entry.cronJobName, request));
    entry.runNowHandled = request;
    if (created) this.counters.runNow++;
    log.info({ job: job.metadata.name, request }, created ? 'run now: Job created from the CronJob' : 'run now: Job already exists');
  }

  /** A CronJob whose last scheduled time is older than its previous fire time (plus slack) missed a run. */
  private checkMissed(entry: Entry, log: Logger): void {
    const def = entry.definition;
    if (!def || def.spec.suspend || !entry.cronJobName) {
      entry.missed = undefined;
      return;
    }
    const cj = this.owned.get('CronJob')!.get(`${def.metadata.namespace}/${entry.cronJobName}`);
    if (!cj) return;
    const status = (cj.status ?? {}) as { lastScheduleTime?: string };
    const since = Date.parse(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
    if (Number.isNaN(since)) return;
    const slackMs = (this.options.missedAfterSeconds ?? (this.options.desired.startingDeadlineSeconds ?? 300) + 60) * 1000;
    let due: number | undefined;
    try {
      due = parseSchedule(def.spec.schedule, def.spec.timeZone ?? this.options.desired.defaultTimeZone).next(since);
    } catch {
      return;
    }
    const now = this.clock.now();
    if (due !== undefined && due + slackMs < now && !(entry.running && entry.running.scheduledAt >= due)) {
      const message = `no Job started for the run scheduled at ${new Date(due).toISOString()} (CronJob ${entry.cronJobName} last scheduled ${status.lastScheduleTime ?? 'never'})`;
      if (entry.missed?.scheduledAt !== due) log.warn({ scheduledAt: new Date(due).toISOString(), cronJob: entry.cronJobName }, 'a scheduled run never started (missed schedule)');
      entry.missed = { scheduledAt: due, message };
    } else {
      entry.missed = undefined;
    }
  }

  // ------------------------------------------------------------------ status

  private facts(entry: Entry): StatusFacts {
    const def = entry.definition;
    const last = entry.history[0];
    let nextRunAt: number | undefined;
    if (def) {
      try {
        nextRunAt = parseSchedule(def.spec.schedule, def.spec.timeZone ?? this.options.desired.defaultTimeZone).next(this.clock.now());
      } catch {
        nextRunAt = undefined;
      }
    }
    return {
      ...(entry.raw.metadata.generation !== undefined ? { generation: entry.raw.metadata.generation } : {}),
      ...(entry.cronJobName && !entry.invalid ? { cronJobName: entry.cronJobName } : {}),
      ...(entry.invalid ? { invalid: entry.invalid } : {}),
      ...(entry.applyError ? { applyError: entry.applyError } : {}),
      ...(def?.spec.suspend ? { suspended: true } : {}),
      ...(last ? { lastRun: { scheduledAt: last.scheduledAt, finishedAt: last.finishedAt, state: last.state, jobName: last.jobName, ...(last.reason ? { reason: last.reason } : {}), ...(last.message ? { message: last.message } : {}) } } : {}),
      ...(entry.missed ? { missed: entry.missed } : {}),
      ...(nextRunAt !== undefined ? { nextRunAt } : {}),
      ...(entry.runNowHandled !== undefined ? { runNowHandled: entry.runNowHandled } : {}),
      ...(entry.running?.waiting ? { waiting: { jobName: entry.running.jobName, message: entry.running.waiting } } : {}),
    };
  }

  private async writeStatus(entry: Entry, facts: StatusFacts): Promise<void> {
    const previous = entry.raw.status as Partial<DefinitionStatus> | undefined;
    const status = buildStatus(facts, previous, this.clock.now());
    // nextRunTime moves with every run: it alone is no reason to write.
    if (previous && sameStatus({ ...previous, nextRunTime: status.nextRunTime }, status)) return;
    const [namespace, name] = splitKey(entry.key);
    try {
      const updated = await this.options.kube.patchStatus<KubeObject>(HEALTH_DEFINITION.apiVersion, HEALTH_DEFINITION.plural, namespace, name, { ...nullMissing(previous, status), ...status });
      entry.raw = { ...entry.raw, status: updated.status };
      this.counters.statusWrites++;
    } catch (err) {
      const e = kubeError(err);
      if (e.code === 404) return; // deleted meanwhile
      throw e;
    }
  }

  // ------------------------------------------------------------------ results

  private async collect(jobKey: string): Promise<void> {
    if (!this.leading || this.stopped || !this.ready) return;
    const raw = this.jobs.get(jobKey);
    const hs = this.healthStates.get(jobKey) as HealthStateObject | undefined;
    const kube = this.options.kube;
    if (!raw) {
      // A HealthState whose Job is gone: its result was collected (or the Job was deleted before it could be).
      if (hs && this.jobs.hasSynced) {
        const age = this.clock.now() - Date.parse((hs as unknown as KubeObject).metadata.creationTimestamp ?? '');
        if (age > 60_000) await kube.delete(HEALTH_STATE.apiVersion, HEALTH_STATE.kind, hs.metadata?.namespace, hs.metadata?.name ?? '');
      }
      return;
    }
    const job = raw as unknown as V1Job;
    if (raw.metadata.annotations?.[COLLECTED_ANNOTATION] !== undefined) {
      if (hs) await kube.delete(HEALTH_STATE.apiVersion, HEALTH_STATE.kind, raw.metadata.namespace, hs.metadata?.name ?? '');
      return;
    }
    const defKey = raw.metadata.annotations?.[ANNOTATIONS.definition];
    const entry = defKey ? this.entries.get(defKey) : undefined;
    const def = entry?.definition;
    if (!entry || !def) {
      if (defKey && !this.defInformer.get(defKey)) this.log.debug({ job: jobKey, definition: defKey }, 'Job of a definition that no longer exists; ignored');
      return;
    }
    const log = this.log.child({ definition: defKey, job: raw.metadata.name });
    const timeoutSeconds = def.spec.timeoutSeconds ?? this.options.desired.defaultTimeoutSeconds;
    const now = this.clock.now();
    const pods = this.pods.list().filter((p) => p.metadata.namespace === raw.metadata.namespace) as unknown as V1Pod[];
    const run = interpretRun(job, pods, now, {
      exitCodeMode: def.spec.exitCodeMode ?? 'Error',
      timeoutSeconds,
      ...(hs ? { healthState: hs } : {}),
      ...(this.options.desired.transport.maxOutputBytes !== undefined ? { maxOutputBytes: this.options.desired.transport.maxOutputBytes } : {}),
      expectReport: expectsReport(def.metadata.annotations),
      ...(this.options.unschedulableAfterSeconds !== undefined ? { unschedulableAfterSeconds: this.options.unschedulableAfterSeconds } : {}),
      ...(this.options.startErrorAfterSeconds !== undefined ? { startErrorAfterSeconds: this.options.startErrorAfterSeconds } : {}),
    });
    if (run.phase === 'running') {
      const changed = entry.running?.jobName !== run.jobName || entry.running.waiting !== run.waiting;
      entry.running = { jobName: run.jobName, scheduledAt: run.scheduledAt, ...(run.waiting ? { waiting: run.waiting } : {}) };
      if (changed && run.waiting) log.warn({ waiting: run.waiting }, 'run is not making progress');
      if (run.waiting) {
        const limit = Math.min(this.options.unschedulableAfterSeconds ?? 300, this.options.startErrorAfterSeconds ?? 120);
        this.recheckLater(jobKey, Math.min(30_000, Math.max(500, limit * 500)));
      }
      if (changed) await this.writeStatus(entry, this.facts(entry));
      return;
    }
    // The Job's watch can be ahead of the pods' and the HealthStates' watches: a Job that looks
    // finished without a report waits a little for its pod and HealthState to show up.
    if (run.source === 'job' && !run.stuck) {
      const graceMs = (this.options.resultGraceSeconds ?? 10) * 1000;
      if (now - run.finishedAt < graceMs) {
        this.recheckLater(jobKey, Math.min(1_000, graceMs));
        return;
      }
    }
    const dedupe = `${defKey}@${run.scheduledAt}@${run.jobName}`;
    for (const w of run.warnings) log.warn(w);
    if (!this.collected.has(dedupe)) {
      this.collected.add(dedupe);
      this.recordRun(entry, def, run, log);
    }
    // Durable marker: never collected again, even after a restart.
    await kube.mergePatch({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: raw.metadata.name, namespace: raw.metadata.namespace, annotations: { [COLLECTED_ANNOTATION]: new Date(run.finishedAt).toISOString() } } });
    if (hs) await kube.delete(HEALTH_STATE.apiVersion, HEALTH_STATE.kind, raw.metadata.namespace, hs.metadata?.name ?? '');
    if (run.stuck) {
      log.warn({ reason: run.result.reason }, 'deleting a Job stuck before its check could run');
      await kube.delete('batch/v1', 'Job', raw.metadata.namespace, raw.metadata.name);
    }
    if (entry.running?.jobName === run.jobName) entry.running = undefined;
    await this.writeStatus(entry, this.facts(entry));
  }

  private recordRun(entry: Entry, def: HealthDefinition, run: Extract<ReturnType<typeof interpretRun>, { phase: 'finished' }>, log: Logger): void {
    const result = run.result;
    const summary: KubeRunSummary = {
      jobName: run.jobName,
      scheduledAt: run.scheduledAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      state: result.state,
      ...(result.reason ? { reason: result.reason } : {}),
      ...(result.message ? { message: result.message } : {}),
      source: run.source,
    };
    this.counters.runsCollected++;
    this.counters.byState[result.state] = (this.counters.byState[result.state] ?? 0) + 1;
    entry.history.unshift(summary);
    entry.history.sort((a, b) => b.scheduledAt - a.scheduledAt);
    entry.history.length = Math.min(entry.history.length, this.options.historySize ?? 10);
    const fields = { state: result.state, scheduledAt: new Date(run.scheduledAt).toISOString(), source: run.source, ...(result.reason ? { reason: result.reason, error: result.message } : {}) };
    if (result.reason) log.warn(fields, 'check failed to produce a result');
    else log.info(fields, 'run finished');
    if (entry.lastWrittenScheduledAt !== undefined && run.scheduledAt < entry.lastWrittenScheduledAt) {
      log.info({ scheduledAt: new Date(run.scheduledAt).toISOString() }, 'a run older than the one recorded finished late; the record keeps the newer result');
      return;
    }
    const record = buildHealthRecord({ definition: def, destination: this.options.destination, state: result.state, details: result.details, finishedAt: run.finishedAt });
    const problems = getRecordValidator().validate(structuredClone(record)).filter((i) => i.severity === 'error');
    if (problems.length > 0) {
      log.error({ problems: problems.map((p) => formatIssue(record.metadata.name, p)) }, 'record does not validate against the HealthRecord CRD; not written');
      return;
    }
    entry.record = record;
    entry.lastWrittenScheduledAt = run.scheduledAt;
    this.delivery.put(record);
  }

  private recheckLater(jobKey: string, ms: number): void {
    if (this.recheck.has(jobKey) || this.stopped) return;
    const timer = setTimeout(() => {
      this.recheck.delete(jobKey);
      this.results.add(jobKey);
    }, ms);
    timer.unref();
    this.recheck.set(jobKey, timer);
  }

  // ------------------------------------------------------------------ StatusProvider

  isReady(): boolean {
    return this.ready;
  }

  summary(): unknown {
    const states: Record<string, number> = {};
    let invalid = 0;
    for (const e of this.entries.values()) {
      if (e.invalid) invalid++;
      const s = e.history[0]?.state ?? (e.invalid ? 'invalid' : 'pending');
      states[s] = (states[s] ?? 0) + 1;
    }
    const informers = Object.fromEntries(
      [['HealthDefinition', this.defInformer] as const, ...[...this.owned.entries()], ['Job', this.jobs] as const, ['Pod', this.pods] as const, [HEALTH_STATE.kind, this.healthStates] as const].map(([k, i]) => [k, { objects: i.size, ...i.stats, ...(i.stats.lastEventAt ? { lastEventAt: iso(i.stats.lastEventAt) } : {}) }]),
    );
    return {
      mode: 'kubernetes',
      ready: this.ready,
      leader: this.leading,
      ...(this.elector ? { identity: this.elector.identity, leaseHolder: this.elector.holder ?? null } : {}),
      destination: this.options.destination,
      startedAt: iso(this.startedAt),
      definitions: this.entries.size,
      invalidDefinitions: invalid,
      states,
      queue: { depth: this.queue.depth, retrying: this.queue.retrying, results: this.results.depth },
      counters: this.counters,
      informers,
      store: {
        kind: this.options.store.kind,
        location: this.options.store.describe(),
        pending: this.delivery.pending,
        oldestPendingSince: iso(this.delivery.oldestPendingSince),
        lastError: this.delivery.lastError ? { message: this.delivery.lastError.message, at: iso(this.delivery.lastError.at) } : null,
      },
    };
  }

  definitions(): unknown[] {
    return [...this.entries.keys()].sort().map((k) => this.describe(k, false));
  }

  definition(namespace: string, name: string): unknown {
    return this.entries.has(`${namespace}/${name}`) ? this.describe(`${namespace}/${name}`, true) : undefined;
  }

  problems(): unknown[] {
    return [...this.entries.values()].filter((e) => e.invalid).map((e) => ({ object: e.key, errors: e.invalid }));
  }

  records(): unknown[] {
    return [...this.entries.values()].flatMap((e) => (e.record ? [e.record] : []));
  }

  private describe(key: string, full: boolean): unknown {
    const e = this.entries.get(key)!;
    const [namespace, name] = splitKey(key);
    const last = e.history[0];
    return {
      namespace,
      name,
      valid: !e.invalid,
      ...(e.invalid ? { errors: e.invalid } : {}),
      ...(e.cronJobName ? { cronJobName: e.cronJobName } : {}),
      ...(e.definition ? { schedule: e.definition.spec.schedule, suspended: e.definition.spec.suspend === true } : {}),
      state: last?.state ?? null,
      lastRun: last ? summaryJson(last) : null,
      running: e.running ? { job: e.running.jobName, scheduledAt: iso(e.running.scheduledAt), ...(e.running.waiting ? { waiting: e.running.waiting } : {}) } : null,
      ...(e.missed ? { missed: { scheduledAt: iso(e.missed.scheduledAt), message: e.missed.message } } : {}),
      ...(e.applyError ? { applyError: e.applyError } : {}),
      ...(full ? { history: e.history.map(summaryJson), status: e.raw.status ?? null, ...(e.record ? { record: e.record } : {}) } : {}),
    };
  }

  /** For tests: the cached objects of one informer kind. */
  cached(kind: string): KubeObject[] {
    if (kind === 'HealthDefinition') return this.defInformer.list();
    if (kind === 'Job') return this.jobs.list();
    if (kind === 'Pod') return this.pods.list();
    if (kind === 'HealthState') return this.healthStates.list();
    return this.owned.get(kind)?.list() ?? [];
  }
}

function summaryJson(s: KubeRunSummary): unknown {
  return { ...s, scheduledAt: iso(s.scheduledAt), startedAt: iso(s.startedAt), finishedAt: iso(s.finishedAt) };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** Identity fields of the live object that validation must not lose. */
function pickMeta(raw: KubeObject): Partial<HealthDefinition['metadata']> {
  const m = raw.metadata;
  return {
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.generation !== undefined ? { generation: m.generation } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

/** Keys of `previous` that `next` no longer has, set to null (a merge patch removes them). */
function nullMissing(previous: Partial<DefinitionStatus> | undefined, next: DefinitionStatus): Record<string, null> {
  const out: Record<string, null> = {};
  for (const k of Object.keys(previous ?? {})) if (!(k in next)) out[k] = null;
  return out;
}

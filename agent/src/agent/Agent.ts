/**
 * The local agent: definitions from a source are scheduled; each fire becomes a run on the
 * runtime (bounded concurrency, no overlapping runs of one definition); each finished run
 * becomes a HealthRecord delivered to the state store. One broken definition, check or
 * store outage never stops the others.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CheckRuntime, Clock, DefinitionSource, SourceEvent, SourceProblem, StateStore } from '../core/interfaces.js';
import { systemClock } from '../core/interfaces.js';
import type { HealthDefinition, HealthRecord } from '../core/model.js';
import { definitionKey } from '../core/model.js';
import type { Issue } from '../core/issues.js';
import { formatIssue } from '../core/issues.js';
import { parseSchedule, type Schedule } from '../core/schedule/index.js';
import { mapOutcome, type RunResult } from '../core/result.js';
import { ANNOTATION_DEFINITION, LABEL_DESTINATION, buildHealthRecord, recordRef } from '../core/record.js';
import { Scheduler, type Fire } from '../scheduler/Scheduler.js';
import { RunQueue } from '../scheduler/RunQueue.js';
import { RecordDelivery } from '../records/RecordDelivery.js';
import type { Outbox } from '../records/Outbox.js';
import { getRecordValidator } from '../crds.js';
import type { CheckStats, CheckView, DefinitionsQuery, QueueStats, RunNowResult, RunObserver, RunStatus, RunTrigger, RunView, StatusProvider, StoreStats } from '../server/provider.js';
import type { RunRegistry } from '../control/runs.js';
import type { SignalControl } from '../control/signals.js';
import type { ReportRegistry } from '../reporting/ReportRegistry.js';
import { expectsReport, khEnv } from '../reporting/protocol.js';

export interface AgentOptions {
  source: DefinitionSource;
  runtime: CheckRuntime;
  store: StateStore;
  logger: Logger;
  destination: string;
  concurrency: number;
  spreadSeconds: number;
  runOnStart: 'missing' | 'always' | 'never';
  defaultTimeZone: string;
  defaultTimeoutSeconds: number;
  clock?: Clock;
  /** Runs kept per definition in the status history. Default 10. */
  historySize?: number;
  /** Durable storage of records not yet delivered; without it they are kept in memory only. */
  outbox?: Outbox;
  /** Remembers runs by id (run-now results, GET /api/v1/runs/:id). */
  runs?: RunRegistry;
  /** Report windows of the Kuberhealthy reporting protocol; with it every container gets the KH_* env. */
  reports?: ReportRegistry;
  /** RUN/PAUSE/STOP: no run starts unless the state is RUN. */
  signals?: SignalControl;
  /** Told of finished runs and removed definitions (metrics). */
  observer?: RunObserver;
}

export type { RunTrigger };

interface Job {
  runId: string;
  trigger: RunTrigger;
  scheduledAt?: number;
}

export type RunSummary = RunView;

interface Entry {
  definition: HealthDefinition;
  origin: string;
  warnings: Issue[];
  schedule: Schedule;
  history: RunSummary[];
  running?: { runId: string; startedAt: number };
  /** The run waiting in the queue, if any. */
  queuedRunId?: string;
  skipped: number;
  record?: HealthRecord;
  stats: CheckStats;
}

export class Agent implements StatusProvider {
  private readonly entries = new Map<string, Entry>();
  private readonly fileProblems = new Map<string, SourceProblem[]>();
  private readonly scheduler: Scheduler;
  private readonly queue: RunQueue<Job>;
  private readonly delivery: RecordDelivery;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly shutdown = new AbortController();
  private readonly existingRecords = new Set<string>();
  private ready = false;
  private agentUrl: string | undefined;
  private readonly startedAt: number;
  private readonly counters = { runs: 0, skipped: 0, paused: 0, byState: {} as Record<string, number> };

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.startedAt = this.clock.now();
    this.scheduler = new Scheduler({
      clock: this.clock,
      logger: this.logger,
      spreadMs: options.spreadSeconds * 1000,
      onFire: (key, fire) => { this.onFire(key, fire); },
    });
    this.queue = new RunQueue<Job>({
      concurrency: options.concurrency,
      logger: this.logger,
      execute: (key, job) => this.execute(key, job),
    });
    this.delivery = new RecordDelivery({ store: options.store, logger: this.logger, ...(options.outbox ? { outbox: options.outbox } : {}) });
    options.signals?.onChange((state, previous, by) => {
      this.logger.info({ signal: state, previous, by }, `run signal ${state}`);
      if (state !== 'RUN') this.dropQueued(`signal ${state}`);
    });
  }

  /** Whether new runs may start (the run signal is RUN, or there is none). */
  private get accepting(): boolean {
    return this.options.signals?.running ?? true;
  }

  /** Submits a run of `key`; a paused agent starts none. */
  private submit(key: string, trigger: RunTrigger, scheduledAt?: number): { result: 'started' | 'queued' | 'skipped' | 'paused'; runId?: string } {
    if (!this.accepting) return { result: 'paused' };
    const runId = randomUUID();
    const result = this.queue.submit(key, { runId, trigger, ...(scheduledAt !== undefined ? { scheduledAt } : {}) });
    if (result === 'skipped') return { result };
    const [namespace, name] = splitKey(key);
    this.options.runs?.submitted(runId, namespace, name, trigger);
    const entry = this.entries.get(key);
    if (entry && result === 'queued') entry.queuedRunId = runId;
    return { result, runId };
  }

  /** Drops every queued run (PAUSE/STOP): in-flight runs finish, nothing new starts. */
  private dropQueued(why: string): void {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.queuedRunId !== undefined && this.queue.cancelQueued(key)) {
        this.options.runs?.cancelled(entry.queuedRunId, why);
        dropped++;
      }
      entry.queuedRunId = undefined;
    }
    if (dropped > 0) this.logger.info({ dropped, why }, 'queued runs dropped');
  }

  /** The URL checks can reach the agent at (VIGIL_AGENT_URL), once the server listens. */
  setAgentUrl(url: string | undefined): void {
    this.agentUrl = url;
  }

  async start(): Promise<void> {
    this.delivery.resume();
    let stored: HealthRecord[] = [];
    try {
      stored = await this.options.store.list();
    } catch (err) {
      this.logger.error({ err: (err as Error).message, store: this.options.store.describe() }, 'cannot list the state store; continuing');
    }
    for (const r of stored) this.existingRecords.add(refString(r.metadata));
    await this.options.source.start((event) => { this.onSourceEvent(event); });
    this.collectOrphans(stored);
    this.scheduler.start();
    this.ready = true;
    this.logger.info({ definitions: this.entries.size, invalidFiles: this.fileProblems.size, store: this.options.store.describe() }, 'agent ready');
  }

  /** Stops scheduling, waits up to graceMs for running checks, then kills what is left. */
  async stop(graceMs: number): Promise<void> {
    this.ready = false;
    this.scheduler.stop();
    await this.options.source.stop();
    const draining = this.queue.drain();
    const timer = setTimeout(() => {
      this.logger.warn({ running: this.queue.active }, 'grace period over; killing running checks');
      this.shutdown.abort();
    }, graceMs);
    const { dropped } = await draining;
    clearTimeout(timer);
    if (dropped > 0) this.logger.info({ dropped }, 'queued runs dropped at shutdown');
    await this.delivery.flush(5_000);
    this.delivery.close();
    await this.options.runtime.close?.();
    await this.options.store.close();
  }

  // ------------------------------------------------------------------ source events

  private onSourceEvent(event: SourceEvent): void {
    switch (event.type) {
      case 'upsert':
        this.upsert(event.definition, event.origin, event.warnings);
        break;
      case 'delete':
        this.remove(event.key);
        break;
      case 'problems':
        if (event.problems.length === 0) {
          if (this.fileProblems.delete(event.origin)) this.logger.info({ file: event.origin }, 'definition file is valid again');
        } else {
          this.fileProblems.set(event.origin, event.problems);
          for (const p of event.problems) {
            for (const i of p.issues) {
              const line = formatIssue(p.object, i);
              if (i.severity === 'error') this.logger.error({ file: event.origin }, line);
              else this.logger.warn({ file: event.origin }, line);
            }
          }
        }
        break;
      case 'synced':
        break;
    }
  }

  private upsert(definition: HealthDefinition, origin: string, warnings: Issue[]): void {
    const key = definitionKey(definition.metadata);
    const schedule = parseSchedule(definition.spec.schedule, definition.spec.timeZone ?? this.options.defaultTimeZone);
    const previous = this.entries.get(key);
    const entry: Entry = previous
      ? { ...previous, definition, origin, warnings, schedule }
      : { definition, origin, warnings, schedule, history: [], skipped: 0, stats: { successCount: 0, failureCount: 0, consecutiveFailures: 0 } };
    this.entries.set(key, entry);
    this.scheduler.upsert(key, schedule, { suspended: definition.spec.suspend === true });
    for (const w of warnings) this.logger.warn({ file: origin }, formatIssue(key, w));
    this.logger.info({ definition: key, schedule: schedule.expression, timeZone: schedule.timeZone, next: iso(this.scheduler.nextFire(key)), file: origin }, previous ? 'definition updated' : 'definition loaded');
    if (previous || definition.spec.suspend === true) return;
    const policy = this.options.runOnStart;
    const hasRecord = this.existingRecords.has(refString(recordRef(definition, this.options.destination)));
    if (policy === 'always' || (policy === 'missing' && !hasRecord)) this.submit(key, 'start');
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.scheduler.remove(key);
    if (this.queue.cancelQueued(key) && entry.queuedRunId !== undefined) this.options.runs?.cancelled(entry.queuedRunId, 'the definition was removed');
    this.options.observer?.definitionRemoved(entry.definition.metadata.namespace, entry.definition.metadata.name);
    const ref = recordRef(entry.definition, this.options.destination);
    this.existingRecords.delete(refString(ref));
    this.delivery.delete(ref);
    this.logger.info({ definition: key, record: refString(ref) }, 'definition removed; deleting its record');
  }

  /** Deletes records of this destination whose definition no longer exists (removed while the agent was down). */
  private collectOrphans(stored: HealthRecord[]): void {
    for (const r of stored) {
      if (r.metadata.labels?.[LABEL_DESTINATION] !== this.options.destination) continue;
      const owner = r.metadata.annotations?.[ANNOTATION_DEFINITION];
      if (owner === undefined || this.entries.has(owner)) continue;
      this.logger.info({ record: refString(r.metadata), definition: owner }, 'deleting the record of a definition that no longer exists');
      this.existingRecords.delete(refString(r.metadata));
      this.delivery.delete({ namespace: r.metadata.namespace, name: r.metadata.name });
    }
  }

  // ------------------------------------------------------------------ runs

  private onFire(key: string, fire: Fire): void {
    const { result } = this.submit(key, 'schedule', fire.scheduledAt);
    if (result === 'paused') {
      this.counters.paused++;
      this.logger.debug({ definition: key, scheduledAt: iso(fire.scheduledAt) }, 'paused; not starting this run');
      return;
    }
    if (result === 'skipped') {
      const entry = this.entries.get(key);
      if (entry) entry.skipped++;
      this.counters.skipped++;
      this.logger.warn({ definition: key, scheduledAt: iso(fire.scheduledAt) }, 'previous run still active; skipping this one (Forbid)');
    }
    if (fire.missed > 0) this.logger.warn({ definition: key, missed: fire.missed, lateMs: fire.lateMs }, 'missed schedules (agent was busy, asleep or down); ran once');
  }

  private async execute(key: string, job: Job): Promise<void> {
    const entry = this.entries.get(key);
    const runId = job.runId;
    if (!entry) {
      this.options.runs?.cancelled(runId, 'the definition was removed');
      return;
    }
    if (entry.queuedRunId === runId) entry.queuedRunId = undefined;
    const definition = entry.definition;
    const log = this.logger.child({ definition: key, run: runId });
    const timeoutSeconds = definition.spec.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    const startedAt = this.clock.now();
    entry.running = { runId, startedAt };
    this.options.runs?.started(runId, startedAt);
    log.debug({ trigger: job.trigger }, 'run started');
    const reports = this.options.reports;
    const env: Record<string, string> = this.agentUrl ? { VIGIL_AGENT_URL: this.agentUrl } : {};
    if (reports && this.agentUrl) {
      const deadline = startedAt + timeoutSeconds * 1000;
      reports.openRun({ runId, namespace: definition.metadata.namespace, name: definition.metadata.name, deadline });
      Object.assign(env, khEnv(this.agentUrl, { runId, namespace: definition.metadata.namespace, deadline }));
    }
    try {
      const outcome = await this.options.runtime.run({
        runId,
        definition,
        ...(job.scheduledAt !== undefined ? { scheduledAt: job.scheduledAt } : {}),
        timeoutMs: timeoutSeconds * 1000,
        env,
        signal: this.shutdown.signal,
        logger: log,
      });
      const report = reports?.closeRun(runId);
      if (outcome.aborted) {
        log.warn('run aborted by shutdown; no record written');
        this.options.runs?.cancelled(runId, 'aborted by the agent\'s shutdown');
        return;
      }
      const result = mapOutcome(outcome, {
        exitCodeMode: definition.spec.exitCodeMode ?? 'Error',
        timeoutSeconds,
        ...(report ? { report } : {}),
        expectReport: expectsReport(definition.metadata.annotations),
      });
      const summary: RunSummary = {
        runId,
        trigger: job.trigger,
        ...(job.scheduledAt !== undefined ? { scheduledAt: job.scheduledAt } : {}),
        startedAt: outcome.startedAt,
        finishedAt: outcome.finishedAt,
        durationMs: outcome.finishedAt - outcome.startedAt,
        state: result.state,
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.message ? { message: result.message } : {}),
        ...(result.source === 'report' && Array.isArray(result.details.errors) ? { errors: result.details.errors as string[] } : {}),
      };
      this.options.runs?.finished(runId, summary.finishedAt, { state: result.state, ...(result.reason ? { reason: result.reason } : {}), ...(result.message ? { message: result.message } : {}), details: result.details });
      this.complete(key, definition, result, summary, log);
    } catch (err) {
      log.error({ err }, 'run failed unexpectedly');
      reports?.closeRun(runId);
      this.options.runs?.cancelled(runId, 'the run failed unexpectedly');
    } finally {
      const current = this.entries.get(key);
      if (current) current.running = undefined;
    }
  }

  private complete(key: string, definition: HealthDefinition, result: RunResult, summary: RunSummary, log: Logger): void {
    const entry = this.entries.get(key);
    this.counters.runs++;
    this.counters.byState[result.state] = (this.counters.byState[result.state] ?? 0) + 1;
    const fields = { state: result.state, durationMs: summary.durationMs, ...(result.reason ? { reason: result.reason, error: result.message } : {}) };
    if (result.reason) log.warn(fields, 'check failed to produce a result');
    else log.info(fields, 'run finished');
    if (!entry) {
      log.info('definition was removed during the run; its result is discarded');
      return;
    }
    entry.history.unshift(summary);
    entry.history.length = Math.min(entry.history.length, this.options.historySize ?? 10);
    const ok = result.state === 'healthy' || result.state === 'ready';
    const st = entry.stats;
    if (ok) {
      st.successCount++;
      st.consecutiveFailures = 0;
      st.lastOKAt = summary.finishedAt;
    } else {
      st.failureCount++;
      st.consecutiveFailures++;
      st.lastFailureAt = summary.finishedAt;
    }
    this.options.observer?.runFinished(definition.metadata.namespace, definition.metadata.name, summary);
    const record = buildHealthRecord({
      definition,
      destination: this.options.destination,
      state: result.state,
      details: result.details,
      finishedAt: summary.finishedAt,
    });
    const problems = getRecordValidator().validate(structuredClone(record)).filter((i) => i.severity === 'error');
    if (problems.length > 0) {
      log.error({ problems: problems.map((p) => formatIssue(record.metadata.name, p)) }, 'record does not validate against the HealthRecord CRD; not written');
      return;
    }
    entry.record = record;
    this.existingRecords.add(refString(record.metadata));
    this.delivery.put(record);
  }

  // ------------------------------------------------------------------ status

  isReady(): boolean {
    return this.ready;
  }

  summary(): unknown {
    const states: Record<string, number> = {};
    for (const e of this.entries.values()) {
      const s = e.history[0]?.state ?? 'pending';
      states[s] = (states[s] ?? 0) + 1;
    }
    return {
      ready: this.ready,
      destination: this.options.destination,
      startedAt: iso(this.startedAt),
      definitions: this.entries.size,
      states,
      invalidFiles: this.fileProblems.size,
      scheduler: { scheduled: this.scheduler.size, queued: this.queue.depth, running: this.queue.active, concurrency: this.queue.concurrency },
      runs: { total: this.counters.runs, skipped: this.counters.skipped, notStartedWhilePaused: this.counters.paused, byState: this.counters.byState },
      ...(this.options.signals ? { signal: { state: this.options.signals.state, since: iso(this.options.signals.changedAt) } } : {}),
      store: {
        kind: this.options.store.kind,
        location: this.options.store.describe(),
        pending: this.delivery.pending,
        oldestPendingSince: iso(this.delivery.oldestPendingSince),
        oldestPendingSeconds: this.delivery.oldestPendingSince === undefined ? null : Math.max(0, Math.floor((Date.now() - this.delivery.oldestPendingSince) / 1000)),
        delivered: this.delivery.deliveredCount,
        failedAttempts: this.delivery.failureCount,
        lastError: this.delivery.lastError ? { message: this.delivery.lastError.message, at: iso(this.delivery.lastError.at) } : null,
      },
    };
  }

  definitions(options: DefinitionsQuery = {}): unknown[] {
    const namespaces = options.namespaces ? new Set(options.namespaces) : undefined;
    const states = options.states ? new Set(options.states) : undefined;
    const keys = [...this.entries.entries()]
      .filter(([, e]) => (namespaces === undefined || namespaces.has(e.definition.metadata.namespace)) && (states === undefined || states.has(e.history[0]?.state ?? 'pending')))
      .map(([k]) => k)
      .sort();
    return keys.map((k) => this.describe(k, false, options.history));
  }

  definition(namespace: string, name: string): unknown {
    return this.entries.has(`${namespace}/${name}`) ? this.describe(`${namespace}/${name}`, true) : undefined;
  }

  problems(): unknown[] {
    return [...this.fileProblems.entries()].map(([origin, problems]) => ({
      file: origin,
      problems: problems.map((p) => ({ object: p.object, errors: p.issues.map((i) => formatIssue(p.object, i)) })),
    }));
  }

  records(): unknown[] {
    return [...this.entries.values()].flatMap((e) => (e.record ? [e.record] : []));
  }

  checks(): CheckView[] {
    return [...this.entries.keys()].map((k) => this.view(k)!);
  }

  check(namespace: string, name: string): CheckView | undefined {
    return this.view(`${namespace}/${name}`);
  }

  queueStats(): QueueStats {
    return { queued: this.queue.depth, running: this.queue.active };
  }

  storeStats(): StoreStats[] {
    const since = this.delivery.oldestPendingSince;
    return [{ kind: this.options.store.kind, pending: this.delivery.pending, ...(since !== undefined ? { oldestPendingSince: since } : {}), errors: this.delivery.failureCount }];
  }

  runNow(namespace: string, name: string): RunNowResult {
    const key = `${namespace}/${name}`;
    const entry = this.entries.get(key);
    if (!entry) return { ok: false, status: 404, error: `definition ${key} not found` };
    if (!this.ready) return { ok: false, status: 503, error: 'the agent is starting or stopping' };
    const signal = this.options.signals?.state;
    if (signal !== undefined && signal !== 'RUN') return { ok: false, status: 409, error: `the run signal is ${signal}: no run starts until it is RUN` };
    const { result, runId } = this.submit(key, 'manual');
    if (result === 'skipped' || runId === undefined) {
      const busy = entry.running?.runId ?? entry.queuedRunId;
      return { ok: false, status: 409, error: `${key} already has a run ${entry.running ? 'in progress' : 'queued'}${busy ? ` (${busy})` : ''}` };
    }
    return { ok: true, runId };
  }

  run(runId: string): RunStatus | undefined {
    return this.options.runs?.get(runId);
  }

  private view(key: string): CheckView | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const next = this.scheduler.nextFire(key);
    return {
      namespace: e.definition.metadata.namespace,
      name: e.definition.metadata.name,
      schedule: e.schedule.expression,
      timeZone: e.schedule.timeZone,
      suspended: e.definition.spec.suspend === true,
      timeoutSeconds: e.definition.spec.timeoutSeconds ?? this.options.defaultTimeoutSeconds,
      ...(intervalOf(e.schedule, this.clock.now()) !== undefined ? { intervalSeconds: intervalOf(e.schedule, this.clock.now())! } : {}),
      ...(next !== undefined ? { nextRun: next } : {}),
      ...(e.running ? { running: { ...e.running } } : {}),
      history: e.history,
      stats: e.stats,
    };
  }

  private describe(key: string, full: boolean, historyLimit?: number): unknown {
    const e = this.entries.get(key)!;
    const last = e.history[0];
    return {
      namespace: e.definition.metadata.namespace,
      name: e.definition.metadata.name,
      state: last?.state ?? null,
      reason: last?.reason ?? null,
      lastRun: iso(last?.finishedAt),
      promise: e.definition.spec.promiseRef.name,
      resource: e.definition.spec.resourceRef ? `${e.definition.spec.resourceRef.namespace}/${e.definition.spec.resourceRef.name}` : null,
      file: e.origin,
      schedule: e.schedule.expression,
      timeZone: e.schedule.timeZone,
      suspended: e.definition.spec.suspend === true,
      nextRun: iso(this.scheduler.nextFire(key)),
      running: e.running ? { runId: e.running.runId, since: iso(e.running.startedAt) } : null,
      queued: e.queuedRunId !== undefined ? { runId: e.queuedRunId } : null,
      lastResult: last ? summaryJson(last) : null,
      skippedRuns: e.skipped,
      stats: { successCount: e.stats.successCount, failureCount: e.stats.failureCount, consecutiveFailures: e.stats.consecutiveFailures },
      record: refString(recordRef(e.definition, this.options.destination)),
      warnings: e.warnings.map((w) => formatIssue(key, w)),
      history: (historyLimit === undefined ? e.history : e.history.slice(0, historyLimit)).map(summaryJson),
      ...(full ? { details: e.record?.data.details ?? null } : {}),
    };
  }
}

function summaryJson(s: RunSummary): unknown {
  return {
    runId: s.runId,
    trigger: s.trigger,
    scheduledAt: iso(s.scheduledAt),
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    durationMs: s.durationMs,
    state: s.state,
    reason: s.reason ?? null,
    message: s.message ?? null,
    ...(s.errors ? { errors: s.errors } : {}),
  };
}

const intervals = new WeakMap<Schedule, number | undefined>();

/** Seconds between two consecutive fires of a schedule (cached per schedule object). */
function intervalOf(schedule: Schedule, now: number): number | undefined {
  if (intervals.has(schedule)) return intervals.get(schedule);
  let value: number | undefined;
  try {
    const a = schedule.next(now);
    const b = a === undefined ? undefined : schedule.next(a);
    value = a !== undefined && b !== undefined ? Math.round((b - a) / 1000) : undefined;
  } catch {
    value = undefined;
  }
  intervals.set(schedule, value);
  return value;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function refString(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

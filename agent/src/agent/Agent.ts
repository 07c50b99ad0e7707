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
import type { HealthDefinition, HealthRecord, HealthState } from '../core/model.js';
import { definitionKey } from '../core/model.js';
import type { Issue } from '../core/issues.js';
import { formatIssue } from '../core/issues.js';
import { parseSchedule, type Schedule } from '../core/schedule/index.js';
import { mapOutcome, type RunResult } from '../core/result.js';
import { ANNOTATION_DEFINITION, LABEL_DESTINATION, buildHealthRecord, recordRef } from '../core/record.js';
import type { ReasonCode } from '../core/reasons.js';
import { Scheduler, type Fire } from '../scheduler/Scheduler.js';
import { RunQueue } from '../scheduler/RunQueue.js';
import { RecordDelivery } from './RecordDelivery.js';
import type { Outbox } from './Outbox.js';
import { getRecordValidator } from '../crds.js';
import type { StatusProvider } from '../server/server.js';

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
}

export type RunTrigger = 'schedule' | 'start' | 'manual';

interface Job {
  trigger: RunTrigger;
  scheduledAt?: number;
}

export interface RunSummary {
  runId: string;
  trigger: RunTrigger;
  scheduledAt?: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  state: HealthState;
  reason?: ReasonCode;
  message?: string;
}

interface Entry {
  definition: HealthDefinition;
  origin: string;
  warnings: Issue[];
  schedule: Schedule;
  history: RunSummary[];
  running?: { runId: string; startedAt: number };
  skipped: number;
  record?: HealthRecord;
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
  private readonly counters = { runs: 0, skipped: 0, byState: {} as Record<string, number> };

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
      : { definition, origin, warnings, schedule, history: [], skipped: 0 };
    this.entries.set(key, entry);
    this.scheduler.upsert(key, schedule, { suspended: definition.spec.suspend === true });
    for (const w of warnings) this.logger.warn({ file: origin }, formatIssue(key, w));
    this.logger.info({ definition: key, schedule: schedule.expression, timeZone: schedule.timeZone, next: iso(this.scheduler.nextFire(key)), file: origin }, previous ? 'definition updated' : 'definition loaded');
    if (previous || definition.spec.suspend === true) return;
    const policy = this.options.runOnStart;
    const hasRecord = this.existingRecords.has(refString(recordRef(definition, this.options.destination)));
    if (policy === 'always' || (policy === 'missing' && !hasRecord)) this.queue.submit(key, { trigger: 'start' });
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.scheduler.remove(key);
    this.queue.cancelQueued(key);
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
    const result = this.queue.submit(key, { trigger: 'schedule', scheduledAt: fire.scheduledAt });
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
    if (!entry) return;
    const definition = entry.definition;
    const runId = randomUUID();
    const log = this.logger.child({ definition: key, run: runId });
    const timeoutSeconds = definition.spec.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    const startedAt = this.clock.now();
    entry.running = { runId, startedAt };
    log.debug({ trigger: job.trigger }, 'run started');
    try {
      const outcome = await this.options.runtime.run({
        runId,
        definition,
        ...(job.scheduledAt !== undefined ? { scheduledAt: job.scheduledAt } : {}),
        timeoutMs: timeoutSeconds * 1000,
        env: this.agentUrl ? { VIGIL_AGENT_URL: this.agentUrl } : {},
        signal: this.shutdown.signal,
        logger: log,
      });
      if (outcome.aborted) {
        log.warn('run aborted by shutdown; no record written');
        return;
      }
      const result = mapOutcome(outcome, { exitCodeMode: definition.spec.exitCodeMode ?? 'Error', timeoutSeconds });
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
      };
      this.complete(key, definition, result, summary, log);
    } catch (err) {
      log.error({ err }, 'run failed unexpectedly');
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
      runs: { total: this.counters.runs, skipped: this.counters.skipped, byState: this.counters.byState },
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
    return [...this.fileProblems.entries()].map(([origin, problems]) => ({
      file: origin,
      problems: problems.map((p) => ({ object: p.object, errors: p.issues.map((i) => formatIssue(p.object, i)) })),
    }));
  }

  records(): unknown[] {
    return [...this.entries.values()].flatMap((e) => (e.record ? [e.record] : []));
  }

  private describe(key: string, full: boolean): unknown {
    const e = this.entries.get(key)!;
    const last = e.history[0];
    return {
      namespace: e.definition.metadata.namespace,
      name: e.definition.metadata.name,
      promise: e.definition.spec.promiseRef.name,
      resource: e.definition.spec.resourceRef ? `${e.definition.spec.resourceRef.namespace}/${e.definition.spec.resourceRef.name}` : null,
      file: e.origin,
      schedule: e.schedule.expression,
      timeZone: e.schedule.timeZone,
      suspended: e.definition.spec.suspend === true,
      nextRun: iso(this.scheduler.nextFire(key)),
      running: e.running ? { runId: e.running.runId, since: iso(e.running.startedAt) } : null,
      lastResult: last ? summaryJson(last) : null,
      skippedRuns: e.skipped,
      record: refString(recordRef(e.definition, this.options.destination)),
      warnings: e.warnings.map((w) => formatIssue(key, w)),
      ...(full ? { history: e.history.map(summaryJson), details: e.record?.data.details ?? null } : {}),
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
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function refString(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

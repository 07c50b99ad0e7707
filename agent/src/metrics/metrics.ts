/**
 * Prometheus metrics of the agent on its own prom-client Registry (never the global one, so
 * several agents in one process, e.g. tests, do not collide). The run counter and the duration
 * histogram are fed by finished runs (RunObserver); gauges are read from the status provider
 * at scrape time, so a deleted definition's gauges disappear by themselves and its counter and
 * histogram series are removed when it is deleted. The per-definition series are written
 * straight in the text format (one pass per scrape); prom-client carries the small ones. Label values are bounded: namespace and
 * name of definitions, states and the reason vocabulary; never free error text.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HEALTH_STATES } from '../core/model.js';
import { REASON_CODES } from '../core/reasons.js';
import type { CheckView, RunObserver, RunView, StatusProvider } from '../server/provider.js';
import { runOk } from '../reporting/status-pages.js';

export interface AgentMetricsOptions {
  provider: StatusProvider;
  /** Also export Node.js process metrics (process_*, nodejs_*). Default true. */
  processMetrics?: boolean;
  /** Current signal state (RUN/PAUSE/STOP) for vigil_signal_state, when signals are on. */
  signalState?: () => string;
}

/**
 * Bucket bounds (seconds) of vigil_check_duration_seconds: from a fast process to a long timeout.
 * Few on purpose: the histogram is per definition, so each bucket costs one series per definition.
 */
export const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const NO_REASON = 'none';
const SIGNALS = ['RUN', 'PAUSE', 'STOP'];

function boundedReason(reason: string | undefined): string {
  if (reason === undefined) return NO_REASON;
  return (REASON_CODES as readonly string[]).includes(reason) ? reason : 'Other';
}

export class AgentMetrics implements RunObserver {
  readonly registry = new Registry();
  /** vigil_check_runs_total and vigil_check_duration_seconds per definition (`namespace/name`). */
  private readonly perDefinition = new Map<string, RunSeries>();
  private snapshot: CheckView[] | undefined;
  private readonly provider: StatusProvider;

  constructor(options: AgentMetricsOptions) {
    const p = options.provider;
    this.provider = p;
    const registers = [this.registry];
    // One snapshot of the checks per scrape (render() takes it), not one per metric.
    const snap = (): CheckView[] => this.snapshot ?? p.checks?.() ?? [];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: 'vigil_definitions',
      help: 'Definitions loaded',
      registers,
      collect() {
        this.set(snap().length);
      },
    });
    new Gauge({
      name: 'vigil_scheduler_queue_depth',
      help: 'Runs waiting for a free slot',
      registers,
      collect() {
        this.set(p.queueStats?.().queued ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_scheduler_running_runs',
      help: 'Runs in progress',
      registers,
      collect() {
        this.set(p.queueStats?.().running ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_store_pending_records',
      help: 'Records waiting for delivery to the state store',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        for (const s of p.storeStats?.() ?? []) this.set({ store: s.kind }, s.pending);
      },
    });
    new Gauge({
      name: 'vigil_store_oldest_pending_age_seconds',
      help: 'Age of the oldest record waiting for delivery (0 when none waits)',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const s of p.storeStats?.() ?? []) this.set({ store: s.kind }, s.oldestPendingSince === undefined ? 0 : Math.max(0, (now - s.oldestPendingSince) / 1000));
      },
    });
    new Counter({
      name: 'vigil_store_delivery_errors_total',
      help: 'Failed attempts to deliver a record to the state store',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        for (const s of p.storeStats?.() ?? []) this.inc({ store: s.kind }, s.errors);
      },
    });
    if (options.signalState) {
      const state = options.signalState;
      new Gauge({
        name: 'vigil_signal_state',
        help: 'The run signal (1 for the current of RUN, PAUSE, STOP)',
        labelNames: ['state'],
        registers,
        collect() {
          const now = state();
          for (const s of SIGNALS) this.set({ state: s }, s === now ? 1 : 0);
        },
      });
    }
    // Per-definition gauges (vigil_check_state and friends, kuberhealthy_check...) are written by
    // perDefinitionText(): prom-client's label hashing made them most of a scrape's cost.
    new Gauge({
      name: 'kuberhealthy_cluster_state',
      help: 'Shows the status of the cluster (vigil: 1 when every check that ran is healthy or ready)',
      registers,
      collect() {
        this.set((snap()).every((c) => runOk(c.history[0])) ? 1 : 0);
      },
    });
  }

  runFinished(namespace: string, name: string, run: RunView): void {
    const key = `${namespace}/${name}`;
    let series = this.perDefinition.get(key);
    if (!series) this.perDefinition.set(key, (series = { namespace, name, runs: new Map(), buckets: new Array<number>(DURATION_BUCKETS.length).fill(0), sum: 0, count: 0 }));
    const runsKey = `${run.state}\u0000${boundedReason(run.reason)}`;
    series.runs.set(runsKey, (series.runs.get(runsKey) ?? 0) + 1);
    const seconds = run.durationMs / 1000;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]!) series.buckets[i]!++;
    series.sum += seconds;
    series.count++;
  }

  definitionRemoved(namespace: string, name: string): void {
    this.perDefinition.delete(`${namespace}/${name}`);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    const checks = this.provider.checks?.() ?? [];
    this.snapshot = checks;
    try {
      const text = await this.registry.metrics();
      return { contentType: this.registry.contentType, text: `${text}${runSeriesText(this.perDefinition.values())}${perDefinitionText(checks)}` };
    } finally {
      this.snapshot = undefined;
    }
  }
}

/** Finished runs of one definition: counts by state and reason, and the duration histogram (cumulative buckets). */
interface RunSeries {
  namespace: string;
  name: string;
  runs: Map<string, number>;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * vigil_check_runs_total and the vigil_check_duration_seconds histogram, written directly in the
 * text format: with prom-client's per-label-set hashing they cost most of a scrape at 10,000 definitions.
 */
export function runSeriesText(all: Iterable<RunSeries>): string {
  const runs: string[] = [];
  const hist: string[] = [];
  for (const s of all) {
    const def = `namespace="${esc(s.namespace)}",definition="${esc(s.name)}"`;
    for (const [k, n] of s.runs) {
      const [state = '', reason = ''] = k.split('\u0000');
      runs.push(`vigil_check_runs_total{${def},state="${state}",reason="${reason}"} ${n}`);
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) hist.push(`vigil_check_duration_seconds_bucket{le="${DURATION_BUCKETS[i]!}",${def}} ${s.buckets[i]!}`);
    hist.push(`vigil_check_duration_seconds_bucket{le="+Inf",${def}} ${s.count}`, `vigil_check_duration_seconds_sum{${def}} ${s.sum}`, `vigil_check_duration_seconds_count{${def}} ${s.count}`);
  }
  const body = (lines: string[]): string => (lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return [
    '# HELP vigil_check_runs_total Finished check runs by result state and failure reason (reason "none" when the check produced a result)\n',
    `# TYPE vigil_check_runs_total counter\n${body(runs)}\n`,
    '# HELP vigil_check_duration_seconds Wall time of finished check runs\n',
    `# TYPE vigil_check_duration_seconds histogram\n${body(hist)}\n`,
  ].join('');
}

/** A label value in the exposition format. */
function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The per-definition gauges, written directly in the text exposition format (one pass over the
 * snapshot): vigil_check_state (1 for the state of the last run, 0 for the others),
 * vigil_check_last_run_timestamp_seconds, vigil_check_next_run_timestamp_seconds,
 * vigil_check_consecutive_failures, and Kuberhealthy's kuberhealthy_check and
 * kuberhealthy_check_duration_seconds. Definitions that have not run yet have no state series.
 */
export function perDefinitionText(checks: readonly CheckView[]): string {
  const state: string[] = [];
  const lastRun: string[] = [];
  const nextRun: string[] = [];
  const failures: string[] = [];
  const kh: string[] = [];
  const khDuration: string[] = [];
  const khConsecutive: string[] = [];
  const khSuccess: string[] = [];
  const khFailure: string[] = [];
  for (const c of checks) {
    const ns = esc(c.namespace);
    const def = `namespace="${ns}",definition="${esc(c.name)}"`;
    const check = `check="${ns}/${esc(c.name)}",namespace="${ns}"`;
    failures.push(`vigil_check_consecutive_failures{${def}} ${c.stats.consecutiveFailures}`);
    khConsecutive.push(`kuberhealthy_check_consecutive_failures{${check}} ${c.stats.consecutiveFailures}`);
    khSuccess.push(`kuberhealthy_check_success_total{${check}} ${c.stats.successCount}`);
    khFailure.push(`kuberhealthy_check_failure_total{${check}} ${c.stats.failureCount}`);
    if (c.nextRun !== undefined) nextRun.push(`vigil_check_next_run_timestamp_seconds{${def}} ${c.nextRun / 1000}`);
    const last = c.history[0];
    if (!last) continue;
    for (const s of HEALTH_STATES) state.push(`vigil_check_state{${def},state="${s}"} ${s === last.state ? 1 : 0}`);
    lastRun.push(`vigil_check_last_run_timestamp_seconds{${def}} ${last.finishedAt / 1000}`);
    const ok = runOk(last) ? 1 : 0;
    kh.push(`kuberhealthy_check{${check},status="${ok}"} ${ok}`);
    khDuration.push(`kuberhealthy_check_duration_seconds{${check}} ${last.durationMs / 1000}`);
  }
  const block = (name: string, help: string, lines: string[], type = 'gauge'): string => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.length > 0 ? `${lines.join('\n')}\n` : ''}\n`;
  return [
    block('vigil_check_state', 'Current state of each definition (1 for the state of its last run, 0 for the others)', state),
    block('vigil_check_last_run_timestamp_seconds', 'Completion time of the last run of each definition (unix seconds)', lastRun),
    block('vigil_check_next_run_timestamp_seconds', 'Next scheduled run of each definition (unix seconds); absent when suspended', nextRun),
    block('vigil_check_consecutive_failures', 'Runs in a row that were not healthy or ready', failures),
    block('kuberhealthy_check', 'Shows the status of a Kuberhealthy check (vigil: 1 when the last run was healthy or ready)', kh),
    block('kuberhealthy_check_duration_seconds', 'Shows the check run duration of a Kuberhealthy check (vigil: the last run)', khDuration),
    block('kuberhealthy_check_consecutive_failures', 'Consecutive failed runs of a check', khConsecutive),
    block('kuberhealthy_check_success_total', 'Successful runs of a check since the agent started', khSuccess, 'counter'),
    block('kuberhealthy_check_failure_total', 'Failed runs of a check since the agent started', khFailure, 'counter'),
  ].join('');
}

/**
 * Prometheus metrics of the agent on its own prom-client Registry (never the global one, so
 * several agents in one process, e.g. tests, do not collide). Counters and the duration
 * histogram are fed by finished runs (RunObserver); gauges are read from the status provider
 * at scrape time, so a deleted definition's gauges disappear by themselves and its counter and
 * histogram series are removed when it is deleted. Label values are bounded: namespace and
 * name of definitions, states and the reason vocabulary; never free error text.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

/** Bucket bounds (seconds) of vigil_check_duration_seconds: from a fast process to a long timeout. */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

const NO_REASON = 'none';
const SIGNALS = ['RUN', 'PAUSE', 'STOP'];

function boundedReason(reason: string | undefined): string {
  if (reason === undefined) return NO_REASON;
  return (REASON_CODES as readonly string[]).includes(reason) ? reason : 'Other';
}

export class AgentMetrics implements RunObserver {
  readonly registry = new Registry();
  private readonly runs: Counter<'namespace' | 'definition' | 'state' | 'reason'>;
  private readonly duration: Histogram<'namespace' | 'definition'>;
  /** Label sets of vigil_check_runs_total per definition, to remove them when it is deleted. */
  private readonly runLabels = new Map<string, Set<string>>();
  private snapshot: CheckView[] | undefined;
  private readonly provider: StatusProvider;

  constructor(options: AgentMetricsOptions) {
    const p = options.provider;
    this.provider = p;
    const registers = [this.registry];
    // One snapshot of the checks per scrape (render() takes it), not one per metric.
    const snap = (): CheckView[] => this.snapshot ?? p.checks?.() ?? [];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.runs = new Counter({
      name: 'vigil_check_runs_total',
      help: 'Finished check runs by result state and failure reason (reason "none" when the check produced a result)',
      labelNames: ['namespace', 'definition', 'state', 'reason'],
      registers,
    });
    this.duration = new Histogram({
      name: 'vigil_check_duration_seconds',
      help: 'Wall time of finished check runs',
      labelNames: ['namespace', 'definition'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'vigil_check_state',
      help: 'Current state of each definition (1 for the state of its last run, 0 for the others)',
      labelNames: ['namespace', 'definition', 'state'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) {
          const last = c.history[0];
          if (!last) continue;
          for (const s of HEALTH_STATES) this.set({ namespace: c.namespace, definition: c.name, state: s }, s === last.state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'vigil_check_last_run_timestamp_seconds',
      help: 'Completion time of the last run of each definition (unix seconds)',
      labelNames: ['namespace', 'definition'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) {
          const last = c.history[0];
          if (last) this.set({ namespace: c.namespace, definition: c.name }, last.finishedAt / 1000);
        }
      },
    });
    new Gauge({
      name: 'vigil_check_next_run_timestamp_seconds',
      help: 'Next scheduled run of each definition (unix seconds); absent when suspended',
      labelNames: ['namespace', 'definition'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) if (c.nextRun !== undefined) this.set({ namespace: c.namespace, definition: c.name }, c.nextRun / 1000);
      },
    });
    new Gauge({
      name: 'vigil_check_consecutive_failures',
      help: 'Runs in a row that were not healthy or ready',
      labelNames: ['namespace', 'definition'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) this.set({ namespace: c.namespace, definition: c.name }, c.stats.consecutiveFailures);
      },
    });
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
    // Kuberhealthy-compatible series: existing dashboards and alerts keep working.
    new Gauge({
      name: 'kuberhealthy_check',
      help: 'Shows the status of a Kuberhealthy check (vigil: 1 when the last run was healthy or ready)',
      labelNames: ['check', 'namespace', 'status'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) {
          const last = c.history[0];
          if (!last) continue;
          const ok = runOk(last) ? 1 : 0;
          this.set({ check: `${c.namespace}/${c.name}`, namespace: c.namespace, status: String(ok) }, ok);
        }
      },
    });
    new Gauge({
      name: 'kuberhealthy_check_duration_seconds',
      help: 'Shows the check run duration of a Kuberhealthy check (vigil: the last run)',
      labelNames: ['check', 'namespace'],
      registers,
      collect() {
        this.reset();
        for (const c of snap()) {
          const last = c.history[0];
          if (last) this.set({ check: `${c.namespace}/${c.name}`, namespace: c.namespace }, last.durationMs / 1000);
        }
      },
    });
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
    const labels = { namespace, definition: name, state: run.state, reason: boundedReason(run.reason) };
    this.runs.inc(labels);
    const key = `${namespace}/${name}`;
    let sets = this.runLabels.get(key);
    if (!sets) this.runLabels.set(key, (sets = new Set()));
    sets.add(JSON.stringify([labels.state, labels.reason]));
    this.duration.observe({ namespace, definition: name }, run.durationMs / 1000);
  }

  definitionRemoved(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    for (const s of this.runLabels.get(key) ?? []) {
      const [state, reason] = JSON.parse(s) as [string, string];
      this.runs.remove({ namespace, definition: name, state, reason });
    }
    this.runLabels.delete(key);
    this.duration.remove({ namespace, definition: name });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    this.snapshot = this.provider.checks?.() ?? [];
    try {
      return { contentType: this.registry.contentType, text: await this.registry.metrics() };
    } finally {
      this.snapshot = undefined;
    }
  }
}

/**
 * Open report windows: one per run, from its start to its deadline. A check reports into
 * its window once; the runner collects the report when the run ends. Runs that ended or were
 * superseded by a newer run of the same definition answer 410 (Gone) for a while; ids never
 * seen answer 400, as in Kuberhealthy v3.
 */
import type { CheckReport } from '../core/result.js';

export interface ReportWindow {
  runId: string;
  namespace: string;
  name: string;
  /** ms since the epoch; reports after it are refused with 410. */
  deadline: number;
}

export type ReportAnswer =
  | { status: 200; window: ReportWindow }
  | { status: 400 | 410; error: string };

interface Open extends ReportWindow {
  report?: CheckReport;
}

export interface ReportRegistryOptions {
  now?: () => number;
  /** Closed run ids remembered for 410 answers (default 10,000). */
  rememberClosed?: number;
}

export class ReportRegistry {
  private readonly open = new Map<string, Open>();
  /** Current open run per definition key. */
  private readonly byDefinition = new Map<string, string>();
  /** Closed run id -> why. Insertion-ordered, bounded. */
  private readonly closed = new Map<string, string>();
  private readonly now: () => number;
  private readonly remember: number;

  constructor(options: ReportRegistryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.remember = options.rememberClosed ?? 10_000;
  }

  /** Open runs (for status). */
  get size(): number {
    return this.open.size;
  }

  /** Opens the window of a new run; an open run of the same definition is superseded. */
  openRun(window: ReportWindow): void {
    const key = `${window.namespace}/${window.name}`;
    const previous = this.byDefinition.get(key);
    if (previous !== undefined && previous !== window.runId) this.close(previous, `superseded by run ${window.runId}`);
    this.open.set(window.runId, { ...window });
    this.byDefinition.set(key, window.runId);
  }

  /** Takes a report for a run. */
  receive(runId: string, report: CheckReport): ReportAnswer {
    const w = this.open.get(runId);
    if (!w) {
      const why = this.closed.get(runId);
      if (why !== undefined) return { status: 410, error: `run ${runId} no longer accepts reports: ${why}` };
      return { status: 400, error: `run uuid ${runId} is invalid or expired` };
    }
    if (this.now() > w.deadline) return { status: 410, error: `run ${runId} is past its deadline (${new Date(w.deadline).toISOString()})` };
    if (w.report) return { status: 410, error: `run ${runId} has already reported` };
    w.report = report;
    return { status: 200, window: { runId: w.runId, namespace: w.namespace, name: w.name, deadline: w.deadline } };
  }

  /** Ends a run's window and returns its report, if one came. */
  closeRun(runId: string, why = 'the run has finished'): CheckReport | undefined {
    return this.close(runId, why);
  }

  private close(runId: string, why: string): CheckReport | undefined {
    const w = this.open.get(runId);
    if (!w) return undefined;
    this.open.delete(runId);
    const key = `${w.namespace}/${w.name}`;
    if (this.byDefinition.get(key) === runId) this.byDefinition.delete(key);
    this.closed.set(runId, w.report ? `${why} (it had already reported)` : why);
    if (this.closed.size > this.remember) {
      const oldest = this.closed.keys().next();
      if (oldest.done !== true) this.closed.delete(oldest.value);
    }
    return w.report;
  }
}

/**
 * The run registry: every run the agent submits (scheduled, at start or on demand) by its
 * id, so `GET /api/v1/runs/:id` can answer "queued", "running" or the finished result.
 * Bounded: the oldest settled runs are forgotten first.
 */
import type { HealthState } from '../core/model.js';
import type { ReasonCode } from '../core/reasons.js';
import type { RunStatus, RunTrigger } from '../server/provider.js';

export interface RunRegistryOptions {
  /** Runs remembered (default 1000). Queued and running runs are never evicted. */
  maxRuns?: number;
  now?: () => number;
}

export class RunRegistry {
  private readonly runs = new Map<string, RunStatus>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: RunRegistryOptions = {}) {
    this.max = options.maxRuns ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.runs.size;
  }

  submitted(runId: string, namespace: string, name: string, trigger: RunTrigger): void {
    this.runs.set(runId, { runId, namespace, name, trigger, phase: 'queued', submittedAt: this.now() });
    this.evict();
  }

  started(runId: string, startedAt: number = this.now()): void {
    const r = this.runs.get(runId);
    if (r) {
      r.phase = 'running';
      r.startedAt = startedAt;
    }
  }

  finished(runId: string, finishedAt: number, result: { state: HealthState; reason?: ReasonCode; message?: string; details: Record<string, unknown> }): void {
    const r = this.runs.get(runId);
    if (!r) return;
    r.phase = 'finished';
    r.finishedAt = finishedAt;
    r.result = result;
  }

  /** A run that will not produce a result (dropped from the queue, aborted by shutdown, definition removed). */
  cancelled(runId: string, why: string): void {
    const r = this.runs.get(runId);
    if (!r || r.phase === 'finished') return;
    r.phase = 'cancelled';
    r.finishedAt = this.now();
    r.cancelReason = why;
  }

  get(runId: string): RunStatus | undefined {
    const r = this.runs.get(runId);
    return r ? structuredClone(r) : undefined;
  }

  private evict(): void {
    if (this.runs.size <= this.max) return;
    for (const [id, r] of this.runs) {
      if (this.runs.size <= this.max) return;
      if (r.phase === 'finished' || r.phase === 'cancelled') this.runs.delete(id);
    }
  }
}

/** The hand-written part of the exposition: cumulative histogram buckets, counts by state and reason, escaping. */
import { describe, expect, it } from 'vitest';
import { AgentMetrics, DURATION_BUCKETS } from '../../agent/src/metrics/metrics.js';
import type { RunView, StatusProvider } from '../../agent/src/server/provider.js';

const provider: StatusProvider = {
  isReady: () => true,
  summary: () => ({}),
  definitions: () => [],
  definition: () => undefined,
  problems: () => [],
  records: () => [],
  checks: () => [],
};

const run = (durationMs: number, state: RunView['state'], reason?: RunView['reason']): RunView => ({
  runId: 'r',
  trigger: 'schedule',
  startedAt: 0,
  finishedAt: durationMs,
  durationMs,
  state,
  ...(reason ? { reason } : {}),
});

describe('run series exposition', () => {
  it('writes cumulative buckets, sum and count, and counts by state and reason', async () => {
    const m = new AgentMetrics({ provider, processMetrics: false });
    m.runFinished('ns', 'a', run(50, 'healthy'));
    m.runFinished('ns', 'a', run(700, 'healthy'));
    m.runFinished('ns', 'a', run(400_000, 'unknown', 'Timeout'));
    const { text } = await m.render();
    const line = (prefix: string): string | undefined => text.split('\n').find((l) => l.startsWith(prefix));
    expect(line('vigil_check_duration_seconds_bucket{le="0.1",namespace="ns",definition="a"}')).toMatch(/ 1$/);
    expect(line('vigil_check_duration_seconds_bucket{le="0.5",namespace="ns",definition="a"}')).toMatch(/ 1$/);
    expect(line('vigil_check_duration_seconds_bucket{le="1",namespace="ns",definition="a"}')).toMatch(/ 2$/);
    expect(line(`vigil_check_duration_seconds_bucket{le="${DURATION_BUCKETS.at(-1)!}",namespace="ns",definition="a"}`)).toMatch(/ 2$/);
    expect(line('vigil_check_duration_seconds_bucket{le="+Inf",namespace="ns",definition="a"}')).toMatch(/ 3$/);
    expect(line('vigil_check_duration_seconds_sum{namespace="ns",definition="a"}')).toBe('vigil_check_duration_seconds_sum{namespace="ns",definition="a"} 400.75');
    expect(line('vigil_check_duration_seconds_count{namespace="ns",definition="a"}')).toMatch(/ 3$/);
    expect(line('vigil_check_runs_total{namespace="ns",definition="a",state="healthy",reason="none"}')).toMatch(/ 2$/);
    expect(line('vigil_check_runs_total{namespace="ns",definition="a",state="unknown",reason="Timeout"}')).toMatch(/ 1$/);
    m.definitionRemoved('ns', 'a');
    expect((await m.render()).text).not.toContain('definition="a"');
  });

  it('escapes label values and never uses an unknown reason as a label', async () => {
    const m = new AgentMetrics({ provider, processMetrics: false });
    m.runFinished('ns', 'we"ird\\name', run(1, 'unknown', 'free text error' as RunView['reason']));
    const { text } = await m.render();
    expect(text).toContain('definition="we\\"ird\\\\name",state="unknown",reason="Other"} 1');
    expect(text).not.toContain('free text error');
  });
});

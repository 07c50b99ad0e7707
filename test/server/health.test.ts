/** The khealth-style answer of GET /api/v1/health/<namespace>/<name> for every state (pure). */
import { describe, expect, it } from 'vitest';
import type { HealthState } from '../../agent/src/core/model.js';
import type { CheckView, RunView } from '../../agent/src/server/provider.js';
import { healthAnswer } from '../../agent/src/server/health.js';

const AT = Date.UTC(2026, 11, 3, 4, 5, 6);

function view(history: Partial<RunView>[], running = false): CheckView {
  return {
    namespace: 'team',
    name: 'web',
    schedule: '*/5 * * * *',
    timeZone: 'UTC',
    suspended: false,
    timeoutSeconds: 30,
    ...(running ? { running: { runId: 'r-now', startedAt: AT } } : {}),
    history: history.map((h, i) => ({ runId: `r${i}`, trigger: 'schedule', startedAt: AT - 1000, finishedAt: AT, durationMs: 1000, state: 'healthy', ...h })),
    stats: { successCount: 0, failureCount: 0, consecutiveFailures: 0 },
  };
}

describe('healthAnswer', () => {
  it.each([
    ['healthy', 200],
    ['ready', 200],
    ['degraded', 500],
    ['unhealthy', 500],
    ['unknown', 503],
  ] as [HealthState, number][])('%s -> %i, with a one-line body', (state, status) => {
    const answer = healthAnswer(view([{ state }]), 'team/web', true);
    expect(answer).toEqual({ status, text: `team/web: ${state} at 2026-12-03T04:05:06.000Z` });
  });

  it('says why on one line: reason and message, or a report\'s errors', () => {
    expect(healthAnswer(view([{ state: 'unknown', reason: 'Timeout', message: 'no answer\nwithin 30 s' }]), 'team/web', true).text).toBe(
      'team/web: unknown at 2026-12-03T04:05:06.000Z (Timeout: no answer within 30 s)',
    );
    expect(healthAnswer(view([{ state: 'unhealthy', errors: ['disk full', 'db down'] }]), 'team/web', true)).toEqual({
      status: 500,
      text: 'team/web: unhealthy at 2026-12-03T04:05:06.000Z (disk full; db down)',
    });
    const long = healthAnswer(view([{ state: 'unhealthy', message: 'x'.repeat(1000) }]), 'team/web', true).text;
    expect(long.length).toBeLessThan(400);
  });

  it('judges by the newest run only', () => {
    expect(healthAnswer(view([{ state: 'healthy' }, { state: 'unhealthy' }]), 'team/web', true).status).toBe(200);
  });

  it('503 when not yet run (saying when the first run is in progress), 404 for no such definition, 501 when unsupported', () => {
    expect(healthAnswer(view([]), 'team/web', true)).toEqual({ status: 503, text: 'team/web: not yet run' });
    expect(healthAnswer(view([], true), 'team/web', true)).toEqual({ status: 503, text: 'team/web: not yet run (first run in progress)' });
    expect(healthAnswer(undefined, 'team/nope', true)).toEqual({ status: 404, text: 'no definition team/nope' });
    expect(healthAnswer(undefined, 'team/web', false).status).toBe(501);
  });
});

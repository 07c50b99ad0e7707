/** How a Kuberhealthy report (or its absence) maps to a result (core/result.ts). */
import { describe, expect, it } from 'vitest';
import { mapOutcome } from '../../agent/src/core/result.js';
import type { ContainerOutcome, OutputFile, RunOutcome } from '../../agent/src/core/interfaces.js';

function container(name: string, exitCode: number | null): ContainerOutcome {
  const empty = { text: '', bytes: 0, truncated: false };
  return { name, image: 'img', via: 'process', exitCode, signal: exitCode === null ? 'SIGKILL' : null, durationMs: 5, stdout: empty, stderr: empty };
}

function outcome(containers: ContainerOutcome[], output: OutputFile, extra: Partial<RunOutcome> = {}): RunOutcome {
  return { runId: 'r1', startedAt: 1000, finishedAt: 2000, containers, timedOut: false, aborted: false, output, ...extra };
}

const missing: OutputFile = { kind: 'missing' };

describe('report mapping', () => {
  it('maps OK to healthy and errors to unhealthy with details.errors', () => {
    expect(mapOutcome(outcome([container('c', 0)], missing), { report: { ok: true, errors: [] } })).toEqual({ state: 'healthy', details: {}, source: 'report' });
    expect(mapOutcome(outcome([container('c', 0)], missing), { report: { ok: false, errors: ['a', 'b'] } })).toEqual({
      state: 'unhealthy',
      details: { errors: ['a', 'b'] },
      message: 'a; b',
      source: 'report',
    });
  });

  it('a report wins over a non-zero exit and a timeout when no file was written', () => {
    expect(mapOutcome(outcome([container('c', 1)], missing), { report: { ok: true, errors: [] } }).state).toBe('healthy');
    expect(mapOutcome(outcome([container('c', null)], missing, { timedOut: true }), { report: { ok: false, errors: ['x'] }, expectReport: true }).state).toBe('unhealthy');
  });

  it('a written health-status.yaml wins over a report', () => {
    const r = mapOutcome(outcome([container('c', 0)], { kind: 'present', content: 'state: degraded\n' }), { report: { ok: true, errors: [] } });
    expect(r).toMatchObject({ state: 'degraded', source: 'file' });
  });

  it('a start failure wins over everything', () => {
    const r = mapOutcome(outcome([], missing, { startFailure: { message: 'no such image', reason: 'ImagePull' } }), { report: { ok: true, errors: [] } });
    expect(r.reason).toBe('ImagePull');
  });

  it('a Kuberhealthy-style check without report or file is NoReport, at exit 0 or at the deadline', () => {
    const exited = mapOutcome(outcome([container('c', 0)], missing), { expectReport: true, timeoutSeconds: 30 });
    expect(exited).toMatchObject({ state: 'unknown', reason: 'NoReport', details: { error: { reason: 'NoReport', container: 'c' } } });
    expect(exited.message).toBe('the Kuberhealthy-style check did not report to KH_REPORTING_URL and container "c" exited 0, and wrote no health-status.yaml');
    const late = mapOutcome(outcome([container('c', null)], missing, { timedOut: true }), { expectReport: true, timeoutSeconds: 30 });
    expect(late).toMatchObject({ reason: 'NoReport', message: 'the Kuberhealthy-style check did not report to KH_REPORTING_URL before its deadline (timeout of 30s), and wrote no health-status.yaml' });
  });

  it('a crash stays ExitCode, and a check that is not Kuberhealthy-style stays MissingOutput', () => {
    expect(mapOutcome(outcome([container('c', 2)], missing), { expectReport: true }).reason).toBe('ExitCode');
    expect(mapOutcome(outcome([container('c', 0)], missing)).reason).toBe('MissingOutput');
    expect(mapOutcome(outcome([container('c', null)], missing, { timedOut: true })).reason).toBe('Timeout');
  });
});

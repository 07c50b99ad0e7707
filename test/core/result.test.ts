import { describe, expect, it } from 'vitest';
import { mapOutcome } from '../../agent/src/core/result.js';
import type { ContainerOutcome, OutputFile, RunOutcome } from '../../agent/src/core/interfaces.js';

function container(name: string, exitCode: number | null, extra: Partial<ContainerOutcome> = {}): ContainerOutcome {
  const empty = { text: '', bytes: 0, truncated: false };
  return { name, image: 'img', via: 'process', exitCode, signal: null, durationMs: 5, stdout: empty, stderr: empty, ...extra };
}

function outcome(containers: ContainerOutcome[], output: OutputFile, extra: Partial<RunOutcome> = {}): RunOutcome {
  return { runId: 'r1', startedAt: 1000, finishedAt: 2000, containers, timedOut: false, aborted: false, output, ...extra };
}

const text = (t: string) => ({ text: t, bytes: t.length, truncated: false });

describe('result mapping', () => {
  it('takes state and details from a valid health-status.yaml', () => {
    const r = mapOutcome(outcome([container('check', 0)], { kind: 'present', content: 'state: degraded\ndetails:\n  replicas: 3\n  ready: 2\n' }));
    expect(r).toEqual({ state: 'degraded', details: { replicas: 3, ready: 2 }, source: 'file' });
  });

  it('records a non-zero exit as unknown with reason ExitCode and the end of stderr, even if a file was written', () => {
    const c = container('check', 1, { stderr: text('starting\nconnecting to db\nerror: connection refused\n') });
    const r = mapOutcome(outcome([c], { kind: 'present', content: 'state: healthy\n' }));
    expect(r.state).toBe('unknown');
    expect(r.reason).toBe('ExitCode');
    expect(r.details).toEqual({
      error: { reason: 'ExitCode', message: 'container "check" exited with code 1: starting | connecting to db | error: connection refused', container: 'check', exitCode: 1 },
    });
  });

  it('names the failing container of a multi-container workflow', () => {
    const r = mapOutcome(outcome([container('fetch', 0), container('evaluate', 7)], { kind: 'missing' }));
    expect(r.details.error).toMatchObject({ reason: 'ExitCode', container: 'evaluate', exitCode: 7 });
  });

  it('records a signal death', () => {
    const r = mapOutcome(outcome([container('check', null, { signal: 'SIGKILL' })], { kind: 'missing' }));
    expect(r.details.error).toMatchObject({ reason: 'ExitCode', signal: 'SIGKILL', message: 'container "check" was killed by signal SIGKILL' });
  });

  it('distinguishes Timeout, MissingOutput, InvalidOutput and StartFailed', () => {
    expect(mapOutcome(outcome([container('check', null, { signal: 'SIGKILL' })], { kind: 'missing' }, { timedOut: true }), { timeoutSeconds: 30 })).toMatchObject({
      state: 'unknown',
      reason: 'Timeout',
      message: 'run exceeded its timeout of 30s while container "check" was running; its processes were killed',
    });
    expect(mapOutcome(outcome([container('check', 0)], { kind: 'missing' })).reason).toBe('MissingOutput');
    expect(mapOutcome(outcome([container('check', 0)], { kind: 'present', content: 'state: [' })).details.error).toMatchObject({ reason: 'InvalidOutput', message: expect.stringContaining('invalid YAML') });
    expect(mapOutcome(outcome([container('check', 0)], { kind: 'present', content: 'state: great\n' })).details.error).toMatchObject({
      reason: 'InvalidOutput',
      message: 'health-status.yaml: state: "great" is not one of: unknown, ready, unhealthy, healthy, degraded',
    });
    expect(mapOutcome(outcome([container('check', 0)], { kind: 'present', content: 'state: healthy\ndetails: [1]\n' })).details.error).toMatchObject({ reason: 'InvalidOutput' });
    expect(mapOutcome(outcome([container('check', 0)], { kind: 'refused', message: 'health-status.yaml is a symbolic link' })).details.error).toMatchObject({ reason: 'InvalidOutput', message: 'health-status.yaml is a symbolic link' });
    expect(mapOutcome(outcome([], { kind: 'missing' }, { startFailure: { container: 'check', message: 'no way to run image "x" locally' } }))).toMatchObject({
      state: 'unknown',
      reason: 'StartFailed',
      details: { error: { reason: 'StartFailed', container: 'check', message: 'no way to run image "x" locally' } },
    });
    expect(mapOutcome(outcome([], { kind: 'missing' }, { startFailure: { container: 'check', message: 'image not found', reason: 'ImagePull' } })).reason).toBe('ImagePull');
    expect(mapOutcome(outcome([], { kind: 'missing' })).reason).toBe('StartFailed');
  });

  describe('Nagios exit-code mode', () => {
    const nagios = { exitCodeMode: 'Nagios' as const };
    it.each([
      [0, 'healthy'],
      [1, 'degraded'],
      [2, 'unhealthy'],
      [3, 'unknown'],
    ])('maps exit %i to %s with the first output line as the message and perfdata parsed', (code, state) => {
      const c = container('check', code, { stdout: text("DISK WARNING - free space: / 3326 MB (56%) | '/'=2643MB;5948;5958;0;5968 load=0.5\nlong output\n") });
      const r = mapOutcome(outcome([c], { kind: 'missing' }), nagios);
      expect(r.state).toBe(state);
      expect(r.reason).toBeUndefined();
      expect(r.details).toEqual({
        exitCode: code,
        message: 'DISK WARNING - free space: / 3326 MB (56%)',
        perfdata: [
          { label: '/', value: 2643, uom: 'MB', warn: '5948', crit: '5958', min: 0, max: 5968 },
          { label: 'load', value: 0.5 },
        ],
      });
    });

    it('treats other exit codes as a broken check', () => {
      const r = mapOutcome(outcome([container('check', 127, { stderr: text('sh: check_disk: not found') })], { kind: 'missing' }), nagios);
      expect(r).toMatchObject({ state: 'unknown', reason: 'ExitCode' });
    });

    it('lets a written health-status.yaml win over the exit code', () => {
      const r = mapOutcome(outcome([container('check', 2)], { kind: 'present', content: 'state: ready\n' }), nagios);
      expect(r.state).toBe('ready');
    });
  });
});

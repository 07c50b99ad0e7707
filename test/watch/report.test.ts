import { describe, expect, it } from 'vitest';
import type { StatusWindow, WatchReport } from '../../check-images/http/src/watch.js';
import { buildTelemetry, longestOutage } from '../../agent/src/watch/report.js';
import { parseWatchConfig, WatchConfigError } from '../../agent/src/watch/config.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
function w(url: string, from: number, to: number, status: boolean, code = status ? '200' : '503'): StatusWindow {
  return { url, status, status_code: code, start_timestamp: new Date(T0 + from * 1000).toISOString(), end_timestamp: new Date(T0 + to * 1000).toISOString(), duration: to - from };
}
function report(targets: { url: string; windows: StatusWindow[] }[]): WatchReport {
  return {
    start_timestamp: new Date(T0).toISOString(),
    end_timestamp: new Date(T0 + 60_000).toISOString(),
    stopped: false,
    windows: targets.flatMap((t) => t.windows),
    targets: targets.map((t) => ({
      url: t.url,
      probes: t.windows.length * 5,
      failed_probes: t.windows.filter((x) => !x.status).length * 5,
      downtime_seconds: t.windows.filter((x) => !x.status).reduce((a, x) => a + x.duration, 0),
      windows: t.windows,
    })),
  };
}

describe('longestOutage', () => {
  it('merges adjacent failed windows whatever their codes', () => {
    expect(longestOutage([w('a', 0, 10, true), w('a', 10, 15, false, '503'), w('a', 15, 22, false, '000'), w('a', 22, 30, true), w('a', 30, 40, false)])).toBe(12);
    expect(longestOutage([w('a', 0, 10, true)])).toBe(0);
    expect(longestOutage([])).toBe(0);
  });
});

describe('buildTelemetry exit codes (Krkn priority: 3 before 2)', () => {
  const up = { url: 'http://up', windows: [w('http://up', 0, 60, true)] };
  const flap = { url: 'http://flap', windows: [w('http://flap', 0, 20, true), w('http://flap', 20, 50, false), w('http://flap', 50, 60, true)] };

  it('0 when nothing failed', () => {
    const t = buildTelemetry(report([up]), { exitOnFailure: [false], intervalSeconds: 2, endedBy: 'duration' });
    expect(t.summary).toMatchObject({ exit_code: 0, exit_reason: 'all checks passed', targets: 1, targets_with_downtime: 0, duration_seconds: 60, critical_downtime_seconds: null });
    expect(t.health_checks).toHaveLength(1);
  });

  it('0 when only targets without exit_on_failure failed and no threshold is passed', () => {
    const t = buildTelemetry(report([up, flap]), { exitOnFailure: [true, false], intervalSeconds: 2, criticalDowntimeSeconds: 60, endedBy: 'duration' });
    expect(t.summary.exit_code).toBe(0);
    expect(t.summary.exit_reason).toBe('failures on targets without exit_on_failure only');
    expect(t.targets[1]).toMatchObject({ url: 'http://flap', exit_on_failure: false, downtime_seconds: 30, longest_downtime_seconds: 30 });
  });

  it('2 when a target was down longer than the critical downtime', () => {
    const t = buildTelemetry(report([up, flap]), { exitOnFailure: [false, false], intervalSeconds: 2, criticalDowntimeSeconds: 29, endedBy: 'STOP' });
    expect(t.summary).toMatchObject({ exit_code: 2, exit_reason: 'critical: http://flap down for 30s (over 29s)', ended_by: 'STOP' });
  });

  it('3 when a target with exit_on_failure failed, even when also critical', () => {
    const t = buildTelemetry(report([up, flap]), { exitOnFailure: [false, true], intervalSeconds: 2, criticalDowntimeSeconds: 1, endedBy: 'duration' });
    expect(t.summary).toMatchObject({ exit_code: 3, exit_reason: 'failure on http://flap (exit_on_failure)' });
  });
});

describe('buildTelemetry with kubevirt_checks', () => {
  const vw = (vm: string, from: number, to: number, status: boolean) => ({
    vm_name: vm, ip_address: '10.0.0.5', namespace: 'vms', node_name: 'n1', ssh_status: status, vmi_ready: true, status,
    check_type: status ? ('healthy' as const) : ('ssh_access' as const),
    start_timestamp: new Date(T0 + from * 1000).toISOString(), end_timestamp: new Date(T0 + to * 1000).toISOString(), duration: to - from,
  });
  const virt = (post: ReturnType<typeof vw>[] = []) => ({
    windows: [vw('vm-1', 0, 10, true), vw('vm-1', 10, 40, false), vw('vm-1', 40, 60, true)],
    vms: [{ vm_name: 'vm-1', rounds: 30, failed_rounds: 15, downtime_seconds: 30, windows: [vw('vm-1', 0, 10, true), vw('vm-1', 10, 40, false), vw('vm-1', 40, 60, true)] }],
    post,
    rounds: 30,
    failed_rounds: 0,
  });

  it('adds Krkn virt_checks and post_virt_checks; a VM outage over the critical downtime exits 2', () => {
    const t = buildTelemetry(report([]), { exitOnFailure: [], intervalSeconds: 2, criticalDowntimeSeconds: 20, endedBy: 'duration', virt: { report: virt(), exitOnFailure: false } });
    expect(t.virt_checks).toHaveLength(3);
    expect(t.post_virt_checks).toEqual([]);
    expect(t.vms?.[0]).toMatchObject({ vm_name: 'vm-1', longest_downtime_seconds: 30, downtime_seconds: 30 });
    expect(t.summary).toMatchObject({ exit_code: 2, exit_reason: 'critical: VM vm-1 down for 30s (over 20s)' });
  });

  it('exit_on_failure: 3 for a VM that failed during the watch or only in the post-run check', () => {
    const t = buildTelemetry(report([]), { exitOnFailure: [], intervalSeconds: 2, endedBy: 'duration', virt: { report: virt(), exitOnFailure: true } });
    expect(t.summary).toMatchObject({ exit_code: 3, exit_reason: 'failure on VM vm-1 (exit_on_failure)' });
    const clean = { ...virt([vw('vm-2', 60, 60, false)]), vms: [] };
    expect(buildTelemetry(report([]), { exitOnFailure: [], intervalSeconds: 2, endedBy: 'duration', virt: { report: clean, exitOnFailure: true } }).summary.exit_reason).toBe('failure on VM vm-2 (exit_on_failure)');
  });
});

describe('parseWatchConfig', () => {
  it('reads a Krkn config: health_checks, exit_on_failure per target, kraken signal settings', () => {
    const c = parseWatchConfig({
      kraken: { signal_state: 'pause', signal_address: '127.0.0.1', port: 8081, publish_kraken_status: true },
      tunings: { wait_duration: 1 },
      health_checks: {
        interval: 3,
        config: [
          { url: 'http://a.example/healthz', bearer_token: 'secret-token-123', exit_on_failure: true, verify_url: false },
          { url: 'http://b.example/', auth: 'user,pass' },
        ],
      },
      kubevirt_checks: { namespace: '', name: '.*' },
    });
    expect(c.exitOnFailure).toEqual([true, false]);
    expect(c.intervalSeconds).toBe(3);
    expect(c.signal).toEqual({ state: 'PAUSE', address: '127.0.0.1', port: 8081 });
    expect(c.http!.targets.map((t) => t.displayUrl)).toEqual(['http://a.example/healthz', 'http://b.example/']);
    expect(c.http!.targets[0]!.verifyTls).toBe(false);
    expect(c.notes).toEqual(['kubevirt_checks: no namespace; skipped (as Krkn does)']);
    expect(c.durationSeconds).toBeUndefined();
  });

  it('reads kubevirt_checks with the VMI check parser; health_checks are then optional', () => {
    const c = parseWatchConfig({ kubevirt_checks: { namespace: 'vms', name: 'web-.*', interval: 5, exit_on_failure: true, only_failures: true } });
    expect(c.http).toBeUndefined();
    expect(c.kubevirt).toMatchObject({ intervalSeconds: 5, exitOnFailure: true, onlyFailures: true, config: { namespace: 'vms' } });
    expect(c.kubevirt?.config.namePattern?.test('web-1')).toBe(true);
  });

  it('lists every problem with its field, including those of kubevirt_checks', () => {
    let err: unknown;
    try {
      parseWatchConfig({ kraken: { port: 'x', signal_state: 'GO' }, health_checks: { config: [{ url: 'ftp://x' }, { nope: 1 }] }, kubevirt_checks: { namespace: 'vms', bogus: 1 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WatchConfigError);
    const problems = (err as WatchConfigError).problems;
    expect(problems.some((p) => p.startsWith('health_checks.config[0].url:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('health_checks.config[1]'))).toBe(true);
    expect(problems).toContain('kraken.port: must be a port number (0-65535), got "x"');
    expect(problems).toContain('kraken.signal_state: must be RUN, PAUSE or STOP, got "GO"');
    expect(problems).toContain('kubevirt_checks.bogus: is not a known field');
    expect(() => parseWatchConfig({})).toThrow('health_checks: is required (the URLs to watch), unless kubevirt_checks are given');
    expect(() => parseWatchConfig('x')).toThrow(/must be a YAML mapping/);
  });
});

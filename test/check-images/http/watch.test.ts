import { afterEach, describe, expect, it } from 'vitest';
import { parseHttpCheckConfig } from '../../../check-images/http/src/check.js';
import { runHttp } from '../../../check-images/http/src/run.js';
import { NO_RESPONSE_CODE, watchResult, watchTargets, type StatusWindow, type WatchReport } from '../../../check-images/http/src/watch.js';
import { startServer, type TestServer } from './servers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server whose answer to the n-th request (1-based) is chosen by `script`. */
async function scripted(script: (n: number) => number | 'drop'): Promise<TestServer> {
  let n = 0;
  const s = await startServer((_req, res) => {
    n += 1;
    const what = script(n);
    if (what === 'drop') res.socket?.destroy();
    else res.writeHead(what).end();
  });
  servers.push(s);
  return s;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** Windows of one target are contiguous and cover the watch from the first probe to the end. */
function expectContiguous(windows: StatusWindow[], report: WatchReport): void {
  for (let i = 1; i < windows.length; i++) expect(windows[i]!.start_timestamp).toBe(windows[i - 1]!.end_timestamp);
  expect(windows.at(-1)!.end_timestamp).toBe(report.end_timestamp);
  for (const w of windows) expect(w.duration).toBeCloseTo(seconds(w.end_timestamp) - seconds(w.start_timestamp), 3);
}

describe('watchTargets (a watching run against a flapping server)', () => {
  it('records a window on every status change, always with a string status_code, and the downtime', async () => {
    // up for 3 probes, 503 for 3, no response for 2, up again.
    const s = await scripted((n) => (n <= 3 ? 200 : n <= 6 ? 503 : n <= 8 ? 'drop' : 200));
    const closed: StatusWindow[] = [];
    const { targets } = parseHttpCheckConfig([{ url: `${s.url}/health`, timeout: 2 }]);
    const report = await watchTargets(targets, { intervalMs: 40, durationMs: 1200, onWindow: (w) => closed.push(w) });

    const [t] = report.targets;
    expect(t!.probes).toBeGreaterThanOrEqual(9);
    expect(t!.failed_probes).toBe(5);
    expect(report.windows.map((w) => [w.status, w.status_code])).toEqual([
      [true, '200'],
      [false, '503'],
      [false, NO_RESPONSE_CODE],
      [true, '200'],
    ]);
    for (const w of report.windows) {
      expect(Object.keys(w).sort()).toEqual(['duration', 'end_timestamp', 'start_timestamp', 'status', 'status_code', 'url']);
      expect(typeof w.status_code).toBe('string');
      expect(w.url).toBe(`${s.url}/health`);
    }
    expectContiguous(report.windows, report);
    expect(t!.downtime_seconds).toBeCloseTo(report.windows[1]!.duration + report.windows[2]!.duration, 3);
    expect(t!.downtime_seconds).toBeGreaterThan(0);
    // onWindow saw each window as it closed, the last one at the end.
    expect(closed).toEqual(report.windows);
    expect(report.stopped).toBe(false);
  });

  it('keeps one window for a target that never changes, spanning the whole watch', async () => {
    const up = await scripted(() => 200);
    const down = await scripted(() => 500);
    const { targets } = parseHttpCheckConfig([{ url: up.url }, { url: down.url }]);
    const report = await watchTargets(targets, { intervalMs: 50, durationMs: 300 });
    expect(report.targets.map((t) => t.windows.length)).toEqual([1, 1]);
    expect(report.targets[0]!.downtime_seconds).toBe(0);
    const [downWindow] = report.targets[1]!.windows;
    expect(downWindow).toMatchObject({ status: false, status_code: '500' });
    expect(report.targets[1]!.downtime_seconds).toBe(downWindow!.duration);
    // It lasted until the end of the duration, not just until the last probe.
    expect(Date.parse(report.end_timestamp) - Date.parse(report.start_timestamp)).toBeGreaterThanOrEqual(300);
  });

  it('stops early on its signal, closing the open windows at that moment', async () => {
    const s = await scripted(() => 200);
    const { targets } = parseHttpCheckConfig([{ url: s.url }]);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 150);
    const report = await watchTargets(targets, { intervalMs: 20, durationMs: 60_000, signal: controller.signal });
    expect(report.stopped).toBe(true);
    expect(report.windows).toHaveLength(1);
    expect(report.windows[0]!.end_timestamp).toBe(report.end_timestamp);
    expect(seconds(report.end_timestamp) - seconds(report.start_timestamp)).toBeLessThan(30);
  });
});

describe('a watching run as a check (health_checks with duration)', () => {
  it('is degraded with downtime when a target flapped, healthy when none did', async () => {
    const flapping = await scripted((n) => (n === 2 ? 502 : 200));
    const steady = await scripted(() => 200);
    const flapped = await runHttp(parseHttpCheckConfig({ interval: 0.04, duration: 0.4, config: [{ url: flapping.url }, { url: steady.url }] }));
    expect(flapped.state).toBe('degraded');
    const [ft, st] = flapped.details!.targets as Record<string, any>[];
    expect(ft).toMatchObject({ url: `${flapping.url}/`, ok: false, failed_probes: 1 });
    expect(ft!.windows.map((w: StatusWindow) => w.status_code)).toEqual(['200', '502', '200']);
    expect(ft!.downtime_seconds).toBe(ft!.windows[1].duration);
    expect(st).toMatchObject({ ok: true, failed_probes: 0, downtime_seconds: 0 });
    expect(flapped.details!.summary).toMatchObject({ total: 2, with_downtime: 1, interval_seconds: 0.04, duration_seconds: 0.4 });

    const healthy = await runHttp(parseHttpCheckConfig({ interval: 0.05, duration: 0.2, config: [{ url: steady.url }] }));
    expect(healthy.state).toBe('healthy');
  });

  it('is unhealthy when every probe of every target failed', async () => {
    const down = await scripted(() => 503);
    const result = await runHttp(parseHttpCheckConfig({ interval: 0.05, duration: 0.2, config: [{ url: down.url }] }));
    expect(result.state).toBe('unhealthy');
  });

  it('rejects with the abort reason when the run is cancelled', async () => {
    const s = await scripted(() => 200);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort(new Error('run cancelled'));
    }, 50);
    await expect(runHttp(parseHttpCheckConfig({ interval: 0.02, duration: 60, config: [{ url: s.url }] }), { signal: controller.signal })).rejects.toThrow(
      'run cancelled',
    );
  });

  it('refuses a bad interval or duration naming the field', () => {
    expect(() => parseHttpCheckConfig({ interval: 0, duration: 'long', config: [{ url: 'http://x/' }] })).toThrow(
      /health_checks\.interval: must be a number of seconds above 0[^\n]*\nhealth_checks\.duration: must be a number of seconds above 0/,
    );
  });
});

describe('secrets in a watching run', () => {
  it('never puts tokens, passwords or secret query values in windows, details or the report', async () => {
    const s = await scripted((n) => (n % 2 === 0 ? 401 : 200));
    const raw = {
      interval: 0.03,
      duration: 0.3,
      config: [
        { url: `${s.url}/a?api_key=qk-999`, bearer_token: 'tok-SECRET-1' },
        { url: s.url.replace('http://', 'http://admin:pw-SECRET-2@'), headers: { 'X-Auth-Token': 'hdr-SECRET-3' } },
      ],
    };
    const config = parseHttpCheckConfig(raw);
    const report = await watchTargets(config.targets, { intervalMs: 30, durationMs: 300 });
    const result = await runHttp(config);
    const text = JSON.stringify([report, result]);
    for (const secret of ['tok-SECRET-1', 'pw-SECRET-2', 'hdr-SECRET-3', 'qk-999']) expect(text).not.toContain(secret);
    expect(report.windows[0]!.url).toBe(`${s.url}/a?api_key=REDACTED`);
    expect(s.requests.some((r) => r.headers.authorization === 'Bearer tok-SECRET-1')).toBe(true);
  });
});

describe('watchResult', () => {
  it('leaves out the oldest windows first to fit health-status.yaml, and counts them', () => {
    const windows: StatusWindow[] = Array.from({ length: 400 }, (_, i) => ({
      url: 'http://h/',
      status: i % 2 === 0,
      status_code: i % 2 === 0 ? '200' : '503',
      start_timestamp: new Date(i * 1000).toISOString(),
      end_timestamp: new Date((i + 1) * 1000).toISOString(),
      duration: 1,
    }));
    const report: WatchReport = {
      start_timestamp: windows[0]!.start_timestamp,
      end_timestamp: windows.at(-1)!.end_timestamp,
      targets: [{ url: 'http://h/', probes: 400, failed_probes: 200, downtime_seconds: 200, windows }],
      windows,
      stopped: false,
    };
    const result = watchResult(report, { intervalMs: 1000, durationMs: 400_000 }, 4000);
    const [t] = result.details!.targets as Record<string, any>[];
    expect(t!.windows_omitted).toBeGreaterThan(0);
    expect((t!.windows as unknown[]).length + (t!.windows_omitted as number)).toBe(400);
    expect(t!.windows.at(-1).end_timestamp).toBe(windows.at(-1)!.end_timestamp);
    expect(t!.downtime_seconds).toBe(200);
  });
});

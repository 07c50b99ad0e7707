/**
 * `vigil watch` as a real process against a real, flapping HTTP server: exit codes 0, 3
 * and 2, the telemetry report, Krkn's signal API and STOP ending the watch.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, vigil } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import type { WatchTelemetry } from '../../agent/src/watch/report.js';

/** `/up` always answers 200; `/flap` answers 503 from `downFrom` to `downUntil` ms after its first request. */
let server: Server;
let base: string;
const flap = { first: 0, downFrom: 300, downUntil: 1300, requests: 0, lastAuth: '' };
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/flap') {
      flap.requests++;
      flap.lastAuth = req.headers.authorization ?? '';
      flap.first ||= Date.now();
      const t = Date.now() - flap.first;
      const down = t >= flap.downFrom && t < flap.downUntil;
      res.writeHead(down ? 503 : 200).end(down ? 'down' : 'ok');
      return;
    }
    res.writeHead(req.url === '/up' ? 200 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function config(targets: Record<string, unknown>[], extra = ''): string {
  const file = join(tempDir(), 'krkn.yaml');
  writeFileSync(file, [
    'kraken:',
    '  signal_state: RUN',
    '  publish_kraken_status: True',
    'tunings: {wait_duration: 1}',
    'health_checks:',
    '  interval: 0.1',
    '  config:',
    ...targets.map((t) => `    - ${JSON.stringify(t)}`),
    extra,
    '',
  ].join('\n'));
  return file;
}

function resetFlap(): void {
  flap.first = 0;
  flap.requests = 0;
}

describe('vigil watch', () => {
  it('exits 0 when every target stayed up, with one up window per target', async () => {
    const file = config([{ url: `${base}/up` }]);
    const r = await vigil(['watch', '-c', file, '--duration', '1', '--signal-listen', '127.0.0.1:0']);
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout) as WatchTelemetry;
    expect(t.summary).toMatchObject({ exit_code: 0, ended_by: 'duration', targets: 1, interval_seconds: 0.1 });
    expect(t.health_checks).toEqual([expect.objectContaining({ url: `${base}/up`, status: true, status_code: '200' })]);
    expect(t.targets[0]!.probes).toBeGreaterThan(1);
  });

  it('exits 3 when a target with exit_on_failure went down; the report has its down window and the token never appears', async () => {
    resetFlap();
    const file = config([{ url: `${base}/up` }, { url: `${base}/flap`, exit_on_failure: true, bearer_token: 'tok-very-secret-1234' }]);
    const r = await vigil(['watch', '-c', file, '--duration', '2', '--signal-listen', 'off']);
    expect(r.code).toBe(3);
    const t = JSON.parse(r.stdout) as WatchTelemetry;
    expect(t.summary.exit_reason).toBe(`failure on ${base}/flap (exit_on_failure)`);
    const windows = t.targets[1]!.windows;
    expect(windows.map((w) => [w.status, w.status_code])).toEqual([[true, '200'], [false, '503'], [true, '200']]);
    expect(t.targets[1]!.downtime_seconds).toBeGreaterThan(0);
    expect(t.health_checks.filter((w) => w.url === `${base}/flap`)).toEqual(windows);
    expect(flap.lastAuth).toBe('Bearer tok-very-secret-1234');
    expect(r.stdout + r.stderr).not.toContain('tok-very-secret-1234');
  });

  it('exits 2 when a target was down longer than --critical-downtime, 0 with a larger threshold', async () => {
    resetFlap();
    const file = config([{ url: `${base}/flap` }]);
    const r = await vigil(['watch', '-c', file, '--duration', '2', '--critical-downtime', '300ms', '--signal-listen', 'off']);
    expect(r.code).toBe(2);
    const t = JSON.parse(r.stdout) as WatchTelemetry;
    expect(t.summary.exit_reason).toMatch(new RegExp(`^critical: ${base}/flap down for [\\d.]+s \\(over 0.3s\\)$`));
    expect(t.targets[0]!.longest_downtime_seconds).toBeGreaterThan(0.3);

    resetFlap();
    const r2 = await vigil(['watch', '-c', file, '--duration', '2', '--critical-downtime', '1h', '--signal-listen', 'off']);
    expect(r2.code).toBe(0);
    expect((JSON.parse(r2.stdout) as WatchTelemetry).summary.exit_reason).toBe('failures on targets without exit_on_failure only');
  });

  it("serves Krkn's signal API while watching; POST /STOP ends the watch with its report", async () => {
    const file = config([{ url: `${base}/up` }]);
    const child = spawn(process.execPath, [CLI, 'watch', '-c', file, '--signal-listen', '127.0.0.1:0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      await waitFor(() => /"msg":"signal listener up/.test(stderr), 'the signal listener', 20_000);
      const url = /"url":"(http:\/\/[^"]+)"[^\n]*signal listener up/.exec(stderr)![1]!;
      const get = await fetch(`${url}/`);
      expect(await get.text()).toBe('RUN');
      expect((await fetch(`${url}/PAUSE`, { method: 'POST' })).status).toBe(200);
      expect(await (await fetch(`${url}/`)).text()).toBe('PAUSE');
      await new Promise((r) => setTimeout(r, 300));
      expect((await fetch(`${url}/STOP`, { method: 'POST', body: '{}' })).status).toBe(200);
      expect(await exited).toBe(0);
      const t = JSON.parse(stdout) as WatchTelemetry;
      expect(t.summary).toMatchObject({ ended_by: 'STOP', exit_code: 0 });
      expect(t.health_checks[0]).toMatchObject({ url: `${base}/up`, status: true });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('SIGTERM ends the watch early and still prints the report', async () => {
    const file = config([{ url: `${base}/up` }]);
    const child = spawn(process.execPath, [CLI, 'watch', '-c', file, '--duration', '1h', '--signal-listen', 'off'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor(() => stderr.includes('"msg":"watch started"'), 'the watch', 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((JSON.parse(stdout) as WatchTelemetry).summary.ended_by).toBe('SIGTERM');
  });

  it('exits 1 naming the fields of a bad config', async () => {
    const file = config([{ url: 'ftp://nowhere' }], 'kubevirt_checks: {namespace: vms, timeout: -1}');
    const r = await vigil(['watch', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('health_checks.config[0].url');
    expect(r.stderr).toContain('kubevirt_checks.timeout: must be a number of seconds above 0');
    const missing = await vigil(['watch', '-c', '/nonexistent.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/nonexistent.yaml: no such file');
    const badFlag = await vigil(['watch', '-c', file, '--duration', 'soon']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain("option '--duration <time>' argument 'soon' is invalid");
  });

  it('names --signal-listen when its port is taken', async () => {
    const file = config([{ url: `${base}/up` }]);
    const port = new URL(base).port;
    const r = await vigil(['watch', '-c', file, '--duration', '1', '--signal-listen', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`vigil: --signal-listen 127.0.0.1:${port}: cannot listen (EADDRINUSE); choose another host:port, or off`);
  });

  it('refuses a signal listener off loopback without a token', async () => {
    const file = config([{ url: `${base}/up` }]);
    const r = await vigil(['watch', '-c', file, '--duration', '1', '--signal-listen', '0.0.0.0:0'], { env: { VIGIL_TOKEN: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a loopback address and no token is set/);
  });
});

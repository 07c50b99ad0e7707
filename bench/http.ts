/**
 * HTTP probe benchmark: probes per second of vigil's in-process HTTP check (the code the
 * `http` plugin and the check-http image run: runHttpCheck over one target, a new
 * connection per probe) against Prometheus' blackbox_exporter doing the same probes
 * through `/probe?module=http_2xx&target=...`, in the same run, against the same local
 * endpoint. Target: vigil >= 2x blackbox_exporter.
 *
 * The endpoint is a plain Node HTTP server in a child process (200 "ok"), so that it
 * does not share an event loop with the prober. blackbox_exporter is Debian's
 * /usr/bin/prometheus-blackbox-exporter, started on a loopback port with a temporary
 * config; the benchmark's requests to it reuse connections (keep-alive), so what is
 * measured is its probing, which opens a new connection to the endpoint each time.
 * Without the exporter only vigil's figure is reported, and why.
 *
 * `npm run bench:http [-- --runs N] [-- --probes N] [-- --concurrency N] [-- --no-write]`:
 * prints every run and the medians, and writes the "## HTTP probes" section of
 * docs/benchmarks.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseHttpCheckConfig, runHttpCheck } from '../check-images/http/src/check.js';
import { randomUUID } from 'node:crypto';
import type { HealthDefinition } from '../agent/src/core/model.js';
import { mapOutcome } from '../agent/src/core/result.js';
import { silentLogger } from '../agent/src/logging/logger.js';
import { packageRoot } from '../agent/src/paths.js';
import { discoverPlugins } from '../agent/src/plugins/discovery.js';
import { LocalRuntime } from '../agent/src/runtimes/LocalRuntime.js';
import { argValue } from './support/args.js';
import { markdownTable, replaceSection, textTable } from './support/markdown.js';
import { median } from './support/stats.js';

const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const TARGET_RATIO = 2;
const SECTION = 'HTTP probes (`npm run bench:http`)';

const RUNS = argValue('--runs', 5);
const PROBES = argValue('--probes', 2000);
const CONCURRENCY = argValue('--concurrency', 4);
const WARMUP = Math.min(200, PROBES);
/** Whole check runs through the local runtime, in-process and as a process, per benchmark run. */
const RUNTIME_RUNS = argValue('--runtime-runs', 100);
const WRITE = !process.argv.includes('--no-write');

/** Runs `count` calls of `once` with `concurrency` in flight; returns calls per second. */
async function throughput(count: number, concurrency: number, once: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        await once();
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** The endpoint: a Node HTTP server in a child process; resolves with its URL. */
async function startEndpoint(): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    const http = require('node:http');
    const server = http.createServer((req, res) => { res.writeHead(200, {'content-type': 'text/plain'}); res.end('ok'); });
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => {
      resolve(chunk.toString().trim());
    });
    child.once('exit', (code) => {
      reject(new Error(`endpoint exited with ${code}`));
    });
  });
  return { url: `http://127.0.0.1:${port}/`, child };
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => {
    resolve();
  }));
  return port;
}

function get(url: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      })
      .on('error', reject);
  });
}

/** Starts blackbox_exporter with a temporary http_2xx module; resolves once /-/healthy answers. */
async function startBlackbox(dir: string): Promise<{ base: string; child: ChildProcess }> {
  const config = join(dir, 'blackbox.yml');
  writeFileSync(config, 'modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n');
  const port = await freePort();
  const child = spawn(BLACKBOX, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await get(`${base}/-/healthy`, agent)).status === 200) return { base, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('blackbox_exporter did not become healthy within 10 s');
}

interface RunFigures {
  vigil: number;
  blackbox?: number;
  /** Whole runs per second through LocalRuntime: the HTTP check image in-process (plugin) and as a process (image mapping). */
  runtimePlugin: number;
  runtimeProcess: number;
}

/** A definition running the HTTP check image against `url`. */
function httpDefinition(url: string): HealthDefinition {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name: 'bench-http', namespace: 'default' },
    spec: {
      promiseRef: { name: 'bench' },
      schedule: '@hourly',
      input: `health_checks:\n  config:\n  - url: ${url}\n    body_contains: ok\n`,
      workflow: {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'healthcheck' },
        spec: { containers: [{ name: 'http', image: 'ghcr.io/vigil-health/check-http:v0.1.0' }] },
      },
    },
  };
}

async function main(): Promise<void> {
  const endpoint = await startEndpoint();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-http-'));
  const haveBlackbox = existsSync(BLACKBOX);
  const blackbox = haveBlackbox ? await startBlackbox(dir) : undefined;
  const config = parseHttpCheckConfig([{ url: endpoint.url, body_contains: 'ok' }]);
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const probeUrl = blackbox ? `${blackbox.base}/probe?module=http_2xx&target=${encodeURIComponent(endpoint.url)}` : '';

  const vigilOnce = async (): Promise<void> => {
    const result = await runHttpCheck(config);
    if (result.state !== 'healthy') throw new Error(`vigil probe failed: ${JSON.stringify(result.details)}`);
  };
  const blackboxOnce = async (): Promise<void> => {
    const { status, body } = await get(probeUrl, keepAlive);
    if (status !== 200 || !body.includes('probe_success 1')) throw new Error(`blackbox probe failed (${status})`);
  };

  const registry = await discoverPlugins();
  const definition = httpDefinition(endpoint.url);
  const inProcess = new LocalRuntime({ containerEngine: 'none', plugins: registry });
  const asProcess = new LocalRuntime({ containerEngine: 'none' });
  const runOnce = (runtime: LocalRuntime, via: string) => async (): Promise<void> => {
    const outcome = await runtime.run({ runId: randomUUID(), definition, timeoutMs: 30_000, logger: silentLogger() });
    const result = mapOutcome(outcome);
    if (result.state !== 'healthy' || outcome.containers[0]?.via !== via) throw new Error(`runtime run failed: ${JSON.stringify(result)}`);
  };
  const runs: RunFigures[] = [];
  try {
    await throughput(10, CONCURRENCY, runOnce(inProcess, 'plugin'));
    await throughput(4, CONCURRENCY, runOnce(asProcess, 'process'));
    await throughput(WARMUP, CONCURRENCY, vigilOnce);
    if (blackbox) await throughput(WARMUP, CONCURRENCY, blackboxOnce);
    for (let run = 0; run < RUNS; run++) {
      // Alternate which goes first, so that neither always gets the warmer machine.
      const figures: RunFigures = { vigil: 0, runtimePlugin: 0, runtimeProcess: 0 };
      const order = run % 2 === 0 ? ['vigil', 'blackbox'] : ['blackbox', 'vigil'];
      for (const which of order) {
        if (which === 'vigil') figures.vigil = await throughput(PROBES, CONCURRENCY, vigilOnce);
        else if (blackbox) figures.blackbox = await throughput(PROBES, CONCURRENCY, blackboxOnce);
      }
      figures.runtimePlugin = await throughput(RUNTIME_RUNS, CONCURRENCY, runOnce(inProcess, 'plugin'));
      figures.runtimeProcess = await throughput(Math.max(4, Math.round(RUNTIME_RUNS / 5)), CONCURRENCY, runOnce(asProcess, 'process'));
      runs.push(figures);
      const ratio = figures.blackbox ? ` ratio ${(figures.vigil / figures.blackbox).toFixed(2)}x` : '';
      console.log(`run ${run + 1}/${RUNS}: vigil ${figures.vigil.toFixed(0)} probes/s${figures.blackbox ? `, blackbox_exporter ${figures.blackbox.toFixed(0)} probes/s` : ''}${ratio}; runtime runs/s in-process ${figures.runtimePlugin.toFixed(0)}, as a process ${figures.runtimeProcess.toFixed(1)}`);
    }
  } finally {
    await inProcess.close();
    await asProcess.close();
    keepAlive.destroy();
    blackbox?.child.kill();
    endpoint.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  report(runs, haveBlackbox);
}

function report(runs: RunFigures[], haveBlackbox: boolean): void {
  const vigil = median(runs.map((r) => r.vigil));
  const bb = haveBlackbox ? median(runs.map((r) => r.blackbox!)) : Number.NaN;
  const ratios = haveBlackbox ? runs.map((r) => r.vigil / r.blackbox!) : [];
  const ratio = median(ratios);
  const header = ['prober', 'probes/s (median)', 'min', 'max'];
  const row = (name: string, values: number[]): string[] => [name, median(values).toFixed(0), Math.min(...values).toFixed(0), Math.max(...values).toFixed(0)];
  const rows = [row('vigil in-process HTTP check (runHttpCheck, agent: false)', runs.map((r) => r.vigil))];
  if (haveBlackbox) rows.push(row('blackbox_exporter /probe?module=http_2xx', runs.map((r) => r.blackbox!)));
  console.log(`\n${textTable(header, rows)}`);
  const verdict = haveBlackbox
    ? `median ratio ${ratio.toFixed(2)}x (per-run ${ratios.map((x) => x.toFixed(2)).join(', ')}): target ${TARGET_RATIO}x ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`
    : `${BLACKBOX} is not installed: no comparison (vigil alone: ${vigil.toFixed(0)} probes/s)`;
  console.log(verdict);
  const plugin = median(runs.map((r) => r.runtimePlugin));
  const proc = median(runs.map((r) => r.runtimeProcess));
  const runtimeLine = `whole check runs through the local runtime (run directory, input, check, health-status.yaml, mapping), ${CONCURRENCY} in flight: in-process plugin ${plugin.toFixed(0)} runs/s, image mapped to a node process ${proc.toFixed(1)} runs/s (${(plugin / proc).toFixed(0)}x)`;
  console.log(runtimeLine);
  if (!WRITE) return;
  const version = haveBlackbox ? blackboxVersion() : 'not installed';
  const body = [
    `Probes per second against one local endpoint (a Node HTTP server in a child process answering 200 "ok"; nginx is not installed here),`,
    `${PROBES} probes per prober per run with ${CONCURRENCY} in flight, after ${WARMUP} warm-up probes each; median of ${runs.length} runs,`,
    'the two probers alternating which goes first. Every probe opens a new connection to the endpoint: vigil with',
    '`agent: false`, blackbox_exporter by design; the benchmark reuses its connections to the exporter.',
    `vigil's figure is \`runHttpCheck\` over a one-target config (request, body check, state and details), the code`,
    'the in-process `http` plugin runs. Target: vigil >= 2x blackbox_exporter.',
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}; blackbox_exporter ${version}.`,
    'Measured while other engineers were building and testing on the same two cores: the figures are noisy,',
    'the ratio (both probers measured in the same minutes) is the steadier number.',
    '',
    markdownTable(header, rows),
    '',
    `- ${verdict}.`,
    `- vigil ${vigil.toFixed(0)} probes/s${haveBlackbox ? `; blackbox_exporter ${bb.toFixed(0)} probes/s` : ''}.`,
    `- ${runtimeLine.charAt(0).toUpperCase()}${runtimeLine.slice(1)}; median of ${runs.length} runs of ${RUNTIME_RUNS} and ${Math.max(4, Math.round(RUNTIME_RUNS / 5))} runs.`,
  ].join('\n');
  const file = join(packageRoot(), 'docs', 'benchmarks.md');
  const doc = readFileSync(file, 'utf8');
  const updated = doc.split('\n').some((l) => l.startsWith(`## ${SECTION}`)) ? replaceSection(doc, SECTION, body) : `${doc.trimEnd()}\n\n## ${SECTION}\n\n${body}\n`;
  writeFileSync(file, updated);
  console.log(`wrote the "${SECTION}" section of ${file}`);
}

function blackboxVersion(): string {
  const r = spawnSync(BLACKBOX, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown version';
}

await main();

/**
 * Benchmark: how long the real agent path takes to load 100,000 HealthDefinitions from a
 * directory (read, YAML, CRD validation, schedule parsing, scheduling) and what it holds.
 * Each run is a fresh child process; the parent writes the medians to the "Directory load"
 * section of docs/benchmarks.md.
 *
 *   npm run bench:load                 3 runs, writes docs/benchmarks.md
 *   npm run bench:load -- --runs 1 --no-write
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectorySource } from '../agent/src/sources/DirectorySource.js';
import { getDefinitionValidator } from '../agent/src/crds.js';
import { silentLogger } from '../agent/src/logging/logger.js';
import { parseSchedule } from '../agent/src/core/schedule/index.js';
import { Scheduler } from '../agent/src/scheduler/Scheduler.js';
import { packageRoot } from '../agent/src/paths.js';
import { argValue } from './support/args.js';
import { markdownTable, replaceSection } from './support/markdown.js';
import { median } from './support/stats.js';

const DEFINITIONS = 100_000;
const PER_FILE = 1_000;
const SCHEDULES = ['* * * * *', '*/5 * * * *', '@hourly', '0 3 * * *'];

interface Result {
  loadMs: number;
  scheduleMs: number;
  rssMb: number;
  heapMb: number;
  definitions: number;
}

/** One realistic definition, as a Promise pipeline would emit it. */
function definitionYaml(n: number): string {
  const ns = `team-${n % 20}`;
  return [
    'apiVersion: platform.kratix.io/v1alpha1',
    'kind: HealthDefinition',
    'metadata:',
    `  name: web-app-${n}`,
    `  namespace: ${ns}`,
    'spec:',
    '  promiseRef: {name: web-app}',
    `  resourceRef: {name: app-${n}, namespace: ${ns}}`,
    `  schedule: "${SCHEDULES[n % SCHEDULES.length]!}"`,
    '  input: |',
    '    apiVersion: example.kratix.io/v1alpha1',
    '    kind: WebApp',
    `    metadata: {name: app-${n}, namespace: ${ns}}`,
    `    spec: {image: nginx, replicas: 2, host: app-${n}.example.com}`,
    '  workflow:',
    '    apiVersion: platform.kratix.io/v1alpha1',
    '    kind: Pipeline',
    '    metadata: {name: healthcheck}',
    '    spec:',
    '      containers:',
    '      - name: http',
    '        image: ghcr.io/vigil-health/check-http:v0.1.0',
    `        env: [{name: HTTP_CHECK_URL, value: "http://app-${n}.${ns}.svc/healthz"}]`,
    '',
  ].join('\n');
}

function generate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < DEFINITIONS / PER_FILE; f++) {
    const docs: string[] = [];
    for (let i = 0; i < PER_FILE; i++) docs.push(definitionYaml(f * PER_FILE + i));
    writeFileSync(join(dir, `definitions-${f}.yaml`), docs.join('---\n'));
  }
}

async function child(dir: string): Promise<void> {
  const logger = silentLogger();
  const scheduler = new Scheduler({ clock: { now: () => Date.now() }, logger, onFire: () => undefined });
  const start = performance.now();
  let definitions = 0;
  let scheduleMs = 0;
  const source = new DirectorySource({ paths: [dir], validator: getDefinitionValidator(), logger, watch: false, rescanIntervalMs: 0 });
  await source.start((event) => {
    if (event.type !== 'upsert') return;
    const t = performance.now();
    scheduler.upsert(`${event.definition.metadata.namespace}/${event.definition.metadata.name}`, parseSchedule(event.definition.spec.schedule, event.definition.spec.timeZone));
    scheduleMs += performance.now() - t;
    definitions++;
  });
  const loadMs = performance.now() - start;
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const result: Result = { loadMs, scheduleMs, rssMb: memory.rss / 1e6, heapMb: memory.heapUsed / 1e6, definitions };
  process.stdout.write(JSON.stringify(result));
  await source.stop();
}

function parent(): void {
  const runs = argValue('--runs', 3);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-load-'));
  try {
    generate(dir);
    const results: Result[] = [];
    for (let r = 0; r < runs; r++) {
      const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', dir], { maxBuffer: 1 << 20 });
      results.push(JSON.parse(out.toString()) as Result);
      console.log(`run ${r + 1}: ${JSON.stringify(results.at(-1))}`);
    }
    const m = (f: (r: Result) => number): string => median(results.map(f)).toFixed(0);
    const all = (f: (r: Result) => number): string => results.map((r) => f(r).toFixed(0)).join(' / ');
    const rows = [
      ['Definitions loaded', m((r) => r.definitions), all((r) => r.definitions)],
      ['Ready: read + YAML + validation + scheduling (ms)', m((r) => r.loadMs), all((r) => r.loadMs)],
      ['  of which parseSchedule + scheduler upsert (ms)', m((r) => r.scheduleMs), all((r) => r.scheduleMs)],
      ['RSS when ready, after gc (MB)', m((r) => r.rssMb), all((r) => r.rssMb)],
      ['Heap used when ready, after gc (MB)', m((r) => r.heapMb), all((r) => r.heapMb)],
    ];
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Median of ${runs} runs, each in a fresh process.`,
      '',
      markdownTable(['Measure', `Median of ${runs}`, 'Runs'], rows),
      '',
      `Workload: ${DEFINITIONS.toLocaleString('en')} HealthDefinitions like a Promise pipeline emits them (resourceRef, a YAML input,`,
      `one container with env), ${PER_FILE.toLocaleString('en')} per multi-document file, loaded by the directory source exactly as`,
      '`vigil agent` does: files read, YAML parsed (js-yaml fast path, see core/yaml.ts), each document validated against',
      'the CRD schema, schedule and workflow, then scheduled. The scheduler section above measures the scheduler alone',
      'on definitions already in memory; this one is the whole path from disk, which YAML parsing dominates.',
    ].join('\n');
    console.log(`\n${body}`);
    if (!process.argv.includes('--no-write')) {
      const file = join(packageRoot(), 'docs', 'benchmarks.md');
      writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Directory load', body));
      console.log(`wrote the Directory load section of ${file}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) await child(process.argv[process.argv.indexOf('--child') + 1]!);
else parent();

/**
 * Scheduler benchmark: one agent process holding 100,000 HealthDefinitions.
 *
 * Run with `npm run bench:scheduler [-- --runs N] [-- --no-write]`. Each run is a fresh child
 * process (node --expose-gc) that measures, in order:
 *   1. ready: parseSchedule + upsert of 100k parsed definitions, then RSS and heap after gc;
 *   2. firing: 120 s of real firing (the first 30 s of each minute carry ~1,150 fires/s with
 *      the default 30 s spread): lateness, expected vs delivered fires;
 *   3. idle: every key re-planned to a yearly schedule, CPU over 45 s with nothing due
 *      (the first 30 s include the GC of earlier phases; the last 30 s are the steady state);
 *   4. burst: 100k `* * * * *` with spread 0, all due in the same millisecond.
 * The parent prints every run and the medians, and writes the medians to the "## Scheduler"
 * section of docs/benchmarks.md.
 *
 * The scheduler's clock is the system clock shifted by a constant, so that each phase starts
 * just before a minute boundary without waiting for one; timers are the real ones.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../agent/src/core/interfaces.js';
import { API_VERSION, HEALTH_DEFINITION_KIND, definitionKey, type HealthDefinition } from '../agent/src/core/model.js';
import { parseSchedule, type Schedule } from '../agent/src/core/schedule/index.js';
import { silentLogger } from '../agent/src/logging/logger.js';
import { packageRoot } from '../agent/src/paths.js';
import { RunQueue } from '../agent/src/scheduler/RunQueue.js';
import { Scheduler, type Fire, type Timers } from '../agent/src/scheduler/Scheduler.js';
import { markdownTable, replaceSection, textTable } from './support/markdown.js';
import { max, median, percentile, sum } from './support/stats.js';

const DEFINITIONS = 100_000;
const MINUTE = 60_000;
const FIRING_WINDOW_MS = 2 * MINUTE;
const IDLE_WINDOW_MS = 30_000;
const IDLE_SLICE_MS = 5_000;
/** 45 s of quiet: a first 30 s window and a last (settled) 30 s window. */
const IDLE_SLICES = 9;
const SPREAD_MS = 30_000;
const MB = 1024 * 1024;

/** Phases 1 and 2: ready, memory and real firing. */
interface FiringResult {
  readyMs: number;
  rssMb: number;
  heapMb: number;
  /** Memory of the Scheduler itself for 100k keys: heap plus typed arrays. */
  schedulerMb: number;
  fireRatePeakPerS: number;
  fireRateMeanPerS: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateMaxMs: number;
  expectedFires: number;
  deliveredFires: number;
  missedFires: number;
  /** Fires beyond what the schedules call for (a slot fired twice). */
  extraFires: number;
  collapsedSlots: number;
  forbidSkips: number;
}

/** Phase 3: quiet. */
interface IdleResult {
  /** CPU over the first 30 s of quiet, including the GC of the previous phases' garbage. */
  idleCpuFirstPct: number;
  /** CPU over the last 30 s of 45 s of quiet (steady state). */
  idleCpuPct: number;
  /** Timer wake-ups over the whole quiet period. */
  idleWakeUps: number;
}

/** Phase 4: everything due at once. */
interface BurstResult {
  burstLateP50Ms: number;
  burstLateP99Ms: number;
  burstLateMaxMs: number;
  burstDispatchMs: number;
}

/** Everything one run measures. */
interface RunResult extends FiringResult, IdleResult, BurstResult {
  /** 1-minute load average when the run started (the machine may be shared). */
  loadAverage: number;
}

interface Machine {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
}

// ------------------------------------------------------------------ workload

/**
 * The schedule of definition `i`: 30% every minute, 20% every 5 minutes (5 phases), 30%
 * hourly (every minute of the hour), 20% daily (every minute of the day, a quarter of
 * them in Europe/Berlin).
 */
function scheduleOf(i: number): { schedule: string; timeZone?: string } {
  const group = i % 10;
  const j = Math.floor(i / 10);
  if (group < 3) return { schedule: '* * * * *' };
  if (group < 5) return { schedule: j % 5 === 0 ? '*/5 * * * *' : `${j % 5}-59/5 * * * *` };
  if (group < 8) return { schedule: j % 60 === 0 ? '@hourly' : `${j % 60} * * * *` };
  const daily = j % 1440 === 0 ? '@daily' : `${j % 60} ${Math.floor(j / 60) % 24} * * *`;
  return j % 4 === 0 ? { schedule: daily, timeZone: 'Europe/Berlin' } : { schedule: daily };
}

const PROMISES = ['redis', 'postgresql', 'http-endpoint', 's3-bucket'] as const;

/**
 * Builds the definitions as a Kubernetes watch delivers them: each one JSON.parse'd from
 * its own text, so no string or object is shared between definitions.
 */
function buildDefinitions(count: number): HealthDefinition[] {
  const definitions: HealthDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = `team-${i % 200}`;
    const app = `app-${String(i).padStart(6, '0')}`;
    const promise = PROMISES[i % PROMISES.length]!;
    const url = `https://${app}.${namespace}.svc.cluster.local:8443/healthz`;
    const { schedule, timeZone } = scheduleOf(i);
    const definition: HealthDefinition = {
      apiVersion: API_VERSION,
      kind: HEALTH_DEFINITION_KIND,
      metadata: { name: `${promise}-${app}`, namespace },
      spec: {
        promiseRef: { name: promise },
        resourceRef: { name: app, namespace },
        schedule,
        ...(timeZone === undefined ? {} : { timeZone }),
        input: `name: ${app}\nnamespace: ${namespace}\nurl: ${url}\nexpectStatus: 200\n`,
        workflow: {
          apiVersion: 'platform.kratix.io/v1alpha1',
          kind: 'Pipeline',
          metadata: { name: 'health' },
          spec: {
            containers: [
              {
                name: 'check',
                image: `ghcr.io/vigil/check-${promise}:0.1.0`,
                command: ['node', '/check/main.js', '--input', '/kratix/input/object.yaml'],
                env: [
                  { name: 'TARGET_URL', value: url },
                  { name: 'TIMEOUT_SECONDS', value: '10' },
                ],
              },
            ],
          },
        },
      },
    };
    definitions.push(JSON.parse(JSON.stringify(definition)) as HealthDefinition);
  }
  return definitions;
}

// ------------------------------------------------------------------ helpers

function gc(): void {
  if (!globalThis.gc) throw new Error('run with node --expose-gc (npm run bench:scheduler does)');
  globalThis.gc();
  globalThis.gc();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function progress(message: string): void {
  process.stderr.write(`[bench:scheduler] ${message}\n`);
}

/** The system clock shifted so that it reads `target` now. */
function shiftedClock(target: number): Clock {
  const shift = target - Date.now();
  return { now: () => Date.now() + shift };
}

/** Real timers that count how often the scheduler's timer callback runs. */
function countingTimers(): Timers & { wakeUps: number } {
  const timers = {
    wakeUps: 0,
    setTimeout: (callback: () => void, ms: number): unknown =>
      setTimeout(() => {
        timers.wakeUps++;
        callback();
      }, ms),
    clearTimeout: (handle: unknown) => {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
  return timers;
}

function ceilToMinute(t: number): number {
  return Math.ceil(t / MINUTE) * MINUTE;
}

/** How many fires of `schedule` (plus `offset`) have scheduledAt in [from, to). */
function firesBetween(schedule: Schedule, offset: number, from: number, to: number): number {
  let count = 0;
  // Slots are minute-aligned integers: next(x - 1) is the first slot >= x.
  for (let t = schedule.next(from - offset - 1); t !== undefined && t + offset < to; t = schedule.next(t)) count++;
  return count;
}

// ------------------------------------------------------------------ one run

interface Registered {
  definitions: HealthDefinition[];
  keys: string[];
  /** Index of each key in `definitions`. */
  indexOf: Map<string, number>;
}

/** Records the fires whose scheduledAt falls in the window [windowStart, windowEnd), once opened. */
class FireRecorder {
  readonly lateness: number[] = [];
  readonly perSecond = new Map<number, number>();
  readonly deliveredPerKey: Uint16Array;
  collapsedSlots = 0;
  private windowStart = Number.POSITIVE_INFINITY;
  private windowEnd = Number.NEGATIVE_INFINITY;

  constructor(keys: number) {
    this.deliveredPerKey = new Uint16Array(keys);
  }

  open(windowStart: number, windowEnd: number): void {
    this.windowStart = windowStart;
    this.windowEnd = windowEnd;
  }

  record(index: number, fire: Fire): void {
    if (fire.scheduledAt < this.windowStart || fire.scheduledAt >= this.windowEnd) return;
    this.lateness.push(fire.lateMs);
    this.collapsedSlots += fire.missed;
    this.deliveredPerKey[index]!++;
    const second = Math.floor(fire.scheduledAt / 1_000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
  }
}

/**
 * The memory a second, identical Scheduler takes once everything is warm (measuring the first
 * one would also count code compiled and flushed meanwhile). Not started; dropped after.
 */
function schedulerFootprintMb({ definitions, keys }: Registered): number {
  const used = () => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const before = used();
  const scheduler = new Scheduler({ clock: systemClock, logger: silentLogger(), onFire: () => undefined });
  for (let i = 0; i < definitions.length; i++) {
    const spec = definitions[i]!.spec;
    scheduler.upsert(keys[i]!, parseSchedule(spec.schedule, spec.timeZone));
  }
  const footprint = (used() - before) / MB;
  if (scheduler.size !== definitions.length) throw new Error('footprint scheduler lost keys');
  return footprint;
}

/** Phases 1 and 2: time to ready and memory, then two minutes of real firing. */
async function readyAndFiring(registered: Registered): Promise<FiringResult> {
  const { definitions, keys, indexOf } = registered;
  // The clock reads 52 s past a minute: nothing is due before the window (all fires of a
  // minute are in its first 30 s), and the window starts without waiting for a real minute.
  const clock = shiftedClock(ceilToMinute(Date.now()) + 52_000);
  const runs = new RunQueue<{ definition: HealthDefinition; fire: Fire }>({ logger: silentLogger(), execute: () => Promise.resolve() });
  const recorder = new FireRecorder(definitions.length);
  let forbidSkips = 0;
  const scheduler = new Scheduler({
    clock,
    logger: silentLogger(),
    spreadMs: SPREAD_MS,
    onFire: (key, fire) => {
      // What an agent does: look the definition up and hand the run over.
      const index = indexOf.get(key)!;
      if (runs.submit(key, { definition: definitions[index]!, fire }) === 'skipped') forbidSkips++;
      recorder.record(index, fire);
    },
  });

  const started = performance.now();
  for (let i = 0; i < definitions.length; i++) {
    const spec = definitions[i]!.spec;
    scheduler.upsert(keys[i]!, parseSchedule(spec.schedule, spec.timeZone), { suspended: spec.suspend === true });
  }
  scheduler.start();
  const readyMs = performance.now() - started;
  gc();
  const memory = process.memoryUsage();
  progress(`ready in ${readyMs.toFixed(0)} ms, rss ${(memory.rss / MB).toFixed(0)} MB`);
  const schedulerMb = schedulerFootprintMb(registered);
  gc(); // drop the footprint scheduler before firing

  const windowStart = ceilToMinute(clock.now() + 2_000);
  const windowEnd = windowStart + FIRING_WINDOW_MS;
  const expectedPerKey = new Uint16Array(definitions.length);
  for (let i = 0; i < definitions.length; i++) {
    const spec = definitions[i]!.spec;
    const schedule = parseSchedule(spec.schedule, spec.timeZone);
    expectedPerKey[i] = firesBetween(schedule, scheduler.offsetFor(keys[i]!, schedule), windowStart, windowEnd);
  }
  recorder.open(windowStart, windowEnd);
  progress(`firing for ${FIRING_WINDOW_MS / 1_000} s`);
  await sleep(windowEnd + 1_000 - clock.now());
  scheduler.stop();
  await runs.drain();

  let expected = 0;
  let missed = 0;
  let extra = 0;
  for (let i = 0; i < definitions.length; i++) {
    const want = expectedPerKey[i]!;
    const got = recorder.deliveredPerKey[i]!;
    expected += want;
    missed += Math.max(0, want - got);
    extra += Math.max(0, got - want);
  }
  const seconds = [...recorder.perSecond.values()];
  return {
    readyMs,
    rssMb: memory.rss / MB,
    heapMb: memory.heapUsed / MB,
    schedulerMb,
    fireRatePeakPerS: max(seconds),
    fireRateMeanPerS: recorder.lateness.length / seconds.length,
    lateP50Ms: percentile(recorder.lateness, 50),
    lateP99Ms: percentile(recorder.lateness, 99),
    lateMaxMs: max(recorder.lateness),
    expectedFires: expected,
    deliveredFires: recorder.lateness.length,
    missedFires: missed,
    extraFires: extra,
    collapsedSlots: recorder.collapsedSlots,
    forbidSkips,
  };
}

/**
 * Phase 3: every key re-planned to a yearly slot months away, then 45 s of quiet in 5 s
 * slices. The first 30 s include V8 collecting the previous phases' garbage (its memory
 * reducer runs a few seconds after allocation stops); the last 30 s are the steady state.
 */
async function idle(keys: string[]): Promise<IdleResult> {
  const yearly = parseSchedule('0 0 1 1 *');
  const clock = shiftedClock(Date.UTC(new Date().getUTCFullYear(), 6, 1));
  const timers = countingTimers();
  const scheduler = new Scheduler({ clock, logger: silentLogger(), onFire: () => undefined, timers });
  for (const key of keys) scheduler.upsert(key, yearly);
  scheduler.start();
  gc();
  progress(`idle for ${IDLE_SLICES * IDLE_SLICE_MS / 1_000} s with ${scheduler.pending} keys pending`);
  const cpuMs: number[] = [];
  const elapsedMs: number[] = [];
  const wakeUpsBefore = timers.wakeUps;
  for (let i = 0; i < IDLE_SLICES; i++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await sleep(IDLE_SLICE_MS);
    const cpu = process.cpuUsage(cpuBefore);
    elapsedMs.push(performance.now() - started);
    cpuMs.push((cpu.user + cpu.system) / 1_000);
  }
  const wakeUps = timers.wakeUps - wakeUpsBefore;
  scheduler.stop();
  const percent = (from: number, to: number) =>
    (sum(cpuMs.slice(from, to)) / sum(elapsedMs.slice(from, to))) * 100;
  const window = IDLE_WINDOW_MS / IDLE_SLICE_MS;
  return {
    idleCpuFirstPct: percent(0, window),
    idleCpuPct: percent(IDLE_SLICES - window, IDLE_SLICES),
    idleWakeUps: wakeUps,
  };
}

/**
 * Phase 4: 100k `* * * * *` with spread 0, all due in the same millisecond. The handler only
 * records the fire, so the figures are the scheduler's own (the RunQueue would add its work
 * between dispatch slices).
 */
async function burst(keys: string[]): Promise<BurstResult> {
  const everyMinute = parseSchedule('* * * * *');
  const clock = shiftedClock(ceilToMinute(Date.now()) + 55_000);
  const lateness = new Float64Array(keys.length);
  let fired = 0;
  let firstAt = 0;
  let lastAt = 0;
  let allFired: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allFired = resolve;
  });
  const scheduler = new Scheduler({
    clock,
    logger: silentLogger(),
    spreadMs: 0,
    onFire: (_key, fire) => {
      if (fired === 0) firstAt = performance.now();
      lateness[fired++] = fire.lateMs;
      if (fired === keys.length) {
        lastAt = performance.now();
        allFired();
      }
    },
  });
  for (const key of keys) scheduler.upsert(key, everyMinute);
  gc();
  scheduler.start();
  progress(`burst: ${keys.length} keys due in the same millisecond`);
  await done;
  scheduler.stop();
  return {
    burstLateP50Ms: percentile(lateness, 50),
    burstLateP99Ms: percentile(lateness, 99),
    burstLateMaxMs: max(lateness),
    burstDispatchMs: lastAt - firstAt,
  };
}

async function measureOnce(): Promise<RunResult> {
  const loadAverage = loadavg()[0] ?? Number.NaN;
  progress(`building ${DEFINITIONS} definitions`);
  const definitions = buildDefinitions(DEFINITIONS);
  const keys = definitions.map((d) => definitionKey(d.metadata));
  const indexOf = new Map(keys.map((key, i) => [key, i]));
  const firing = await readyAndFiring({ definitions, keys, indexOf });
  const quiet = await idle(keys);
  const storm = await burst(keys);
  return { loadAverage, ...firing, ...quiet, ...storm };
}

// ------------------------------------------------------------------ report

interface Row {
  label: string;
  value: (r: RunResult) => number;
  format: (v: number) => string;
  target?: string;
  pass?: (v: number) => boolean;
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
const pct = (v: number) => `${v.toFixed(3)} %`;
const count = (v: number) => Math.round(v).toLocaleString('en-US');

const ROWS: Row[] = [
  { label: 'Load average (1 min) when the run started', value: (r) => r.loadAverage, format: (v) => v.toFixed(2) },
  { label: 'Time to ready (parseSchedule + upsert, 100k)', value: (r) => r.readyMs, format: ms, target: '< 3 s', pass: (v) => v < 3_000 },
  { label: 'RSS after ready (after gc)', value: (r) => r.rssMb, format: (v) => `${v.toFixed(0)} MB`, target: '< 300 MB', pass: (v) => v < 300 },
  { label: 'Heap used after ready (definitions + scheduler)', value: (r) => r.heapMb, format: (v) => `${v.toFixed(0)} MB` },
  { label: 'Scheduler alone, 100k keys (heap + typed arrays)', value: (r) => r.schedulerMb, format: (v) => `${v.toFixed(1)} MB` },
  { label: 'Idle CPU, steady (last 30 s of 45 s quiet, 100k keys)', value: (r) => r.idleCpuPct, format: pct, target: '< 1 %', pass: (v) => v < 1 },
  { label: 'Idle CPU, first 30 s of quiet (incl. GC of earlier phases)', value: (r) => r.idleCpuFirstPct, format: pct, target: '< 1 %', pass: (v) => v < 1 },
  { label: 'Timer wake-ups in 45 s of quiet', value: (r) => r.idleWakeUps, format: count, target: '≤ 1 per minute', pass: (v) => v <= 1 },
  { label: 'Fire rate, busiest second', value: (r) => r.fireRatePeakPerS, format: (v) => `${count(v)}/s`, target: '≈ 1,000/s' },
  { label: 'Fire rate, mean over firing seconds', value: (r) => r.fireRateMeanPerS, format: (v) => `${count(v)}/s` },
  { label: 'Fire lateness p50 (120 s window)', value: (r) => r.lateP50Ms, format: ms },
  { label: 'Fire lateness p99', value: (r) => r.lateP99Ms, format: ms, target: '< 20 ms', pass: (v) => v < 20 },
  { label: 'Fire lateness max', value: (r) => r.lateMaxMs, format: ms },
  { label: 'Fires expected (from the schedules)', value: (r) => r.expectedFires, format: count },
  { label: 'Fires delivered', value: (r) => r.deliveredFires, format: count },
  { label: 'Fires missed', value: (r) => r.missedFires, format: count, target: '0', pass: (v) => v === 0 },
  { label: 'Fires beyond the schedules (duplicates)', value: (r) => r.extraFires, format: count, target: '0', pass: (v) => v === 0 },
  { label: 'Slots collapsed into late fires', value: (r) => r.collapsedSlots, format: count },
  { label: 'Runs skipped by Forbid', value: (r) => r.forbidSkips, format: count },
  { label: 'Burst, spread 0: lateness p50', value: (r) => r.burstLateP50Ms, format: ms },
  { label: 'Burst, spread 0: lateness p99', value: (r) => r.burstLateP99Ms, format: ms },
  { label: 'Burst, spread 0: lateness max', value: (r) => r.burstLateMaxMs, format: ms },
  { label: 'Burst, spread 0: dispatch of 100k fires', value: (r) => r.burstDispatchMs, format: ms },
];

function machine(): Machine {
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
  };
}

function report(results: RunResult[], host: Machine): { text: string; markdown: string } {
  const header = ['Measure', `Median of ${results.length}`, 'Runs', 'Target', 'Result'];
  const rows = ROWS.map((row) => {
    const values = results.map(row.value);
    const mid = median(values);
    const verdict = row.pass ? (row.pass(mid) ? 'met' : 'MISSED') : '';
    return [row.label, row.format(mid), values.map(row.format).join(' / '), row.target ?? '', verdict];
  });
  const hostLine = `${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, Node ${host.node}`;
  const text = `${hostLine}\n\n${textTable(header, rows)}`;
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${hostLine}. Median of ${results.length} runs, each in a fresh process.`,
    '',
    markdownTable(header, rows),
    '',
    'Workload: 100,000 HealthDefinitions held as parsed objects (metadata, promiseRef, resourceRef, a',
    'YAML input, one container with command and env), scheduled with the default 30 s spread: 30% `* * * * *`,',
    '20% every 5 minutes in 5 phases, 30% hourly at every minute of the hour, 20% daily (a quarter in',
    'Europe/Berlin). All fires of a minute fall in its first 30 s, so a minute carries about 30 s of',
    'firing. Each fire is handed to a RunQueue (Forbid, cores × 4) with an empty run. Lateness is',
    '`now - scheduledAt` at dispatch (`Date.now()`, 1 ms resolution) over 120 s (about 60 s of firing);',
    'expected fires are counted from the schedules and spread offsets. Idle: every key re-planned to',
    '`0 0 1 1 *`, then 45 s of quiet; CPU is `process.cpuUsage` of the whole process. The first 30 s',
    'include V8 collecting the earlier phases\' garbage (its memory reducer runs a few seconds after',
    'allocation stops); the last 30 s are the steady state. Burst: 100,000 `* * * * *` with',
    '`spreadMs: 0`, i.e. all due in the same millisecond, with a handler that only records the fire;',
    'it shows why the spread exists. Dispatch yields to the event loop every 20 ms.',
  ].join('\n');
  return { text, markdown };
}

// ------------------------------------------------------------------ entry points

function runChild(script: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`benchmark run exited with code ${code}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as RunResult);
      } catch (err) {
        reject(new Error(`benchmark run printed no result: ${String(err)}`));
      }
    });
  });
}

function parseArgs(argv: string[]): { child: boolean; runs: number; write: boolean } {
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${argv[runsAt + 1]}`);
  return { child: argv.includes('--child'), runs, write: !argv.includes('--no-write') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    process.stdout.write(`${JSON.stringify(await measureOnce())}\n`);
    return;
  }
  const script = fileURLToPath(import.meta.url);
  const results: RunResult[] = [];
  for (let i = 1; i <= args.runs; i++) {
    progress(`run ${i} of ${args.runs}`);
    results.push(await runChild(script));
  }
  const { text, markdown } = report(results, machine());
  console.log(text);
  if (args.write) {
    const file = join(packageRoot(), 'docs', 'benchmarks.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Scheduler', markdown));
    progress(`wrote the medians to ${file}`);
  }
}

await main();

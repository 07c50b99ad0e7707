/**
 * Local runtime benchmark: the per-run wall time of a trivial process check through
 * LocalRuntime.run against a bare child_process.spawn of the same command (awaiting its
 * exit) in the same process. The two are interleaved (alternating which goes first), after
 * a warm-up, sequentially and with 8 runs in flight.
 *
 * Run with `npm run bench:runtime [-- --runs N] [-- --iterations N] [-- --no-write]`. Each
 * run is a fresh child process; the parent prints every run and the medians across runs,
 * and writes them to the "## Runtime" section of docs/benchmarks.md.
 *
 * Variants: `/bin/true`, and `sh -c` writing health-status.yaml into $KRATIX_OUTPUT_DIR
 * (the bare spawn gets a fixed, pre-created output directory on the same file system).
 * Each is measured with the default work directory (memory-backed when the machine has
 * one, see defaultWorkDir) and, for comparison, in the system temp directory: creating and
 * removing a run's five directories is the largest cost after the spawn and depends on the
 * file system.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { RunRequest } from '../agent/src/core/interfaces.js';
import type { Container, HealthDefinition } from '../agent/src/core/model.js';
import { silentLogger } from '../agent/src/logging/logger.js';
import { packageRoot } from '../agent/src/paths.js';
import { LocalRuntime } from '../agent/src/runtimes/LocalRuntime.js';
import { createRunDir, defaultWorkDir, prepareWorkDir, removeRunDir } from '../agent/src/runtimes/run-dir.js';
import { argValue } from './support/args.js';
import { markdownTable, replaceSection, textTable } from './support/markdown.js';
import { median, percentile } from './support/stats.js';

const TARGET_RATIO = 1.3;
const CONCURRENCY = 8;

interface Variant {
  name: string;
  command: [string, ...string[]];
}

const VARIANTS: Variant[] = [
  { name: '/bin/true', command: ['/bin/true'] },
  { name: 'sh writes health-status.yaml', command: ['/bin/sh', '-c', 'echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"'] },
];

/** Where run directories go: the default (workDir unset), or an explicit directory. */
interface Location {
  name: string;
  workDir?: string;
}

function locations(): Location[] {
  const list: Location[] = [{ name: `default (${defaultWorkDir()})` }];
  const disk = join(tmpdir(), 'vigil-bench');
  if (!defaultWorkDir().startsWith(tmpdir())) list.push({ name: `${disk} (system temp dir)`, workDir: disk });
  return list;
}

/** The file system type and mount options of `path`, from /proc/mounts (Linux). */
function fileSystemOf(path: string): string {
  let mounts: string[][];
  try {
    mounts = readFileSync('/proc/mounts', 'utf8').trim().split('\n').map((l) => l.split(' '));
  } catch {
    return 'unknown file system';
  }
  const real = realpathSync(path);
  let best: string[] | undefined;
  for (const m of mounts) {
    const point = m[1]!;
    if ((real === point || real.startsWith(point === '/' ? '/' : `${point}/`)) && (!best || point.length > best[1]!.length)) best = m;
  }
  return best ? `${best[2]!} (${best[3]!})` : 'unknown file system';
}

/** Median and p90 per-run wall time (ms) of one variant and mode. */
interface Measure {
  location: string;
  variant: string;
  concurrency: number;
  bareMedian: number;
  bareP90: number;
  runtimeMedian: number;
  runtimeP90: number;
}

// ------------------------------------------------------------------ child: one measurement

function definition(command: string[]): HealthDefinition {
  const container: Container = { name: 'check', image: 'bench.invalid/check:1', command };
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name: 'bench', namespace: 'default' },
    spec: { promiseRef: { name: 'bench' }, schedule: '* * * * *', workflow: { metadata: { name: 'healthcheck' }, spec: { containers: [container] } } },
  };
}

function bareSpawn(command: [string, ...string[]], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.on('data', () => undefined);
    child.stderr.on('data', () => undefined);
    child.once('error', reject);
    child.once('exit', () => {
      resolve();
    });
  });
}

async function measure(location: Location, variant: Variant, concurrency: number, iterations: number, warmup: number): Promise<Measure> {
  const runtime = new LocalRuntime({ logger: silentLogger(), containerEngine: 'none', ...(location.workDir ? { workDir: location.workDir } : {}) });
  const def = definition(variant.command);
  const logger = silentLogger();
  const parent = location.workDir ?? defaultWorkDir();
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const bareOut = mkdtempSync(join(parent, 'bare-'));
  const bareEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', KRATIX_OUTPUT_DIR: bareOut };
  let seq = 0;
  const viaRuntime = async (): Promise<void> => {
    const request: RunRequest = { runId: `bench-${++seq}`, definition: def, timeoutMs: 30_000, logger };
    const outcome = await runtime.run(request);
    if (outcome.startFailure || outcome.containers[0]?.exitCode !== 0) throw new Error(`benchmark check failed: ${JSON.stringify(outcome)}`);
  };
  const viaSpawn = (): Promise<void> => bareSpawn(variant.command, bareEnv);

  /** Runs `total` calls of `fn` with `concurrency` in flight; returns each call's wall time. */
  const batch = async (fn: () => Promise<void>, total: number): Promise<number[]> => {
    const times: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        next++;
        const start = performance.now();
        await fn();
        times.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    return times;
  };

  await batch(viaSpawn, warmup);
  await batch(viaRuntime, warmup);
  const bare: number[] = [];
  const viaRt: number[] = [];
  // Interleave in small blocks (a block keeps `concurrency` calls of one kind in flight),
  // alternating which kind goes first, so drift and noise hit both alike.
  const block = Math.max(concurrency * 4, 16);
  for (let done = 0, round = 0; done < iterations; done += block, round++) {
    const n = Math.min(block, iterations - done);
    if (round % 2 === 0) {
      bare.push(...(await batch(viaSpawn, n)));
      viaRt.push(...(await batch(viaRuntime, n)));
    } else {
      viaRt.push(...(await batch(viaRuntime, n)));
      bare.push(...(await batch(viaSpawn, n)));
    }
  }
  await runtime.close();
  rmSync(bareOut, { recursive: true, force: true });
  return {
    location: location.name,
    variant: variant.name,
    concurrency,
    bareMedian: median(bare),
    bareP90: percentile(bare, 90),
    runtimeMedian: median(viaRt),
    runtimeP90: percentile(viaRt, 90),
  };
}

/** Median µs to create and remove one run directory (synchronously) in `location`. */
function runDirCost(location: Location): number {
  const workDir = prepareWorkDir(location.workDir ?? defaultWorkDir());
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    removeRunDir(createRunDir(workDir, undefined), false);
    times.push((performance.now() - start) * 1000);
  }
  return median(times);
}

/** What one benchmark child reports. */
interface ChildResult {
  measures: Measure[];
  /** Per location name: µs to create and remove a run directory. */
  runDirUs: Record<string, number>;
}

async function child(): Promise<void> {
  const iterations = argValue('--iterations', 500);
  const warmup = argValue('--warmup', 50);
  const results: Measure[] = [];
  const runDirUs: Record<string, number> = {};
  for (const location of locations()) {
    runDirUs[location.name] = runDirCost(location);
    for (const concurrency of [1, CONCURRENCY]) {
      for (const variant of VARIANTS) results.push(await measure(location, variant, concurrency, iterations, warmup));
    }
    if (location.workDir) rmSync(location.workDir, { recursive: true, force: true });
  }
  const report: ChildResult = { measures: results, runDirUs };
  process.stdout.write(JSON.stringify(report));
}

// ------------------------------------------------------------------ parent: runs and report

function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as ChildResult);
      else reject(new Error(`benchmark child exited with ${code}`));
    });
  });
}

const ms = (v: number): string => v.toFixed(2);
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

function rows(measures: Measure[]): string[][] {
  return measures.map((m) => [
    m.location,
    m.variant,
    String(m.concurrency),
    ms(m.bareMedian),
    ms(m.bareP90),
    ms(m.runtimeMedian),
    ms(m.runtimeP90),
    ratio(m.runtimeMedian, m.bareMedian),
    ratio(m.runtimeP90, m.bareP90),
  ]);
}

const HEADER = ['run directories', 'check', 'in flight', 'spawn median ms', 'spawn p90 ms', 'runtime median ms', 'runtime p90 ms', 'ratio median', 'ratio p90'];

/** Per variant and concurrency, the median of each figure across runs. */
function medianOfRuns(runs: Measure[][]): Measure[] {
  return runs[0]!.map((first, i) => ({
    location: first.location,
    variant: first.variant,
    concurrency: first.concurrency,
    bareMedian: median(runs.map((r) => r[i]!.bareMedian)),
    bareP90: median(runs.map((r) => r[i]!.bareP90)),
    runtimeMedian: median(runs.map((r) => r[i]!.runtimeMedian)),
    runtimeP90: median(runs.map((r) => r[i]!.runtimeP90)),
  }));
}

async function parent(): Promise<void> {
  const runs = argValue('--runs', 3);
  const passThrough = ['--iterations', String(argValue('--iterations', 500)), '--warmup', String(argValue('--warmup', 50))];
  const all: Measure[][] = [];
  const dirCosts: Record<string, number>[] = [];
  for (let i = 1; i <= runs; i++) {
    const result = await runChild(passThrough);
    all.push(result.measures);
    dirCosts.push(result.runDirUs);
    console.log(`run ${i}/${runs}\n${textTable(HEADER, rows(result.measures))}\n`);
  }
  const summary = medianOfRuns(all);
  console.log(`median of ${runs} runs\n${textTable(HEADER, rows(summary))}\n`);
  const verdicts = locations().map((location) => {
    const worst = Math.max(...summary.filter((m) => m.location === location.name).map((m) => m.runtimeMedian / m.bareMedian));
    const dirUs = median(dirCosts.map((c) => c[location.name]!));
    return `${location.name}: worst median ratio ${worst.toFixed(2)}x, target ${worst <= TARGET_RATIO ? 'met' : 'NOT met'}; creating and removing one run directory takes ${dirUs.toFixed(0)} µs there`;
  });
  for (const verdict of verdicts) console.log(verdict);
  if (process.argv.includes('--no-write')) return;

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const fileSystems = [`${tmpdir()} is ${fileSystemOf(tmpdir())}`, ...(existsSync('/dev/shm') ? [`/dev/shm is ${fileSystemOf('/dev/shm')}`] : [])];
  const machine = `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${fileSystems.join('; ')}`;
  const body = [
    'Per-run wall time of a trivial process check through `LocalRuntime.run` (fresh run directory, environment,',
    'spawn in its own process group, bounded capture, process-group kill, safe read of health-status.yaml; the',
    'run directory is removed on the next event-loop turn, so its cost lands in the following runs) against a bare',
    '`child_process.spawn` of the same command awaiting its exit, interleaved in blocks in the same process.',
    `${argValue('--iterations', 500)} runs of each after ${argValue('--warmup', 50)} warm-up runs, sequentially and with ${CONCURRENCY} in flight; median of ${runs}`,
    `benchmark runs. Target: runtime within ${TARGET_RATIO}x of the bare spawn.`,
    '',
    `Machine: ${machine}.`,
    '',
    markdownTable(HEADER, rows(summary)),
    '',
    ...verdicts.map((v) => `- ${v}.`),
    '',
    'A run creates five directories and one file and removes them again: that file system work, which depends',
    'on where `workDir` is, is most of the cost on top of the spawn. That is why the default work directory is',
    'memory-backed ($XDG_RUNTIME_DIR or /dev/shm) when the machine has one (ADR 0005).',
  ].join('\n');
  const file = join(packageRoot(), 'docs', 'benchmarks.md');
  writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Runtime', body));
  console.log(`wrote the Runtime section of ${file}`);
}

if (process.argv.includes('--child')) await child();
else await parent();

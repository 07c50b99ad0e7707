/**
 * Benchmark of the Git state store against a real bare repository on disk:
 * - 10,000 records changed at once: commits made, time to flush and push;
 * - the same 10,000 records again, unchanged: commits and writes made (should be 0);
 * - repository growth for 10,000 hourly definitions whose state does not change, over
 *   simulated hours (a fake clock drives the heartbeat), extrapolated to a day.
 * Writes the "Stores" section of docs/benchmarks.md.
 *
 *   npm run bench:stores                 writes docs/benchmarks.md
 *   npm run bench:stores -- --no-write --hours 2
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { GitStateStore } from '../agent/src/stores/GitStateStore.js';
import { buildHealthRecord } from '../agent/src/core/record.js';
import type { HealthDefinition, HealthRecord, HealthState } from '../agent/src/core/model.js';
import { silentLogger } from '../agent/src/logging/logger.js';
import { packageRoot } from '../agent/src/paths.js';
import { argValue } from './support/args.js';
import { markdownTable, replaceSection } from './support/markdown.js';

const RECORDS = 10_000;
const HOUR = 3_600_000;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } }).trim();
}

function records(now: number, state: HealthState): HealthRecord[] {
  const out: HealthRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const definition: HealthDefinition = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'HealthDefinition',
      metadata: { name: `web-app-${i}`, namespace: `team-${i % 20}` },
      spec: { promiseRef: { name: 'web-app' }, resourceRef: { name: `app-${i}`, namespace: `team-${i % 20}` }, schedule: '@hourly' },
    };
    out.push(buildHealthRecord({ definition, destination: 'worker-1', state, details: { targets: [{ url: `http://app-${i}/healthz`, ok: state === 'healthy', status_code: 200, latency_ms: 12 }] }, finishedAt: now }));
  }
  return out;
}

/** Packed size of the repository after gc, in bytes. */
function packedSize(repo: string): number {
  git(repo, 'gc', '-q', '--aggressive', '--prune=now');
  const line = git(repo, 'count-objects', '-v').split('\n').find((l) => l.startsWith('size-pack:'));
  return Number(line?.split(':')[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const hours = argValue('--hours', 6);
  const root = mkdtempSync(join(tmpdir(), 'vigil-bench-stores-'));
  try {
    const remote = join(root, 'remote.git');
    git(root, 'init', '-q', '--bare', '-b', 'main', remote);
    let now = Date.UTC(2026, 10, 22, 0, 0, 0);
    const store = new GitStateStore({ url: remote, path: 'platform-health', workDir: join(root, 'work'), logger: silentLogger(), flushIntervalMs: 500, heartbeatMs: HOUR, clock: { now: () => now } });
    await store.init();
    const commits = (): number => Number(git(remote, 'rev-list', '--count', 'main'));

    const before = commits();
    let start = performance.now();
    await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
    const firstMs = performance.now() - start;
    const firstCommits = commits() - before;

    now += 10 * 60_000; // ten minutes later, nothing changed
    const beforeUnchanged = commits();
    start = performance.now();
    await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
    const unchangedMs = performance.now() - start;
    const unchangedCommits = commits() - beforeUnchanged;

    now += 5 * 60_000; // one record in twenty changes state
    const changed = records(now, 'healthy').map((r, i) => (i % 20 === 0 ? { ...r, data: { ...r.data, state: 'degraded' as const } } : r));
    const beforeSome = commits();
    start = performance.now();
    await Promise.all(changed.map((r) => store.put(r)));
    const someMs = performance.now() - start;
    const someCommits = commits() - beforeSome;

    const sizeStart = packedSize(remote);
    const beforeHours = commits();
    let hourlyMs = 0;
    for (let h = 0; h < hours; h++) {
      now += HOUR;
      start = performance.now();
      await Promise.all(changed.map((r) => store.put({ ...r, data: { ...r.data, lastRun: Math.floor(now / 1000) } })));
      hourlyMs += performance.now() - start;
    }
    const hourlyCommits = commits() - beforeHours;
    const growth = packedSize(remote) - sizeStart;
    await store.close();

    const mb = (b: number): string => (b / 1e6).toFixed(2);
    const rows = [
      ['10,000 records written for the first time', `${firstCommits} commit`, `${(firstMs / 1000).toFixed(1)} s to commit and push`],
      ['the same 10,000 records again, unchanged (10 min later)', `${unchangedCommits} commits`, `${(unchangedMs / 1000).toFixed(2)} s, no write`],
      ['500 of the 10,000 change state', `${someCommits} commit`, `${(someMs / 1000).toFixed(1)} s`],
      [`10,000 unchanged hourly records over ${hours} simulated hours (heartbeat 1 h)`, `${hourlyCommits} commits`, `${(hourlyMs / hours / 1000).toFixed(1)} s per hourly heartbeat commit`],
      ['repository growth (packed, after gc) per day, extrapolated', '', `${mb((growth / hours) * 24)} MB/day with heartbeat 1 h; ${mb((growth / hours) * 4)} MB/day with heartbeat 6 h`],
    ];
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, git ${git(root, '--version').replace('git version ', '')}; one run.`,
      '',
      markdownTable(['Git store workload', 'Commits', 'Time / size'], rows),
      '',
      'The remote is a bare repository on local disk, so the times are the store\'s own cost (YAML, git add, commit, push).',
      'Write-on-change means unchanged records cost nothing until their heartbeat; the heartbeat (`store.heartbeatSeconds`)',
      'trades lastRun freshness in Git against repository growth. Each record changes only its `lastRun` line then.',
    ].join('\n');
    console.log(body);
    if (!process.argv.includes('--no-write')) {
      const file = join(packageRoot(), 'docs', 'benchmarks.md');
      writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Stores', body));
      console.log(`wrote the Stores section of ${file}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();

/**
 * Benchmarks of the remote state stores.
 *
 * Git store, against a real bare repository on disk, `--runs` times (median):
 * - 10,000 records changed at once: commits made, time to flush and push;
 * - the same 10,000 records again, unchanged: commits and writes made (should be 0);
 * - repository growth for 10,000 hourly definitions whose state does not change, over
 *   simulated hours (a fake clock drives the heartbeat), extrapolated to a day.
 * Writes the "Stores" section of docs/benchmarks.md.
 *
 * Bucket store, against s3rver (a real S3 REST server on loopback, objects on disk) behind the
 * test suite's Signature V4 verifying front (test/support/s3.ts), `--runs` times (median):
 * - 10,000 records put for the first time: PUT requests and time;
 * - the same 10,000 records again, unchanged: requests made (should be 0);
 * - a restarted store: list() of the 10,000 (ListObjectsV2 pages + GETs), then the 10,000
 *   unchanged records again: PUTs (should be 0);
 * - the heartbeat: 10,000 unchanged records after heartbeatMs: one PUT each.
 * Writes the "Bucket store" section of docs/benchmarks.md.
 *
 * Kubernetes store, against the wire-level fake API server (test/support/fake-kube, in this
 * process) with the real @kubernetes/client-node, the same workloads: requests to the
 * HealthRecord resource and times. Writes the "Kubernetes store" section.
 *
 *   npm run bench:stores                 writes docs/benchmarks.md (both stores)
 *   npm run bench:stores -- --no-write --hours 2
 *   npm run bench:stores -- --only bucket --runs 3
 *   npm run bench:stores -- --only kubernetes --runs 3
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { GitStateStore } from '../agent/src/stores/GitStateStore.js';
import { BucketStateStore } from '../agent/src/stores/BucketStateStore.js';
import { KubernetesStateStore } from '../agent/src/stores/KubernetesStateStore.js';
import { Kube } from '../agent/src/kubernetes/client.js';
import { startS3, type S3Server } from '../test/support/s3.js';
import { FakeKubeServer } from '../test/support/fake-kube/index.js';
import { median } from './support/stats.js';
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

interface GitRun {
  firstMs: number;
  firstCommits: number;
  unchangedMs: number;
  unchangedCommits: number;
  someMs: number;
  someCommits: number;
  hourlyMs: number;
  hourlyCommits: number;
  growthBytes: number;
}

/** One run of the git workloads against a fresh bare repository. */
async function gitRun(hours: number): Promise<GitRun> {
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
    const growthBytes = packedSize(remote) - sizeStart;
    await store.close();
    return { firstMs, firstCommits, unchangedMs, unchangedCommits, someMs, someCommits, hourlyMs, hourlyCommits, growthBytes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function gitBench(): Promise<void> {
  const hours = argValue('--hours', 6);
  const runs = argValue('--runs', 3);
  const results: GitRun[] = [];
  for (let run = 1; run <= runs; run++) {
    const result = await gitRun(hours);
    console.log(`git run ${run}/${runs}:`, JSON.stringify(result));
    results.push(result);
  }
  const m = (key: keyof GitRun): number => median(results.map((r) => r[key]));
  const mb = (b: number): string => (b / 1e6).toFixed(2);
  const growth = m('growthBytes');
  const rows = [
    ['10,000 records written for the first time', `${m('firstCommits')} commit`, `${(m('firstMs') / 1000).toFixed(1)} s to commit and push`],
    ['the same 10,000 records again, unchanged (10 min later)', `${m('unchangedCommits')} commits`, `${(m('unchangedMs') / 1000).toFixed(2)} s, no write`],
    ['500 of the 10,000 change state', `${m('someCommits')} commit`, `${(m('someMs') / 1000).toFixed(1)} s`],
    [`10,000 unchanged hourly records over ${hours} simulated hours (heartbeat 1 h)`, `${m('hourlyCommits')} commits`, `${(m('hourlyMs') / hours / 1000).toFixed(1)} s per hourly heartbeat commit`],
    ['repository growth (packed, after gc) per day, extrapolated', '', `${mb((growth / hours) * 24)} MB/day with heartbeat 1 h; ${mb((growth / hours) * 4)} MB/day with heartbeat 6 h`],
  ];
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, git ${git(tmpdir(), '--version').replace('git version ', '')}; median of ${runs} runs.`,
    '',
    markdownTable(['Git store workload', 'Commits', 'Time / size'], rows),
    '',
    'The remote is a bare repository on local disk, so the times are the store\'s own cost (YAML, git add, commit, push).',
    'Write-on-change means unchanged records cost nothing until their heartbeat; the heartbeat (`store.heartbeatSeconds`)',
    'trades lastRun freshness in Git against repository growth. Each record changes only its `lastRun` line then.',
    'The machine (2 cores) was shared with other builds and tests during the runs, so the times are noisy.',
  ].join('\n');
  console.log(body);
  if (!process.argv.includes('--no-write')) {
    const file = join(packageRoot(), 'docs', 'benchmarks.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Stores', body));
    console.log(`wrote the Stores section of ${file}`);
  }
}

interface BucketRun {
  firstMs: number;
  firstPuts: number;
  unchangedMs: number;
  unchangedRequests: number;
  listMs: number;
  listRequests: number;
  afterRestartPuts: number;
  heartbeatMs: number;
  heartbeatPuts: number;
}

const total = (s3: S3Server): number => Object.values(s3.requests).reduce((a, b) => a + b, 0);

async function bucketRun(s3: S3Server, run: number): Promise<BucketRun> {
  let now = Date.UTC(2026, 10, 22, 0, 0, 0);
  const clock = { now: () => now };
  const options = {
    endpoint: s3.hostPort,
    insecure: true,
    bucketName: 'bench',
    path: `run-${run}`,
    auth: { kind: 'accessKey' as const, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    logger: silentLogger(),
    heartbeatMs: HOUR,
    clock,
  };
  const store = new BucketStateStore(options);
  await store.init();
  await store.list(); // empty prefix: the index is complete, new keys need no HEAD
  const puts = (): number => s3.requests.PUT ?? 0;

  let before = puts();
  let start = performance.now();
  await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
  const firstMs = performance.now() - start;
  const firstPuts = puts() - before;

  now += 10 * 60_000;
  before = total(s3);
  start = performance.now();
  await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
  const unchangedMs = performance.now() - start;
  const unchangedRequests = total(s3) - before;
  await store.close();

  const restarted = new BucketStateStore(options);
  await restarted.init();
  before = total(s3);
  start = performance.now();
  const listed = await restarted.list();
  const listMs = performance.now() - start;
  const listRequests = total(s3) - before;
  if (listed.length !== RECORDS) throw new Error(`list() returned ${listed.length} records, expected ${RECORDS}`);
  now += 5 * 60_000;
  before = puts();
  await Promise.all(records(now, 'healthy').map((r) => restarted.put(r)));
  const afterRestartPuts = puts() - before;

  now += HOUR;
  before = puts();
  start = performance.now();
  await Promise.all(records(now, 'healthy').map((r) => restarted.put(r)));
  const heartbeatMs = performance.now() - start;
  const heartbeatPuts = puts() - before;
  await restarted.close();
  return { firstMs, firstPuts, unchangedMs, unchangedRequests, listMs, listRequests, afterRestartPuts, heartbeatMs, heartbeatPuts };
}

async function bucketBench(): Promise<void> {
  const runs = argValue('--runs', 3);
  const s3 = await startS3({ buckets: ['bench'] });
  const results: BucketRun[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const result = await bucketRun(s3, run);
      console.log(`bucket run ${run}/${runs}:`, JSON.stringify(result));
      results.push(result);
    }
  } finally {
    await s3.stop();
  }
  const m = (key: keyof BucketRun): number => median(results.map((r) => r[key]));
  const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)} s`;
  const rate = (ms: number): string => `${Math.round(RECORDS / (ms / 1000))} records/s`;
  const rows = [
    ['10,000 records written for the first time', `${m('firstPuts')} PUT`, `${secs(m('firstMs'))} (${rate(m('firstMs'))})`],
    ['the same 10,000 records again, unchanged (10 min later)', `${m('unchangedRequests')} requests`, `${secs(m('unchangedMs'))}, no request (in-memory index)`],
    ['a restarted store reads the bucket: list() of 10,000 records', `${m('listRequests')} requests (ListObjectsV2 pages + GETs)`, secs(m('listMs'))],
    ['then the 10,000 unchanged records again', `${m('afterRestartPuts')} PUT`, 'no write'],
    ['10,000 unchanged records once their lastRun is older than the heartbeat (1 h)', `${m('heartbeatPuts')} PUT`, secs(m('heartbeatMs'))],
  ];
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; median of ${runs} runs.`,
    '',
    markdownTable(['Bucket store workload', 'Requests', 'Time'], rows),
    '',
    'The server is s3rver 3 (objects and metadata as files on local disk) behind the test suite\'s Signature V4',
    'verifying front, both on the same 2 cores as the store, so the times are an upper bound of the store\'s own cost',
    'and mostly measure s3rver; against S3 or MinIO the requests are the figure that matters. The machine was shared',
    'with other builds and tests during the runs, so the times are noisy.',
    'Write-on-change needs no request for an unchanged record: the store keeps a digest of state and details per key,',
    'seeded by `list()` at start (which the agent calls once) and by object metadata (one HEAD) for keys it has not seen.',
  ].join('\n');
  console.log(body);
  if (!process.argv.includes('--no-write')) {
    const file = join(packageRoot(), 'docs', 'benchmarks.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'Bucket store', body));
    console.log(`wrote the Bucket store section of ${file}`);
  }
}

interface KubeRun {
  firstMs: number;
  firstCreates: number;
  unchangedMs: number;
  unchangedRequests: number;
  listMs: number;
  listRequests: number;
  afterRestartWrites: number;
  heartbeatMs: number;
  heartbeatReplaces: number;
}

async function kubernetesRun(): Promise<KubeRun> {
  const fake = await FakeKubeServer.start({ namespaces: Array.from({ length: 20 }, (_, i) => `team-${i}`) });
  try {
    let now = Date.UTC(2026, 11, 3, 0, 0, 0);
    const clock = { now: () => now };
    const options = { kube: new Kube(fake.kubeConfig()), destination: 'worker-1', logger: silentLogger(), heartbeatMs: HOUR, clock };
    const recordRequests = (method?: string): number => fake.requests.count((r) => r.path.includes('/healthrecords') && (method === undefined || r.method === method));
    const store = new KubernetesStateStore(options);
    await store.init();
    await store.list(); // an empty cluster: the index is complete, new records need no GET

    let before = recordRequests('POST');
    let start = performance.now();
    await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
    const firstMs = performance.now() - start;
    const firstCreates = recordRequests('POST') - before;

    now += 10 * 60_000;
    before = fake.requests.count();
    start = performance.now();
    await Promise.all(records(now, 'healthy').map((r) => store.put(r)));
    const unchangedMs = performance.now() - start;
    const unchangedRequests = fake.requests.count() - before;
    await store.close();

    const restarted = new KubernetesStateStore({ ...options, kube: new Kube(fake.kubeConfig()) });
    await restarted.init();
    before = recordRequests();
    start = performance.now();
    const listed = await restarted.list();
    const listMs = performance.now() - start;
    const listRequests = recordRequests() - before;
    if (listed.length !== RECORDS) throw new Error(`list() returned ${listed.length} records, expected ${RECORDS}`);
    now += 5 * 60_000;
    before = fake.requests.writes().length;
    await Promise.all(records(now, 'healthy').map((r) => restarted.put(r)));
    const afterRestartWrites = fake.requests.writes().length - before;

    now += HOUR;
    before = recordRequests('PUT');
    start = performance.now();
    await Promise.all(records(now, 'healthy').map((r) => restarted.put(r)));
    const heartbeatMs = performance.now() - start;
    const heartbeatReplaces = recordRequests('PUT') - before;
    await restarted.close();
    return { firstMs, firstCreates, unchangedMs, unchangedRequests, listMs, listRequests, afterRestartWrites, heartbeatMs, heartbeatReplaces };
  } finally {
    await fake.close();
  }
}

async function kubernetesBench(): Promise<void> {
  const runs = argValue('--runs', 3);
  const results: KubeRun[] = [];
  for (let run = 1; run <= runs; run++) {
    const result = await kubernetesRun();
    console.log(`kubernetes run ${run}/${runs}:`, JSON.stringify(result));
    results.push(result);
  }
  const m = (key: keyof KubeRun): number => median(results.map((r) => r[key]));
  const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)} s`;
  const rate = (ms: number): string => `${Math.round(RECORDS / (ms / 1000))} records/s`;
  const rows = [
    ['10,000 records written for the first time', `${m('firstCreates')} create (POST)`, `${secs(m('firstMs'))} (${rate(m('firstMs'))})`],
    ['the same 10,000 records again, unchanged (10 min later)', `${m('unchangedRequests')} requests`, `${secs(m('unchangedMs'))}, no request (in-memory index)`],
    ['a restarted store lists the cluster: list() of 10,000 records', `${m('listRequests')} requests (pages of 500)`, secs(m('listMs'))],
    ['then the 10,000 unchanged records again', `${m('afterRestartWrites')} writes`, 'no write'],
    ['10,000 unchanged records once their lastRun is older than the heartbeat (1 h)', `${m('heartbeatReplaces')} replace (PUT)`, secs(m('heartbeatMs'))],
  ];
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; median of ${runs} runs.`,
    '',
    markdownTable(['Kubernetes store workload', 'Requests', 'Time'], rows),
    '',
    'The API server is the test suite\'s wire-level fake (test/support/fake-kube: HTTP, JSON, CRD schema validation,',
    'objects in memory) running in the same Node process as the store and the real @kubernetes/client-node, at most',
    '16 requests in flight. The times are the client\'s and the fake\'s cost on the same 2 cores, not a real API',
    'server\'s (etcd, admission, priority and fairness limits); the request counts are the figure that carries over.',
    'The fake copies and sorts every stored object for each page of 500, likely most of the list time (not profiled).',
    'The machine was shared with other builds and tests during the runs, so the times are noisy.',
  ].join('\n');
  console.log(body);
  if (!process.argv.includes('--no-write')) {
    const file = join(packageRoot(), 'docs', 'benchmarks.md');
    const doc = readFileSync(file, 'utf8');
    const section = 'Kubernetes store';
    const updated = doc.split('\n').some((l) => l.startsWith(`## ${section}`)) ? replaceSection(doc, section, body) : `${doc.trimEnd()}\n\n## ${section}\n\n${body}\n`;
    writeFileSync(file, updated);
    console.log(`wrote the Kubernetes store section of ${file}`);
  }
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only === undefined || only === 'git') await gitBench();
if (only === undefined || only === 'bucket') await bucketBench();
if (only === undefined || only === 'kubernetes') await kubernetesBench();

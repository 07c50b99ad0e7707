/**
 * Benchmark of Kubernetes mode: 1,000 HealthDefinitions reconciled into CronJobs (and their
 * ServiceAccounts, RBAC and input ConfigMaps) by the real controller, against the wire-level
 * fake API server (test/support/fake-kube) and the real @kubernetes/client-node.
 *
 * The fake server runs in this process (it seeds the definitions, counts every request and is
 * polled for the definitions' status without HTTP); the controller runs in a child process
 * (this file with `--child`), built with the production defaults of `runtime.kubernetes`
 * (concurrency 4, resync 600 s, stall watchdog 120 s), so its RSS and CPU are its own.
 * The fake sends a BOOKMARK on every watch each 60 s, as a real API server's watch cache does.
 *
 * Each run, with a fresh server and a fresh controller:
 * 1. initial: 1,000 definitions exist; the controller starts; wall clock from spawning it until
 *    every definition has its CronJob and `Ready=True` for its generation, then until the
 *    controller is idle and the API quiet; requests per definition, by verb; RSS (after gc) and heap;
 * 2. idle: requests per minute over `--idle-seconds` (default 60) once everything settled;
 * 3. update: 100 definitions change (schedules, inputs, permissions); time and requests until
 *    every one is reconciled for its new generation;
 * 4. restart: the controller is stopped and a new process started over the existing objects;
 *    time to ready, requests, writes (should be 0);
 * 5. resync: that process runs with `resyncSeconds = --resync-probe-seconds` (default 30), and
 *    the requests of its first full resync (re-list of every informer, every definition
 *    reconciled again) are counted; the default resync period is 600 s.
 * Median of `--runs` runs (default 3). Writes the "Kubernetes controller" section of
 * docs/benchmarks.md unless `--no-write`.
 *
 *   npm run bench:k8s
 *   npm run bench:k8s -- --runs 1 --idle-seconds 20 --no-write
 *   (--definitions N; VIGIL_BENCH_LOG=info logs the controller; VIGIL_BENCH_DEBUG=1 lists requests;
 *   VIGIL_BENCH_CHILD_NODE_OPTIONS="--cpu-prof" profiles the controller process)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeKubeServer, type KubeObject } from '../test/support/fake-kube/index.js';
import type { LoggedRequest } from '../test/support/fake-kube/index.js';
import { Kube, loadKubeConfig } from '../agent/src/kubernetes/client.js';
import { KubernetesController } from '../agent/src/kubernetes/controller/Controller.js';
import { LABELS, MANAGED_BY } from '../agent/src/kubernetes/resources/index.js';
import { defaultKubernetesRuntime } from '../agent/src/kubernetes/config.js';
import { FsStateStore } from '../agent/src/stores/FsStateStore.js';
import { Outbox } from '../agent/src/records/Outbox.js';
import { getDefinitionValidator } from '../agent/src/crds.js';
import { createLogger, silentLogger } from '../agent/src/logging/logger.js';
import { packageRoot } from '../agent/src/paths.js';
import { argValue } from './support/args.js';
import { markdownTable, replaceSection } from './support/markdown.js';
import { median } from './support/stats.js';

const HD_API = 'platform.kratix.io/v1alpha1';
const NAMESPACES = 8;
const SCHEDULES = ['*/5 * * * *', '*/15 * * * *', '@hourly', '0 */6 * * *', '30 2 * * *', '*/10 8-18 * * 1-5'];
const SECTION = 'Kubernetes controller';
const BOOKMARK_MS = 60_000;

// ------------------------------------------------------------------ child: the controller

interface ChildReply {
  type: 'started' | 'memory' | 'idle' | 'stopped';
  /** ms since the child process started (performance.now()). */
  at: number;
  rssBytes?: number;
  heapUsedBytes?: number;
  cpuMs?: number;
  counters?: Record<string, unknown>;
}

type ParentMessage = { type: 'memory' } | { type: 'idle' } | { type: 'stop' };

async function child(kubeconfig: string, dir: string, resyncSeconds: number): Promise<void> {
  const send = (m: ChildReply): void => { process.send?.(m); };
  const logger = process.env.VIGIL_BENCH_LOG ? createLogger({ level: process.env.VIGIL_BENCH_LOG, pretty: false }) : silentLogger();
  const defaults = defaultKubernetesRuntime();
  const store = new FsStateStore({ root: join(dir, 'state'), logger, fsync: false });
  const controller = new KubernetesController({
    kube: new Kube(loadKubeConfig({ kubeconfig })),
    logger,
    store,
    outbox: new Outbox({ dir: join(dir, 'data', 'outbox'), logger }),
    validator: getDefinitionValidator(),
    destination: 'bench-cluster',
    desired: {
      agentImage: 'ghcr.io/vigil-health/vigil:bench',
      destination: 'bench-cluster',
      historyLimits: defaults.historyLimits,
      defaultTimeoutSeconds: 300,
      startingDeadlineSeconds: defaults.startingDeadlineSeconds,
      transport: {},
    },
    resyncSeconds,
    stallSeconds: defaults.stallSeconds,
    concurrency: defaults.concurrency,
  });
  const memory = (): ChildReply => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    const summary = controller.summary() as { counters: Record<string, unknown> };
    return { type: 'memory', at: performance.now(), rssBytes: m.rss, heapUsedBytes: m.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000, counters: summary.counters };
  };
  process.on('message', (message: ParentMessage) => {
    void (async () => {
      if (message.type === 'memory') send(memory());
      else if (message.type === 'idle') {
        await controller.idle();
        send({ type: 'idle', at: performance.now() });
      } else {
        await controller.stop();
        send({ type: 'stopped', at: performance.now() });
        process.disconnect();
      }
    })();
  });
  await controller.start();
  send({ type: 'started', at: performance.now() });
}

// ------------------------------------------------------------------ parent: server, workload, measures

/** A controller process and a way to ask it things. */
class ControllerProcess {
  private readonly waiters: { type: ChildReply['type']; resolve: (r: ChildReply) => void }[] = [];
  readonly started: Promise<ChildReply>;
  readonly spawnedAt = performance.now();

  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: ChildReply) => {
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.started = this.next('started');
    proc.on('exit', (code) => {
      if (code !== 0 && code !== null) for (const w of this.waiters.splice(0)) w.resolve({ type: w.type, at: Number.NaN });
    });
  }

  static spawn(kubeconfig: string, dir: string, resyncSeconds: number): ControllerProcess {
    const file = fileURLToPath(import.meta.url);
    return new ControllerProcess(fork(file, ['--child', kubeconfig, dir, String(resyncSeconds)], { execArgv: ['--expose-gc', ...(process.env.VIGIL_BENCH_CHILD_NODE_OPTIONS?.split(' ').filter(Boolean) ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  private async next(type: ChildReply['type']): Promise<ChildReply> {
    return await new Promise<ChildReply>((resolve) => this.waiters.push({ type, resolve }));
  }

  async ask(type: ParentMessage['type']): Promise<ChildReply> {
    const reply = this.next(type === 'stop' ? 'stopped' : type);
    this.proc.send({ type });
    return await reply;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => { resolve(); }));
    await this.ask('stop');
    await exited;
  }
}

/** One realistic HealthDefinition: varied schedules, time zones, timeouts, inputs and permissions. */
function definition(i: number): KubeObject {
  const ns = `team-${i % NAMESPACES}`;
  const mix = i % 10;
  let permissions: Record<string, unknown>[] | undefined;
  if (mix < 3) permissions = [{ apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list'] }];
  else if (mix === 3) permissions = [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'], resourceNamespace: '*' }];
  else if (mix === 4) permissions = [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNamespace: `team-${(i + 1) % NAMESPACES}` }];
  const promise = ['redis', 'postgresql', 'web-app', 'kafka'][i % 4]!;
  return {
    apiVersion: HD_API,
    kind: 'HealthDefinition',
    metadata: { name: `${promise}-${i}`, namespace: ns, labels: { 'kratix.io/promise-name': promise } },
    spec: {
      promiseRef: { name: promise },
      resourceRef: { name: `instance-${i}`, namespace: ns },
      promiseVersion: 'v1.2.0',
      schedule: SCHEDULES[i % SCHEDULES.length]!,
      ...(i % 7 === 0 ? { timeZone: 'Europe/London' } : {}),
      ...(i % 3 === 0 ? { timeoutSeconds: 120 } : {}),
      input: `apiVersion: example.kratix.io/v1\nkind: ${promise}\nmetadata:\n  name: instance-${i}\n  namespace: ${ns}\nspec:\n  size: ${['small', 'medium', 'large'][i % 3]!}\n  replicas: ${(i % 3) + 1}\n`,
      workflow: {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'healthcheck' },
        spec: {
          containers: [
            { name: 'check', image: `ghcr.io/example/${promise}-check:v1`, env: [{ name: 'TARGET', value: `instance-${i}.${ns}.svc` }] },
            ...(i % 5 === 0 ? [{ name: 'summarise', image: 'ghcr.io/example/summarise:v2' }] : []),
          ],
          ...(permissions ? { rbac: { permissions } } : {}),
        },
      },
    },
  };
}

/** The same definition after a user changed it: the schedule, the input, or the permissions (by turns). */
function changed(object: KubeObject, turn: number): KubeObject {
  const copy = structuredClone(object);
  const spec = copy.spec as { schedule: string; input: string; workflow: { spec: { rbac?: { permissions: unknown[] } } } };
  if (turn % 3 === 0) spec.schedule = '*/20 * * * *';
  else if (turn % 3 === 1) spec.input = `${spec.input}  tier: gold\n`;
  else spec.workflow.spec.rbac = { permissions: [...(spec.workflow.spec.rbac?.permissions ?? []), { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] };
  delete copy.status;
  return copy;
}

/** Request category: discovery, LIST, WATCH, GET, POST, PUT, PATCH, PATCH status, DELETE. */
function category(r: LoggedRequest): string {
  if (r.watch) return 'WATCH';
  const segments = r.path.split('/').filter(Boolean);
  const prefix = segments[0] === 'api' ? 2 : 3;
  if (segments.length <= prefix) return 'discovery';
  let rest = segments.slice(prefix);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (r.method === 'GET') return rest.length === 1 ? 'LIST' : 'GET';
  if (r.method === 'PATCH' && rest[rest.length - 1] === 'status') return 'PATCH status';
  return r.method;
}

const CATEGORIES = ['discovery', 'LIST', 'WATCH', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH status', 'DELETE'] as const;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'PATCH status', 'DELETE']);

type Counts = Record<string, number>;

function counts(requests: readonly LoggedRequest[]): Counts {
  const out: Counts = { total: requests.length, writes: 0 };
  for (const c of CATEGORIES) out[c] = 0;
  for (const r of requests) {
    const c = category(r);
    out[c] = (out[c] ?? 0) + 1;
    if (WRITES.has(c)) out.writes = (out.writes ?? 0) + 1;
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Status {
  observedGeneration?: number;
  cronJobName?: string;
  conditions?: { type: string; status: string }[];
}

/** Whether a definition is reconciled for its generation: Ready=True and its CronJob exists. */
function reconciled(fake: FakeKubeServer, d: KubeObject): boolean {
  const status = d.status as Status | undefined;
  if (!status || status.observedGeneration !== d.metadata.generation || !status.cronJobName) return false;
  if (status.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
  return fake.store.get('batch/v1', 'CronJob', d.metadata.namespace, status.cronJobName) !== undefined;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let report = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench:k8s: timed out after ${timeoutMs} ms waiting for ${what}`);
    if (process.env.VIGIL_BENCH_DEBUG && Date.now() > report) {
      report = Date.now() + 5_000;
      console.log(`waiting for ${what}`);
    }
    await sleep(100);
  }
}

/** Waits until the controller is idle and no request other than a watch arrived for `quietMs`. */
async function settle(fake: FakeKubeServer, proc: ControllerProcess, quietMs = 2_000): Promise<void> {
  for (;;) {
    await proc.ask('idle');
    const last = fake.requests.entries.findLast((r) => !r.watch)?.time ?? 0;
    const quietFor = Date.now() - last;
    if (quietFor >= quietMs) return;
    await sleep(quietMs - quietFor);
  }
}

interface RunResult {
  count: number;
  initialMs: number;
  syncedMs: number;
  settledMs: number;
  initial: Counts;
  reconciles: number;
  initialCpuMs: number;
  rssMb: number;
  heapMb: number;
  idleSeconds: number;
  idle: Counts;
  updateMs: number;
  update: Counts;
  restartReadyMs: number;
  restart: Counts;
  restartRssMb: number;
  resync: Counts;
  objects: Record<string, number>;
}

async function run(count: number, idleSeconds: number, resyncProbeSeconds: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-k8s-'));
  const fake = await FakeKubeServer.start({ bookmarkIntervalMs: BOOKMARK_MS, namespaces: ['default', 'kube-system', 'vigil-system', ...Array.from({ length: NAMESPACES }, (_, i) => `team-${i}`)] });
  let proc: ControllerProcess | undefined;
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeconfigYaml());
    for (let i = 0; i < count; i++) fake.store.put(definition(i));
    const definitions = (): KubeObject[] => fake.store.list(HD_API, 'HealthDefinition');
    const allReconciled = (): boolean => definitions().every((d) => reconciled(fake, d));

    // 1. initial reconcile
    fake.requests.clear();
    proc = ControllerProcess.spawn(kubeconfig, join(dir, 'agent'), 600);
    const started = await proc.started;
    if (Number.isNaN(started.at)) throw new Error('bench:k8s: the controller process failed to start');
    const syncedMs = performance.now() - proc.spawnedAt;
    await until(`${count} definitions Ready`, allReconciled, 30 * 60_000);
    const initialMs = performance.now() - proc.spawnedAt;
    await settle(fake, proc);
    const settledMs = performance.now() - proc.spawnedAt;
    const initial = counts(fake.requests.entries);
    const afterInitial = await proc.ask('memory');
    const objects: Record<string, number> = {};
    for (const [apiVersion, kind] of [['v1', 'ServiceAccount'], ['v1', 'ConfigMap'], ['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['rbac.authorization.k8s.io/v1', 'ClusterRole'], ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'], ['batch/v1', 'CronJob']] as const) {
      objects[kind] = fake.store.list(apiVersion, kind).filter((o) => o.metadata.labels?.[LABELS.managedBy] === MANAGED_BY).length;
    }

    // 2. idle
    fake.requests.clear();
    await sleep(idleSeconds * 1000);
    const idle = counts(fake.requests.entries);

    // 3. update 100 definitions
    await settle(fake, proc);
    fake.requests.clear();
    const updateStart = performance.now();
    const all = definitions().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const chosen = all.filter((_, i) => i % Math.max(1, Math.floor(count / 100)) === 0).slice(0, Math.min(100, count));
    chosen.forEach((d, turn) => fake.store.put(changed(d, turn)));
    const chosenKeys = chosen.map((d) => [d.metadata.namespace ?? '', d.metadata.name ?? ''] as const);
    await until('updated definitions reconciled', () => chosenKeys.every(([ns, name]) => {
      const d = fake.store.get(HD_API, 'HealthDefinition', ns, name);
      return d !== undefined && reconciled(fake, d);
    }), 10 * 60_000);
    const updateMs = performance.now() - updateStart;
    await settle(fake, proc);
    const update = counts(fake.requests.entries);
    if (process.env.VIGIL_BENCH_DEBUG) for (const r of fake.requests.entries.slice(0, 60)) console.log('update', r.method, r.path, r.status);
    for (const [turn, [ns, name]] of chosenKeys.entries()) {
      if (turn % 3 !== 0) continue;
      const d = fake.store.get(HD_API, 'HealthDefinition', ns, name)!;
      const cj = fake.store.get('batch/v1', 'CronJob', ns, (d.status as Status).cronJobName ?? '');
      if ((cj?.spec as { schedule?: string } | undefined)?.schedule !== '*/20 * * * *') throw new Error(`bench:k8s: CronJob of ${ns}/${name} does not carry the new schedule`);
    }

    // 4. restart over the existing objects
    await proc.stop();
    proc = undefined;
    fake.requests.clear();
    const restarted = ControllerProcess.spawn(kubeconfig, join(dir, 'agent'), resyncProbeSeconds);
    proc = restarted;
    await restarted.started;
    const restartSyncedAt = performance.now();
    await settle(fake, restarted);
    const restartReadyMs = performance.now() - restarted.spawnedAt;
    if (!allReconciled()) throw new Error('bench:k8s: after the restart not every definition is reconciled');
    const restart = counts(fake.requests.entries);
    if (process.env.VIGIL_BENCH_DEBUG) for (const r of fake.requests.entries) if (r.method !== 'GET' || !r.watch) console.log('restart', r.method, r.path, r.status);
    const afterRestart = await restarted.ask('memory');

    // 5. one full resync of the restarted controller
    const resyncFrom = fake.requests.entries.length;
    const resyncAt = restartSyncedAt + resyncProbeSeconds * 1000;
    await sleep(Math.max(0, resyncAt - performance.now()) + 3_000);
    await settle(fake, restarted);
    const resync = counts(fake.requests.entries.slice(resyncFrom));
    await restarted.stop();
    proc = undefined;

    return {
      count,
      initialMs,
      syncedMs,
      settledMs,
      initial,
      reconciles: Number(afterInitial.counters?.reconciles ?? Number.NaN),
      initialCpuMs: afterInitial.cpuMs ?? Number.NaN,
      rssMb: (afterInitial.rssBytes ?? Number.NaN) / 2 ** 20,
      heapMb: (afterInitial.heapUsedBytes ?? Number.NaN) / 2 ** 20,
      idleSeconds,
      idle,
      updateMs,
      update,
      restartReadyMs,
      restart,
      restartRssMb: (afterRestart.rssBytes ?? Number.NaN) / 2 ** 20,
      resync,
      objects,
    };
  } finally {
    if (proc) await proc.stop().catch(() => undefined);
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function verbs(c: Counts, per = 1, digits = 2): string {
  return CATEGORIES.filter((k) => (c[k] ?? 0) > 0).map((k) => `${k} ${((c[k] ?? 0) / per).toFixed(digits).replace(/\.?0+$/, '')}`).join(', ');
}

async function parent(): Promise<void> {
  const runs = argValue('--runs', 3);
  const count = argValue('--definitions', 1_000);
  const idleSeconds = argValue('--idle-seconds', 60);
  const resyncProbeSeconds = argValue('--resync-probe-seconds', 30);
  const load = loadavg()[0] ?? 0;
  const results: RunResult[] = [];
  for (let i = 1; i <= runs; i++) {
    const r = await run(count, idleSeconds, resyncProbeSeconds);
    console.log(`run ${i}/${runs}:`, JSON.stringify(r));
    results.push(r);
  }
  const m = (f: (r: RunResult) => number): number => median(results.map(f));
  const all = (f: (r: RunResult) => number, digits = 0): string => results.map((r) => f(r).toFixed(digits)).join(' / ');
  /** Median counts per category. */
  const mc = (f: (r: RunResult) => Counts): Counts => {
    const out: Counts = {};
    for (const k of ['total', 'writes', ...CATEGORIES]) out[k] = m((r) => f(r)[k] ?? 0);
    return out;
  };
  const initial = mc((r) => r.initial);
  const idle = mc((r) => r.idle);
  const update = mc((r) => r.update);
  const restart = mc((r) => r.restart);
  const resync = mc((r) => r.resync);
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const perMinute = (c: number): string => (c / (idleSeconds / 60)).toFixed(1);
  const changedCount = Math.min(100, count);
  const objects = results[0]!.objects;
  const rows: string[][] = [
    [`Initial: spawn → every definition has its CronJob and Ready=True`, s(m((r) => r.initialMs)), all((r) => r.initialMs / 1000, 1) + ' s', `caches synced after ${s(m((r) => r.syncedMs))}; idle and quiet after ${s(m((r) => r.settledMs))}`],
    [`Initial: API requests per definition`, (initial.total! / count).toFixed(2), all((r) => r.initial.total! / count, 2), verbs(initial, count)],
    [`Initial: writes per definition`, (initial.writes! / count).toFixed(2), all((r) => r.initial.writes! / count, 2), `objects created: ${Object.entries(objects).map(([k, v]) => `${k} ${v}`).join(', ')}`],
    [`Initial: reconciles per definition`, (m((r) => r.reconciles) / count).toFixed(2), all((r) => r.reconciles / count, 2), `controller CPU ${s(m((r) => r.initialCpuMs))} (user + system, child process, incl. start-up)`],
    [`RSS after the initial reconcile (after gc)`, `${m((r) => r.rssMb).toFixed(0)} MB`, all((r) => r.rssMb) + ' MB', `heap used ${m((r) => r.heapMb).toFixed(0)} MB; a fresh process after the restart: ${m((r) => r.restartRssMb).toFixed(0)} MB`],
    [`Idle: API requests per minute (${idleSeconds} s window)`, perMinute(idle.total!), all((r) => r.idle.total! / (idleSeconds / 60), 1), idle.total === 0 ? 'none (11 watches stay open; a bookmark on each every 60 s)' : verbs(idle, idleSeconds / 60, 1)],
    [`Update: ${changedCount} definitions changed → all reconciled`, s(m((r) => r.updateMs)), all((r) => r.updateMs / 1000, 1) + ' s', `${update.total} requests, ${update.writes} writes (${(update.writes! / changedCount).toFixed(1)} per changed definition): ${verbs(update)}`],
    [`Restart: new process → ready, idle and quiet`, s(m((r) => r.restartReadyMs)), all((r) => r.restartReadyMs / 1000, 1) + ' s', `${restart.total} requests: ${verbs(restart)}`],
    [`Restart: writes`, String(restart.writes), all((r) => r.restart.writes!), 'should be 0'],
    [`One full resync (every 600 s by default)`, `${resync.total} requests`, all((r) => r.resync.total!), `${verbs(resync)}; writes ${resync.writes}`],
  ];
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${load.toFixed(2)} at the start; median of ${runs} runs, each with a fresh fake API server and controller process.`,
    '',
    markdownTable(['Measure', 'Median', 'Runs', 'Notes'], rows),
    '',
    `${count.toLocaleString('en-US')} HealthDefinitions in ${NAMESPACES} namespaces (six schedules, some with a time zone or a timeout; 30 % with`,
    'permissions in their own namespace, 10 % with `resourceNamespace: "*"` (ClusterRole + ClusterRoleBinding), 10 % with',
    'a Role in another namespace), reconciled by the real `KubernetesController` (production defaults: concurrency 4,',
    'resync 600 s, stall watchdog 120 s) in its own process, through the real `@kubernetes/client-node`, against the',
    'wire-level fake API server (`test/support/fake-kube`) in the benchmark process. The fake answers in well under a',
    'millisecond, so these are the controller\'s own costs; against a real API server (and its client-side rate limits)',
    'the initial reconcile takes longer. Request categories: LIST (collection GET, 500 per page), WATCH (a watch',
    'opened), GET (one object), POST (create), PUT (replace), PATCH (a Job annotation), PATCH status (the',
    'definition\'s status), DELETE, discovery (API group discovery of the generic client).',
    `The update changes ${changedCount} definitions by turns: the schedule, the input, or the permissions.`,
    'At idle the controller makes no request per definition: watches stay open until their server timeout',
    '(300-450 s), so about 11 watch re-opens every 5-7.5 min (~1.8 per minute) and one resync every 10 min are the steady cost.',
    'Per changed definition the update rewrites the CronJob and the input ConfigMap (both carry the',
    '`definition-generation` annotation) plus the Role when the permissions changed, and patches the status once.',
    'The machine (2 cores) was shared with other builds and tests during the runs, so the times are noisy.',
    '',
    'Found and fixed with this benchmark: (1) lists of custom resources read only their first page',
    '(`KubernetesObjectApi.list` drops `metadata.continue` for kinds it has no model for), so the controller saw',
    '500 of 1,000 definitions; grouped lists now go through `CustomObjectsApi`. (2) Reconciles started before the',
    'owned objects\' caches had synced, so every restart re-created objects (POST 409, GET, PUT each); now 0 writes.',
    '(3) Each reconcile scanned every cached object of every kind to find a definition\'s objects (O(n²) over a',
    'full reconcile: 1.1 s of the 10.5 s of controller CPU at 1,000); an index kept from the informers\' events',
    'replaces the scan.',
  ].join('\n');
  console.log(body);
  if (!process.argv.includes('--no-write')) {
    const file = join(packageRoot(), 'docs', 'benchmarks.md');
    let doc = readFileSync(file, 'utf8');
    if (!doc.split('\n').some((l) => l.startsWith(`## ${SECTION}`))) doc = `${doc.trimEnd()}\n\n## ${SECTION} (\`npm run bench:k8s\`)\n`;
    writeFileSync(file, replaceSection(doc, SECTION, body));
    console.log(`wrote the ${SECTION} section of ${file}`);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await parent();
}

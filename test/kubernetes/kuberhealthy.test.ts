/**
 * Kuberhealthy-style checks in Kubernetes mode (ADR 0013): KH_* env in the check pod, the
 * pod-local reporter sidecar (`vigil k8s-adapter --kh-listen`), the report leaving the pod with
 * the adapter, and the controller turning it into a record. Real processes, real HTTP, the
 * wire-level fake API server.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeServer, type KubeObject } from '../support/fake-kube/index.js';
import { CLI, vigil } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { ANNOTATION_KH_CHECK } from '../../agent/src/reporting/protocol.js';
import { ADAPTER_CONTAINER, cronJobName, desiredObjects } from '../../agent/src/kubernetes/resources/index.js';
import { KH_DEADLINE_ANNOTATION, KH_REPORTER_CONTAINER, KH_REPORT_FILE } from '../../agent/src/kubernetes/resources/pod.js';
import { startKhReporter } from '../../agent/src/kubernetes/transport/kh-reporter.js';
import { decodeReport, encodeReport, truncatedErrorsMarker } from '../../agent/src/kubernetes/transport/report.js';
import { buildHealthState, reportFromHealthState } from '../../agent/src/kubernetes/transport/health-state.js';
import { RUN_NOW_ANNOTATION } from '../../agent/src/kubernetes/controller/apply.js';
import type { KubernetesController } from '../../agent/src/kubernetes/controller/Controller.js';
import { HD_API, hd, makeController } from './controller/harness.js';

const NS = 'default';

function khDefinition(name: string, spec: Record<string, unknown> = {}): any {
  const d = hd(name, NS, { schedule: '*/5 * * * *', timeoutSeconds: 120, ...spec });
  d.metadata.annotations = { [ANNOTATION_KH_CHECK]: 'true' };
  d.metadata.uid = d.metadata.uid ?? 'uid-1';
  return d;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => { resolve(port); });
    });
  });
}

/** A container's env as the kubelet resolves it: values, downward API fields of `pod`, then $(VAR) references. */
function containerEnv(container: any, pod: KubeObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\(([A-Z_]+)\)/g, (_m: string, v: string) => env[v] ?? `$(${v})`);
      continue;
    }
    const path: string = e.valueFrom.fieldRef.fieldPath;
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
    if (label) env[e.name] = pod.metadata.labels?.[label[1]!] ?? '';
    else if (annotation) env[e.name] = (pod.metadata.annotations as Record<string, string> | undefined)?.[annotation[1]!] ?? '';
    else env[e.name] = (pod.metadata as Record<string, string | undefined>)[path.slice('metadata.'.length)] ?? '';
  }
  return env;
}

describe('Kuberhealthy-style checks: the check pod', () => {
  const opts = { agentImage: 'ghcr.io/vigil-health/vigil:test', destination: 'c1', defaultTimeoutSeconds: 300, transport: {} };

  it('gets the reporter as a native sidecar before the user containers, KH_* env, and the adapter reading the report', () => {
    const deadline = Date.parse('2026-12-01T10:07:00Z');
    const { cronJob } = desiredObjects(khDefinition('kh-a'), { ...opts, khRunDeadline: deadline });
    const pod = cronJob.spec!.jobTemplate.spec!.template;
    const spec = pod.spec!;
    expect(spec.initContainers!.map((c) => c.name)).toEqual([KH_REPORTER_CONTAINER, 'check']);
    const reporter = spec.initContainers![0]!;
    expect(reporter.restartPolicy).toBe('Always');
    expect(reporter.args).toEqual(['k8s-adapter', '--kh-listen', '127.0.0.1:8754', '--kh-report-file', KH_REPORT_FILE, '--kh-timeout-seconds', '120']);
    expect(reporter.startupProbe?.exec?.command?.[0]).toBe('node');
    expect(reporter.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const check = spec.initContainers![1]!;
    const env = Object.fromEntries(check.env!.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    expect(env).toMatchObject({
      KH_RUN_UUID: 'metadata.uid',
      KH_REPORTING_URL: 'http://127.0.0.1:8754/externalCheckStatus/$(KH_RUN_UUID)',
      KH_CHECK_RUN_DEADLINE: `metadata.annotations['${KH_DEADLINE_ANNOTATION}']`,
      KH_POD_NAMESPACE: 'metadata.namespace',
    });
    // KH_RUN_UUID is defined before the URL that references it.
    expect(check.env!.findIndex((e) => e.name === 'KH_RUN_UUID')).toBeLessThan(check.env!.findIndex((e) => e.name === 'KH_REPORTING_URL'));
    expect(pod.metadata!.annotations![KH_DEADLINE_ANNOTATION]).toBe(String(deadline / 1000));
    const adapter = spec.containers[0]!;
    expect(adapter.args).toContain('--kh-report-file');
    expect(adapter.volumeMounts).toContainEqual({ name: 'vigil-kh', mountPath: '/var/run/vigil-kh', readOnly: true });
    // The report's volume is not mounted in the user's containers.
    expect(check.volumeMounts!.some((m) => m.name === 'vigil-kh')).toBe(false);
  });

  it('is unchanged for a definition that is not Kuberhealthy-style', () => {
    const d = khDefinition('plain');
    d.metadata.annotations = {};
    const pod = desiredObjects(d, { ...opts, khRunDeadline: Date.now() }).cronJob.spec!.jobTemplate.spec!.template;
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['check']);
    expect(pod.spec!.initContainers![0]!.env!.some((e) => e.name.startsWith('KH_'))).toBe(false);
    expect(pod.metadata!.annotations![KH_DEADLINE_ANNOTATION]).toBeUndefined();
  });

  it('refuses a user container named like the reporter', () => {
    const d = khDefinition('clash');
    d.spec.workflow.spec.containers = [{ name: KH_REPORTER_CONTAINER, image: 'x' }];
    expect(() => desiredObjects(d, opts)).toThrow(/spec\.workflow\.spec\.containers\[0\]\.name.*reserved by vigil/);
  });
});

describe('Kuberhealthy-style checks: reports through the transport', () => {
  it('keep errors within the termination message limit, with a marker for the ones that did not fit', () => {
    const errors = Array.from({ length: 100 }, (_, i) => `error ${i}: ${'x'.repeat(300)}`);
    const text = encodeReport({ v: 1, output: 'missing', finishedAt: 1, kh: { ok: false, errors } });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    const decoded = decodeReport(text);
    expect(decoded.ok).toBe(true);
    const kh = decoded.ok ? decoded.report.kh! : undefined;
    expect(kh!.ok).toBe(false);
    expect(kh!.errors[0]).toBe(errors[0]);
    expect(kh!.errors.at(-1)).toBe(truncatedErrorsMarker(100 - (kh!.errors.length - 1)));
  });

  it('round-trip through a HealthState (output: kh)', () => {
    const hs = buildHealthState({ namespace: NS, jobName: 'j', jobUid: 'ju', podUid: 'pu', definitionUid: 'du', promiseRef: { name: 'p' }, report: { v: 1, output: 'missing', finishedAt: 5000, kh: { ok: false, errors: ['disk full'] } } });
    expect(hs.data).toMatchObject({ state: 'unhealthy', details: { errors: ['disk full'] } });
    expect(reportFromHealthState(hs)).toEqual({ ok: true, report: { v: 1, output: 'missing', finishedAt: 5000, kh: { ok: false, errors: ['disk full'] } } });
  });

  it('refuse a malformed Kuberhealthy report instead of trusting it', () => {
    expect(decodeReport(JSON.stringify({ v: 1, output: 'missing', finishedAt: 1, kh: { ok: false, errors: [] } }))).toMatchObject({ ok: false, message: expect.stringContaining('invalid Kuberhealthy report') });
  });
});

describe('the pod-local reporter', () => {
  const dir = tempDir('vigil-kh-');

  it('speaks the Kuberhealthy protocol: 405, 415, 400 for another run or a bad report, 200 once, then 410', async () => {
    const file = join(dir, 'report.json');
    const log = join(dir, 'termination-log');
    const r = await startKhReporter({ host: '127.0.0.1', port: 0, runUuid: 'pod-uid-1', reportFile: file, terminationLogPath: log, deadline: Date.now() + 60_000, logger: silentLogger() });
    const url = `http://127.0.0.1:${r.port}`;
    const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> => fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    try {
      expect((await fetch(`${url}/externalCheckStatus`)).status).toBe(405);
      expect((await post('/externalCheckStatus/pod-uid-1', { OK: true }, { 'content-type': 'text/plain' })).status).toBe(415);
      const other = await post('/externalCheckStatus/someone-else', { OK: true });
      expect(other.status).toBe(400);
      expect(await other.text()).toContain('this pod reports for run pod-uid-1');
      expect((await post('/externalCheckStatus', { OK: true })).status).toBe(400); // no uuid at all
      const invalid = await post('/check', { OK: false, Errors: [] }, { 'content-type': 'application/json', 'kh-run-uuid': 'pod-uid-1' });
      expect(invalid.status).toBe(400);
      expect(existsSync(file)).toBe(false);
      const ok = await post('/check', { OK: false, Errors: ['replica 2 down'] }, { 'content-type': 'application/json', 'kh-run-uuid': 'pod-uid-1' });
      expect(ok.status).toBe(200);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ok: false, errors: ['replica 2 down'] });
      expect(decodeReport(readFileSync(log, 'utf8'))).toMatchObject({ ok: true, report: { output: 'missing', kh: { ok: false, errors: ['replica 2 down'] } } });
      expect((await post('/externalCheckStatus/pod-uid-1', { OK: true })).status).toBe(410);
    } finally {
      await r.close();
    }
    const late = await startKhReporter({ host: '127.0.0.1', port: 0, runUuid: 'u', reportFile: join(dir, 'late.json'), deadline: Date.now() - 1, logger: silentLogger() });
    try {
      expect((await fetch(`http://127.0.0.1:${late.port}/externalCheckStatus/u`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"OK":true}' })).status).toBe(410);
    } finally {
      await late.close();
    }
  });
});

describe('Kuberhealthy-style checks end to end against the fake API server', () => {
  let fake: FakeKubeServer;
  let dir: string;
  let kubeconfig: string;
  const running: KubernetesController[] = [];

  beforeEach(async () => {
    fake = await FakeKubeServer.start({ namespaces: [NS] });
    dir = tempDir('vigil-kh-e2e-');
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeconfigYaml());
  });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await fake.close();
  });

  const definition = (name: string): any => fake.store.get(HD_API, 'HealthDefinition', NS, name);
  const recordFile = (name: string): string => join(dir, 'state', NS, `${name}-test-cluster.yaml`);
  const record = (name: string): any => parseYamlDocument(readFileSync(recordFile(name), 'utf8'));

  it('the check reports to the sidecar, the adapter carries the report out, the record says unhealthy with the errors; the deadline moves to the next run', async () => {
    const { controller } = makeController({ kc: fake.kubeConfig(), dir });
    running.push(controller);
    await controller.start();
    const def = khDefinition('kh-e2e');
    delete def.metadata.uid;
    fake.store.put(def);
    const cj = cronJobName(definition('kh-e2e'));
    await waitFor(() => fake.store.get('batch/v1', 'CronJob', NS, cj) !== undefined, 'CronJob');
    const template = (): any => (fake.store.get('batch/v1', 'CronJob', NS, cj) as any).spec.jobTemplate.spec.template;
    const firstDeadline = Number(template().metadata.annotations[KH_DEADLINE_ANNOTATION]);
    // The next */5 time (at most 10 s ago), plus the 120 s timeout.
    const next = (firstDeadline - 120) * 1000;
    expect(next % 300_000).toBe(0);
    expect(next).toBeGreaterThanOrEqual(Date.now() - 60_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 300_000);

    const { job, pod } = fake.workloads.fireCronJob(NS, cj, next);
    const spec = pod.spec as any;
    // The reporter sidecar, as a real process with the environment the kubelet would give it.
    const port = await freePort();
    const podDir = join(dir, 'pod');
    mkdirSync(podDir, { recursive: true });
    const reportFile = join(podDir, 'report.json');
    const reporterSpec = spec.initContainers.find((c: any) => c.name === KH_REPORTER_CONTAINER);
    const args = [...reporterSpec.args];
    args[args.indexOf('--kh-listen') + 1] = `127.0.0.1:${port}`;
    args[args.indexOf('--kh-report-file') + 1] = reportFile;
    const sidecar = spawn(process.execPath, [CLI, ...args, '--termination-log', join(podDir, 'reporter-log')], { env: { ...process.env, ...containerEnv(reporterSpec, pod) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let sidecarOut = '';
    sidecar.stdout.on('data', (d: Buffer) => { sidecarOut += d.toString(); });
    sidecar.stderr.on('data', (d: Buffer) => { sidecarOut += d.toString(); });
    const exited = new Promise<number | null>((resolve) => sidecar.on('exit', (code) => { resolve(code); }));
    try {
      await waitFor(() => sidecarOut.includes('Kuberhealthy reporting endpoint listening'), 'the sidecar listens', 30_000);
      // The check: reads its KH_* env and posts the way the Kuberhealthy client does.
      const checkEnv = containerEnv(spec.initContainers.find((c: any) => c.name === 'check'), pod);
      expect(checkEnv.KH_RUN_UUID).toBe(pod.metadata.uid);
      expect(checkEnv.KH_POD_NAMESPACE).toBe(NS);
      expect(Number(checkEnv.KH_CHECK_RUN_DEADLINE)).toBe(firstDeadline);
      const url = checkEnv.KH_REPORTING_URL!.replace(':8754/', `:${port}/`);
      expect(url).toBe(`http://127.0.0.1:${port}/externalCheckStatus/${pod.metadata.uid!}`);
      const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ OK: false, Errors: ['primary unreachable', 'replica lag 30s'] }) });
      expect(answer.status).toBe(200);
    } finally {
      sidecar.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    // The adapter: no health-status.yaml, but the report.
    const adapterSpec = spec.containers.find((c: any) => c.name === ADAPTER_CONTAINER);
    mkdirSync(join(podDir, 'output'), { recursive: true });
    const log = join(podDir, 'termination-log');
    const adapter = await vigil(['k8s-adapter', '--output-dir', join(podDir, 'output'), '--termination-log', log, '--kubeconfig', kubeconfig, '--kh-report-file', reportFile], { env: containerEnv(adapterSpec, pod) });
    expect(adapter.code, adapter.stdout + adapter.stderr).toBe(0);
    expect(fake.store.get(HD_API, 'HealthState', NS, job.metadata.name!)).toMatchObject({ data: { state: 'unhealthy', details: { errors: ['primary unreachable', 'replica lag 30s'] } } });
    fake.workloads.completePod(NS, pod.metadata.name!, { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: readFileSync(log, 'utf8') } });

    await waitFor(() => existsSync(recordFile('kh-e2e')), 'record', 20_000);
    expect(record('kh-e2e').data).toMatchObject({ state: 'unhealthy', details: { errors: ['primary unreachable', 'replica lag 30s'] } });
    // The CronJob now carries the deadline of the run after.
    await waitFor(() => Number(template().metadata.annotations[KH_DEADLINE_ANNOTATION]) === (next + 300_000) / 1000 + 120, 'deadline moved to the next run', 20_000);
  }, 120_000);

  it('a report wins over a user container failing after it; no report at all is NoReport; run-now Jobs get an exact deadline', async () => {
    const { controller } = makeController({ kc: fake.kubeConfig(), dir });
    running.push(controller);
    await controller.start();
    const def = khDefinition('kh-b');
    delete def.metadata.uid;
    fake.store.put(def);
    const cj = cronJobName(definition('kh-b'));
    await waitFor(() => fake.store.get('batch/v1', 'CronJob', NS, cj) !== undefined, 'CronJob');
    const T = Math.ceil(Date.now() / 300_000) * 300_000;

    const first = fake.workloads.fireCronJob(NS, cj, T);
    fake.workloads.completePod(NS, first.pod.metadata.name!, { kind: 'initFailed', container: 'check', exitCode: 1, message: 'panic after reporting' });
    // The kubelet keeps the sidecar's termination message on its status (the fake has no kubelet: set it as it would).
    const failedPod: any = fake.store.get('v1', 'Pod', NS, first.pod.metadata.name!);
    failedPod.status.initContainerStatuses = failedPod.status.initContainerStatuses.map((s: Record<string, unknown>): unknown => s.name === KH_REPORTER_CONTAINER
      ? { ...s, state: { terminated: { exitCode: 0, reason: 'Completed', message: encodeReport({ v: 1, output: 'missing', finishedAt: Date.now(), kh: { ok: true, errors: [] } }) } } }
      : s);
    fake.store.putStatus('v1', 'Pod', NS, failedPod.metadata.name, failedPod.status);
    await waitFor(() => existsSync(recordFile('kh-b')), 'record', 20_000);
    expect(record('kh-b').data.state).toBe('healthy');

    const second = fake.workloads.fireCronJob(NS, cj, T + 300_000);
    fake.workloads.completePod(NS, second.pod.metadata.name!, { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: encodeReport({ v: 1, output: 'missing', finishedAt: Date.now() }) } });
    await waitFor(() => record('kh-b').data.details?.error?.reason === 'NoReport', 'NoReport', 20_000);
    expect(record('kh-b').data.state).toBe('unknown');

    const before = Math.floor(Date.now() / 1000);
    const d = definition('kh-b');
    fake.store.put({ ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [RUN_NOW_ANNOTATION]: 'now-1' } } });
    await waitFor(() => fake.store.list('batch/v1', 'Job', NS).some((j: any) => j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual'), 'manual Job');
    const manual: any = fake.store.list('batch/v1', 'Job', NS).find((j: any) => j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual');
    const deadline = Number(manual.spec.template.metadata.annotations[KH_DEADLINE_ANNOTATION]);
    expect(deadline).toBeGreaterThanOrEqual(before + 120);
    expect(deadline).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 120);
  }, 120_000);
});

/**
 * The whole result path against the wire-level fake API server: a definition's desired
 * objects are created through the real client (so the server's validation accepts them),
 * the CronJob fires, the REAL `vigil k8s-adapter` process runs with the environment the pod
 * template gives it (downward API resolved from the fake's pod, as the kubelet would), and
 * interpretRun reads the result back from the HealthState and the termination message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import { FakeKubeServer, type KubeObject } from '../../support/fake-kube/index.js';
import { vigil } from '../../support/cli.js';
import { tempDir } from '../../support/tmp.js';
import type { HealthDefinition } from '../../../agent/src/core/model.js';
import { ADAPTER_CONTAINER, desiredObjects, HEALTH_STATE, interpretRun, type Plain } from '../../../agent/src/kubernetes/resources/index.js';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { HealthStateObject } from '../../../agent/src/kubernetes/transport/health-state.js';

let fake: FakeKubeServer;
let kubeconfig: string;
const dir = tempDir('vigil-adapter-');
const NS = 'team-a';

beforeAll(async () => {
  fake = await FakeKubeServer.start({ namespaces: ['default', NS] });
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, fake.kubeconfigYaml());
});
afterAll(async () => {
  await fake.close();
});

function definitionBody(name: string): HealthDefinition {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name, namespace: NS },
    spec: {
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'example', namespace: 'default' },
      schedule: '*/5 * * * *',
      input: 'apiVersion: marketplace.kratix.io/v1alpha1\nkind: Redis\n',
      workflow: {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'healthcheck' },
        spec: {
          rbac: { permissions: [{ apiGroups: ['apps'], verbs: ['get'], resources: ['statefulsets'] }, { apiGroups: [''], verbs: ['list'], resources: ['nodes'], resourceNamespace: '*' }] },
          containers: [{ name: 'check', image: 'ghcr.io/example/check:v1' }],
        },
      },
    },
  };
}

/** Creates the definition and its desired objects through the API; returns the definition as stored (with uid). */
async function install(name: string): Promise<{ def: HealthDefinition; cronJob: string }> {
  const api = fake.kubeConfig().makeApiClient(KubernetesObjectApi);
  const def = await api.create(definitionBody(name));
  const desired = desiredObjects(def, { agentImage: 'ghcr.io/vigil-health/vigil:test', destination: 'worker-1', defaultTimeoutSeconds: 300, transport: {} });
  for (const o of [...desired.namespaced, ...desired.clusterScoped, ...desired.otherNamespaces]) await api.create(o);
  return { def, cronJob: desired.cronJob.metadata!.name! };
}

/** The adapter container's environment as the kubelet would give it (values and downward API fields). */
function adapterEnv(pod: KubeObject): Record<string, string> {
  const spec = pod.spec as { containers: { name: string; env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }[] };
  const adapter = spec.containers.find((c) => c.name === ADAPTER_CONTAINER)!;
  const env: Record<string, string> = {};
  for (const e of adapter.env) {
    if (e.value !== undefined) {
      env[e.name] = e.value;
      continue;
    }
    const path = e.valueFrom!.fieldRef.fieldPath;
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    const meta = pod.metadata as unknown as Record<string, unknown>;
    env[e.name] = label ? (pod.metadata.labels?.[label[1]!] ?? '') : String(meta[path.slice('metadata.'.length)]);
  }
  return env;
}

async function runAdapterFor(pod: KubeObject, status: string | undefined, extraArgs: string[] = []): Promise<{ code: number | null; message: string; stdout: string }> {
  const root = join(dir, name(pod));
  const output = join(root, 'output');
  mkdirSync(output, { recursive: true });
  if (status !== undefined) writeFileSync(join(output, 'health-status.yaml'), status);
  const log = join(root, 'termination-log');
  const r = await vigil(['k8s-adapter', '--output-dir', output, '--termination-log', log, '--kubeconfig', kubeconfig, ...extraArgs], { env: adapterEnv(pod) });
  let message = '';
  try {
    message = readFileSync(log, 'utf8');
  } catch {
    /* not written */
  }
  return { code: r.code, message, stdout: r.stdout + r.stderr };
}

async function readHealthState(name: string): Promise<HealthStateObject | undefined> {
  const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
  try {
    return (await api.getNamespacedCustomObject({ group: HEALTH_STATE.group, version: HEALTH_STATE.version, namespace: NS, plural: HEALTH_STATE.plural, name })) as HealthStateObject;
  } catch {
    return undefined;
  }
}

function name(o: KubeObject): string {
  return o.metadata.name!;
}

function currentJob(name: string): Plain<V1Job> {
  return fake.store.get('batch/v1', 'Job', NS, name) as unknown as Plain<V1Job>;
}
function podsOf(jobName: string): Plain<V1Pod>[] {
  return fake.workloads.podsOf(NS, jobName);
}

describe('k8s-adapter against the fake API server', () => {
  it('carries health-status.yaml out as a HealthState and a termination message; interpretRun reads both', async () => {
    const { cronJob } = await install('redis-ok');
    const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T09:05:00Z'));
    const r = await runAdapterFor(pod, 'state: degraded\ndetails:\n  replicas: 1\n  want: 3\n');
    expect(r.code, r.stdout).toBe(0);
    const hs = await readHealthState(name(job));
    expect(hs?.data).toMatchObject({ promiseRef: { name: 'redis' }, resourceRef: { name: 'example', namespace: 'default' }, state: 'degraded', details: { replicas: 1, want: 3 } });
    expect(hs?.metadata?.labels?.['health.vigil.dev/job-uid']).toBe(job.metadata.uid);

    fake.workloads.completePod(NS, name(pod), { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: r.message } });
    const now = Date.parse('2026-11-22T09:06:00Z');
    const fromState = interpretRun(currentJob(name(job)), podsOf(name(job)), now, { healthState: hs! });
    expect(fromState).toMatchObject({ phase: 'finished', source: 'healthState', scheduledAt: Date.parse('2026-11-22T09:05:00Z'), result: { state: 'degraded', details: { replicas: 1, want: 3 } } });
    const fromMessage = interpretRun(currentJob(name(job)), podsOf(name(job)), now);
    expect(fromMessage).toMatchObject({ phase: 'finished', source: 'terminationMessage', result: { state: 'degraded', details: { replicas: 1, want: 3 } } });
  });

  it('reports a missing file, an invalid file and a symlinked file as such', async () => {
    const { cronJob } = await install('redis-bad');
    const cases: [string | undefined, string][] = [
      [undefined, 'MissingOutput'],
      ['state: great\n', 'InvalidOutput'],
    ];
    let minute = 0;
    for (const [content, reason] of cases) {
      const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T10:00:00Z') + minute++ * 60_000);
      const r = await runAdapterFor(pod, content);
      expect(r.code, r.stdout).toBe(0);
      fake.workloads.completePod(NS, name(pod), { kind: 'succeeded', messages: { [ADAPTER_CONTAINER]: r.message } });
      const hs = await readHealthState(name(job));
      const result = interpretRun(currentJob(name(job)), podsOf(name(job)), Date.now(), { healthState: hs! });
      expect(result).toMatchObject({ phase: 'finished', source: 'healthState', result: { state: 'unknown', reason } });
    }
    // A check that replaced the file by a link to a secret gets InvalidOutput, and the secret is not read.
    const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T11:00:00Z'));
    const output = join(dir, name(pod), 'output');
    mkdirSync(output, { recursive: true });
    writeFileSync(join(dir, 'secret'), 'state: healthy\n');
    symlinkSync(join(dir, 'secret'), join(output, 'health-status.yaml'));
    const r = await runAdapterFor(pod, undefined);
    expect(r.code).toBe(0);
    const hs = await readHealthState(name(job));
    expect(hs?.data?.details).toMatchObject({ error: { reason: 'InvalidOutput', message: expect.stringContaining('symbolic link') } });
  });

  it('truncates details with a marker: within 4096 bytes in the message, within the budget in the HealthState', async () => {
    const { cronJob } = await install('redis-big');
    const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T12:00:00Z'));
    const big = `state: healthy\ndetails:\n  summary: ok\n  dump: "${'x'.repeat(50_000)}"\n`;
    const r = await runAdapterFor(pod, big, ['--max-details-bytes', '20000']);
    expect(r.code).toBe(0);
    expect(Buffer.byteLength(r.message)).toBeLessThanOrEqual(4096);
    expect(JSON.parse(r.message)).toMatchObject({ state: 'healthy', details: { summary: 'ok', truncated: true } });
    const hs = await readHealthState(name(job));
    expect(hs?.data?.details).toMatchObject({ summary: 'ok', truncated: true, truncatedBytes: expect.any(Number) });
    expect(Buffer.byteLength(JSON.stringify(hs?.data?.details))).toBeLessThanOrEqual(20_000);
  });

  it('retries a transient API error, and is idempotent when run twice by the same pod', async () => {
    const { cronJob } = await install('redis-retry');
    const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T13:00:00Z'));
    fake.failNext({ method: 'POST', path: /\/healthstates$/ }, 503, { times: 2 });
    const r = await runAdapterFor(pod, 'state: healthy\n');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/retrying in/);
    expect((await readHealthState(name(job)))?.data?.state).toBe('healthy');
    const again = await runAdapterFor(pod, 'state: healthy\n');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/already exists/);
  });

  it('refuses to adopt a HealthState written by another pod, keeping the termination message', async () => {
    const { cronJob } = await install('redis-forged');
    const { job, pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T14:00:00Z'));
    const first = await runAdapterFor(pod, 'state: healthy\n');
    expect(first.code).toBe(0);
    const impostor = { ...pod, metadata: { ...pod.metadata, name: `${name(pod)}-x`, uid: 'another-pod' } };
    const r = await runAdapterFor(impostor, 'state: unhealthy\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/written by another pod/);
    expect(JSON.parse(r.message)).toMatchObject({ state: 'unhealthy' });
    expect((await readHealthState(name(job)))?.data?.state).toBe('healthy');
  });

  it('still writes the termination message when the API is unreachable, and exits 2 without its environment', async () => {
    const { cronJob } = await install('redis-offline');
    const { pod } = fake.workloads.fireCronJob(NS, cronJob, Date.parse('2026-11-22T15:00:00Z'));
    const offline = join(dir, 'offline-kubeconfig');
    writeFileSync(offline, fake.kubeconfigYaml().replace(fake.url, 'http://127.0.0.1:1'));
    const root = join(dir, 'offline');
    mkdirSync(join(root, 'output'), { recursive: true });
    writeFileSync(join(root, 'output', 'health-status.yaml'), 'state: ready\n');
    const r = await vigil(['k8s-adapter', '--output-dir', join(root, 'output'), '--termination-log', join(root, 'log'), '--kubeconfig', offline], { env: adapterEnv(pod) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/termination message/);
    expect(JSON.parse(readFileSync(join(root, 'log'), 'utf8'))).toMatchObject({ output: 'status', state: 'ready' });

    const bare = await vigil(['k8s-adapter', '--output-dir', join(root, 'output'), '--termination-log', join(root, 'log2')], { env: { VIGIL_POD_NAMESPACE: '' } });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/missing environment variables: VIGIL_POD_NAMESPACE, VIGIL_JOB_NAME/);
  });
});

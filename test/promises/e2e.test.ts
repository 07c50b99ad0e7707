/**
 * End to end, per Promise, locally: a resource request goes through the real pipeline process,
 * and the HealthDefinition it wrote runs, unchanged, with the real `vigil run` CLI against a
 * stand-in for the resource:
 * - web-app: a local HTTP server standing in for the app. The definition probes the Service's
 *   in-cluster URL (`http://shop.default.svc.cluster.local:<port>/healthz`), which no resolver
 *   outside a cluster knows; the vigil process gets a resolver shim (`--import`, like an
 *   /etc/hosts line) mapping `*.svc.cluster.local` to 127.0.0.1, and the server checks that the
 *   request carried the in-cluster Host. The definition itself is not rewritten.
 * - aws-rds: test/support/fake-rds.ts, the credentials coming from the Secret named in the
 *   definition (`runtime.secretsDir`), the endpoint from AWS_ENDPOINT_URL_RDS (`vigil run -e`).
 * - kubevirt-vm: a real sshd plus the wire-level fake Kubernetes API serving the VM's VMI.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { vigil } from '../support/cli.js';
import { startFakeRds, type FakeRds } from '../support/fake-rds.js';
import { FakeKubeServer } from '../support/fake-kube/index.js';
import { sshdUnavailableReason, startSshd, type Sshd } from '../support/sshd.js';
import { distMissing, makeTempDir, removeTempDir } from '../check-images/helpers.js';
import { exampleRequest, mainOf, PROMISES, runPipeline, type PipelineRun, type PromiseName } from './helpers.js';

const TIMEOUT = 120_000;
const missing = [...PROMISES.map((p) => distMissing(mainOf(p))), distMissing('agent/src/cli/main.js')].find((r) => r !== undefined);
let dir: string;
const runs: PipelineRun[] = [];
beforeAll(async () => {
  dir = await makeTempDir('vigil-promise-e2e-');
});
afterAll(async () => {
  for (const r of runs) await removeTempDir(r.dir);
  await removeTempDir(dir);
});

/** Runs the pipeline and returns the path of the HealthDefinition file it wrote. */
async function pipeline(promise: PromiseName, request: unknown): Promise<string> {
  const run = await runPipeline(promise, request);
  runs.push(run);
  expect(run.code, run.stderr).toBe(0);
  expect(run.outputs['health-definition.yaml']).toHaveLength(1);
  return join(run.dir, 'output', 'health-definition.yaml');
}

/** `vigil run <file>`: the exit code and the HealthRecord it printed. */
async function vigilRun(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = await vigil(['run', file, ...args], { env: { VIGIL_CONFIG: '', ...env }, timeoutMs: TIMEOUT });
  const record = result.stdout.trim() === '' ? undefined : (parse(result.stdout) as Record<string, any>);
  return { ...result, record };
}

describe.skipIf(missing)('Promises end to end: pipeline, then `vigil run` on the emitted HealthDefinition', () => {
  describe('web-app against a local HTTP server standing in for the app', () => {
    let server: Server;
    let port: number;
    let healthy = true;
    const seen: IncomingHttpHeaders[] = [];
    let shim: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(req.headers);
        if (req.url !== '/healthz') return void res.writeHead(404).end('not found');
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok' : 'down');
      });
      await new Promise<void>((resolve) => {
        server.listen(0, '127.0.0.1', resolve);
      });
      port = (server.address() as AddressInfo).port;
      shim = join(dir, 'cluster-dns.mjs');
      await writeFile(
        shim,
        [
          "// Test-only resolver: *.svc.cluster.local -> 127.0.0.1 (what cluster DNS does for a Service, here the local stand-in).",
          "import dns from 'node:dns';",
          'const original = dns.lookup;',
          'dns.lookup = function lookup(hostname, options, callback) {',
          "  if (typeof hostname !== 'string' || !hostname.endsWith('.svc.cluster.local')) return original.apply(this, arguments);",
          "  if (typeof options === 'function') { callback = options; options = {}; }",
          "  const all = typeof options === 'object' && options !== null && options.all;",
          "  process.nextTick(() => (all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));",
          '  return {};',
          '};',
          '',
        ].join('\n'),
      );
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
      });
    });

    it('healthy while the app answers 2xx, unhealthy when it answers 503', { timeout: TIMEOUT }, async () => {
      const request = await exampleRequest('web-app');
      request.spec.port = port;
      const file = await pipeline('web-app', request);
      const env = { NODE_OPTIONS: `--import=${pathToFileURL(shim).href}` };
      const url = `http://shop.default.svc.cluster.local:${port}/healthz`;

      const up = await vigilRun(file, [], env);
      expect(up.code, up.stderr).toBe(0);
      expect(up.record).toMatchObject({
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'HealthRecord',
        metadata: { namespace: 'default' },
        data: { promiseRef: { name: 'web-app' }, resourceRef: { name: 'shop', namespace: 'default' }, state: 'healthy' },
      });
      expect(up.record!.data.details.targets).toEqual([expect.objectContaining({ url, ok: true, status_code: 200 })]);
      expect(seen.at(-1)?.host).toBe(`shop.default.svc.cluster.local:${port}`);

      healthy = false;
      const down = await vigilRun(file, [], env);
      expect(down.code).toBe(2);
      expect(down.record!.data).toMatchObject({ state: 'unhealthy', details: { targets: [expect.objectContaining({ url, ok: false, status_code: 503 })] } });
    });
  });

  describe('aws-rds against the fake RDS API', () => {
    let fake: FakeRds;
    let config: string;
    let awsEnv: string[];
    beforeAll(async () => {
      fake = await startFakeRds();
      // The Secret the definition names (aws-rds, keys accessKeyID and secretAccessKey), as vigil's
      // local runtime reads Secrets: <secretsDir>/<namespace>/<secret>/<key>.
      const secret = join(dir, 'secrets', 'default', 'aws-rds');
      await mkdir(secret, { recursive: true });
      await writeFile(join(secret, 'accessKeyID'), fake.credentials.accessKeyId);
      await writeFile(join(secret, 'secretAccessKey'), fake.credentials.secretAccessKey);
      config = join(dir, 'vigil-rds.yaml');
      await writeFile(config, 'runtime:\n  secretsDir: ./secrets\n');
      awsEnv = [
        `AWS_ENDPOINT_URL_RDS=${fake.url}`,
        // Keep the SDK's default chain away from this machine's files and instance metadata.
        `AWS_CONFIG_FILE=${join(dir, 'no-aws-config')}`,
        `AWS_SHARED_CREDENTIALS_FILE=${join(dir, 'no-aws-credentials')}`,
        'AWS_EC2_METADATA_DISABLED=true',
      ].flatMap((e) => ['-e', e]);
    });
    afterAll(async () => {
      await fake.close();
    });

    it('reports the marketplace-named instance: healthy when available, unhealthy when stopped', { timeout: TIMEOUT }, async () => {
      const file = await pipeline('aws-rds', await exampleRequest('aws-rds'));
      fake.put({ identifier: 'example-default-mysql', status: 'available', engine: 'mysql', endpoint: { address: 'example.rds.local', port: 3306 } });

      const up = await vigilRun(file, ['--config', config, ...awsEnv]);
      expect(up.code, up.stderr).toBe(0);
      expect(up.record!.data).toMatchObject({
        promiseRef: { name: 'aws-rds' },
        resourceRef: { name: 'example', namespace: 'default' },
        state: 'healthy',
        details: { identifier: 'example-default-mysql', region: 'eu-west-1', instanceStatus: 'available', endpoint: { address: 'example.rds.local', port: 3306 } },
      });
      // Signed with the Secret's key, for the region the definition sets.
      expect(fake.requests.at(-1)).toMatchObject({ action: 'DescribeDBInstances', region: 'eu-west-1', accessKeyId: fake.credentials.accessKeyId, params: { DBInstanceIdentifier: 'example-default-mysql' } });
      expect(up.stdout + up.stderr).not.toContain(fake.credentials.secretAccessKey);

      fake.put({ identifier: 'example-default-mysql', status: 'stopped', engine: 'mysql' });
      const stopped = await vigilRun(file, ['--config', config, ...awsEnv]);
      expect(stopped.code).toBe(2);
      expect(stopped.record!.data).toMatchObject({ state: 'unhealthy', details: { instanceStatus: 'stopped', reason: 'InstanceStatus' } });
    });
  });

  const sshdSkip = sshdUnavailableReason();
  if (sshdSkip) console.warn(`skipping the kubevirt-vm end-to-end test: ${sshdSkip}`);

  describe.skipIf(sshdSkip)('kubevirt-vm against a real sshd and the fake Kubernetes API', () => {
    let sshd: Sshd;
    let kube: FakeKubeServer;
    beforeAll(async () => {
      sshd = await startSshd();
      kube = await FakeKubeServer.start({ namespaces: ['default', 'vms'] });
    });
    afterAll(async () => {
      await kube.close();
      await sshd.stop();
    });

    const vmi = (name: string, ip: string) => ({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name, namespace: 'vms', labels: { 'kubevirt.io/vm': name } },
      spec: { domain: { devices: {} } },
      status: { phase: 'Running', nodeName: 'node-1', conditions: [{ type: 'Ready', status: 'True' }], interfaces: [{ name: 'default', ipAddress: ip, ipAddresses: [ip] }] },
    });

    it('healthy when the VM\'s VMI is Running, Ready and its sshd answers; other VMs are not looked at', { timeout: TIMEOUT }, async () => {
      const request = await exampleRequest('kubevirt-vm');
      request.spec.healthCheck.sshPort = sshd.port;
      const file = await pipeline('kubevirt-vm', request);
      kube.store.put(vmi('build-agent', sshd.host));
      kube.store.put(vmi('other-vm', '127.0.0.99')); // unreachable, and not this request's VM
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, kube.kubeconfigYaml());
      const home = join(dir, 'home');
      await mkdir(home, { recursive: true });

      const up = await vigilRun(file, ['-e', `KUBECONFIG=${kubeconfig}`], { HOME: home });
      expect(up.code, up.stderr).toBe(0);
      expect(up.record!.data).toMatchObject({
        promiseRef: { name: 'kubevirt-vm' },
        resourceRef: { name: 'build-agent', namespace: 'vms' },
        state: 'healthy',
        details: { namespace: 'vms', source: 'api', summary: { total: 1, ok: 1, failed: 0 } },
      });
      expect(up.record!.data.details.vmis).toEqual([expect.objectContaining({ vm_name: 'build-agent', ip_address: sshd.host, vmi_ready: true, ssh_status: true, ssh: 'auth-refused' })]);
      expect(kube.requests.filter({ method: 'GET', path: '/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances' }).length).toBeGreaterThan(0);

      // The VM stopped: its VMI is gone.
      kube.store.delete('kubevirt.io/v1', 'VirtualMachineInstance', 'vms', 'build-agent');
      const gone = await vigilRun(file, ['-e', `KUBECONFIG=${kubeconfig}`], { HOME: home });
      expect(gone.code).toBe(3);
      expect(gone.record!.data).toMatchObject({ state: 'unknown', details: { reason: 'NoVirtualMachineInstances' } });
    });
  });
});

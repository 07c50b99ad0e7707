/**
 * The VMI check run in-process through its built-in plugin: a HealthDefinition naming
 * ghcr.io/vigil-health/check-vmi run by the LocalRuntime and by `vigil run`, against a real
 * sshd (test/support/sshd.ts) and VMIs served by the wire-level fake API server through the
 * real @kubernetes/client-node. The disconnected-mode IP cache must outlive a run and an
 * agent restart in-process, as it does for the image.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mapOutcome } from '../../agent/src/core/result.js';
import type { Container, EnvVar } from '../../agent/src/core/model.js';
import { discoverPlugins, type PluginRegistry } from '../../agent/src/plugins/discovery.js';
import { LocalRuntime } from '../../agent/src/runtimes/LocalRuntime.js';
import { kubeConfigFrom } from '../../check-images/vmi/src/plugin.js';
import type { VmiReport } from '../../check-images/vmi/src/check.js';
import { distMissing, makeTempDir, removeTempDir } from '../check-images/helpers.js';
import { checkDefinition, runRequest } from '../support/check-definition.js';
import { vigil } from '../support/cli.js';
import { FakeKubeServer } from '../support/fake-kube/index.js';
import { sshdUnavailableReason, startSshd, type Sshd } from '../support/sshd.js';

const NS = 'vms';
const UP_IP = '127.0.0.1'; // the real sshd listens there
const DOWN_IP = '127.0.0.99'; // nothing listens there
const IMAGE = 'ghcr.io/vigil-health/check-vmi:v0.1.0';

function vmiObject(name: string, ip: string, opts: { ready?: boolean } = {}) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: NS },
    spec: { domain: { devices: {} } },
    status: {
      phase: 'Running',
      nodeName: 'node-1',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      interfaces: [{ name: 'default', ipAddress: ip, ipAddresses: [ip] }],
    },
  };
}

const skipReason = sshdUnavailableReason();
if (skipReason) console.warn(`skipping the in-process VMI plugin tests: ${skipReason}`);

describe.skipIf(skipReason)('the VMI check in-process (built-in plugin, real sshd, fake API server)', () => {
  let sshd: Sshd;
  let registry: PluginRegistry;
  let kube: FakeKubeServer;
  let dir: string;
  let kubeconfig: string;
  const runtimes: LocalRuntime[] = [];
  const home = process.env.HOME;

  beforeAll(async () => {
    sshd = await startSshd();
    registry = await discoverPlugins({});
    expect(registry.failed).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await sshd.stop();
  });
  beforeEach(async () => {
    dir = await makeTempDir('vigil-vmi-plugin-');
    kube = await FakeKubeServer.start({ namespaces: ['default', NS] });
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeconfigYaml());
  });
  afterEach(async () => {
    process.env.HOME = home;
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
    await kube.close();
    await removeTempDir(dir);
  });

  const runtime = (withPlugins = true): LocalRuntime => {
    const r = new LocalRuntime({ workDir: join(dir, 'runs'), containerEngine: 'none', ...(withPlugins ? { plugins: () => Promise.resolve(registry) } : {}) });
    runtimes.push(r);
    return r;
  };
  const input = (extra = ''): string => `kubevirt_checks:\n  namespace: ${NS}\n  ssh_port: ${sshd.port}\n  timeout: 5\n  api_timeout: 3\n${extra}`;
  const container = (env: EnvVar[] = []): Container => ({ name: 'check-vmi', image: IMAGE, env: [{ name: 'KUBECONFIG', value: kubeconfig }, ...env] });
  const vmis = (details: Record<string, unknown>): VmiReport[] => details.vmis as VmiReport[];

  it('vigil plugins lists the vmi plugin with its key and image', () => {
    const entry = registry.loaded.find((p) => p.plugin.type === 'vmi');
    expect(entry).toMatchObject({ builtin: true, plugin: { configKey: 'kubevirt_checks', images: ['ghcr.io/vigil-health/check-vmi'] } });
  });

  it('runs the image in-process: some VMIs reachable is degraded, with per-VMI details', async () => {
    kube.store.put(vmiObject('vm-up', UP_IP));
    kube.store.put(vmiObject('vm-down', DOWN_IP));
    const outcome = await runtime().run(runRequest(checkDefinition([container()], { input: input() })));
    expect(outcome.containers).toMatchObject([{ name: 'check-vmi', image: IMAGE, via: 'plugin', exitCode: 0 }]);
    const result = mapOutcome(outcome);
    expect(result.state).toBe('degraded');
    expect(result.details).toMatchObject({ namespace: NS, source: 'api', summary: { total: 2, ok: 1, failed: 1 } });
    expect(vmis(result.details)).toEqual([
      expect.objectContaining({ vm_name: 'vm-down', ip_address: DOWN_IP, status: false, check_type: 'ssh_access' }),
      expect.objectContaining({ vm_name: 'vm-up', ip_address: UP_IP, ssh: 'auth-refused', status: true }),
    ]);
    expect(kube.requests.count({ method: 'GET', path: `/apis/kubevirt.io/v1/namespaces/${NS}/virtualmachineinstances` })).toBe(1);
  });

  it.skipIf(distMissing('check-images/vmi/src/main.js'))('gives the same result in-process as through the image mapping (a process)', async () => {
    kube.store.put(vmiObject('vm-up', UP_IP));
    kube.store.put(vmiObject('vm-notready', UP_IP, { ready: false }));
    const definition = checkDefinition([container()], { input: input() });
    const viaPlugin = await runtime(true).run(runRequest(definition));
    const viaImage = await runtime(false).run(runRequest(definition));
    expect(viaPlugin.containers[0]!.via).toBe('plugin');
    expect(viaImage.containers[0]!.via).toBe('process');
    const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'latency_ms' ? 0 : x))) as unknown;
    expect(mapOutcome(viaPlugin).state).toBe('degraded');
    expect(strip(mapOutcome(viaPlugin))).toEqual(strip(mapOutcome(viaImage)));
  });

  it('a broken config or kubeconfig fails the run with a message naming the field, as the image would', async () => {
    const bad = await runtime().run(runRequest(checkDefinition([container()], { input: 'kubevirt_checks:\n  namespace: vms\n  batch_size: -1\n' })));
    expect(bad.containers[0]).toMatchObject({ via: 'plugin', exitCode: 1, stderr: { text: expect.stringContaining('kubevirt_checks.batch_size: must be an integer from 0 to 10000') } });
    const missing = join(dir, 'missing-kubeconfig');
    const noKube = await runtime().run(runRequest(checkDefinition([container([{ name: 'KUBECONFIG', value: missing }])], { input: input() })));
    expect(mapOutcome(noKube)).toMatchObject({ state: 'unknown', details: { error: { reason: 'ExitCode', message: expect.stringContaining(`KUBECONFIG: cannot load ${missing}`) } } });
  });

  it('disconnected mode: the default cache file outlives the run and a new runtime (agent restart)', async () => {
    process.env.HOME = dir; // the default cache is ~/.cache/vigil/vmi-<ns>-<hash>.json of the agent's user
    kube.store.put(vmiObject('vm-a', UP_IP));
    kube.store.put(vmiObject('vm-b', DOWN_IP));
    const definition = checkDefinition([container()], { input: input('  disconnected_mode: true\n') });
    const first = mapOutcome(await runtime().run(runRequest(definition)));
    expect(first).toMatchObject({ state: 'degraded', details: { source: 'api' } });
    expect(first.details).not.toHaveProperty('cache_error');
    const cached = await readdir(join(dir, '.cache', 'vigil'));
    expect(cached).toEqual([expect.stringMatching(/^vmi-vms-[0-9a-f]{16}\.json$/)]);

    await kube.close(); // the control plane goes away
    const second = mapOutcome(await runtime().run(runRequest(definition)));
    expect(second.state).toBe('degraded');
    expect(second.details).toMatchObject({ source: 'last-known-ips', api_error: expect.stringMatching(/cannot reach the API server/), summary: { total: 2, ok: 1, failed: 1 } });
    expect(vmis(second.details).find((r) => r.vm_name === 'vm-a')).toMatchObject({ ip_address: UP_IP, vmi_ready: null, ssh_status: true, status: true });
    kube = await FakeKubeServer.start({ namespaces: ['default', NS] }); // for afterEach
  });

  it('kubeConfigFrom merges a KUBECONFIG list as kubectl does and names a file it cannot load', async () => {
    const other = join(dir, 'other');
    await writeFile(other, 'apiVersion: v1\nkind: Config\nclusters: [{name: b, cluster: {server: "https://b.example"}}]\nusers: [{name: b, user: {token: t}}]\ncontexts: [{name: b, context: {cluster: b, user: b}}]\n');
    const kc = kubeConfigFrom(`${kubeconfig}:${other}`);
    expect(kc.getCurrentContext()).toBe('fake');
    expect(kc.getClusters().map((c) => c.name).sort()).toEqual(['b', 'fake']);
    expect(() => kubeConfigFrom(join(dir, 'nope'))).toThrow(/KUBECONFIG: cannot load .*nope/);
  });

  describe.skipIf(distMissing('agent/src/cli/main.js') ?? distMissing('agent/src/plugins/builtin/vmi.check-plugin.js'))('through the compiled CLI', () => {
    it('vigil run runs the VMI image in-process; a second run with the API down uses the cached IPs', async () => {
      kube.store.put(vmiObject('vm-a', UP_IP));
      const file = join(dir, 'vms.yaml');
      const cacheFile = join(dir, 'vmi-cache.json');
      const indented = input(`  disconnected_mode: true\n  cache_file: ${cacheFile}\n`).replace(/^/gm, '    ');
      await writeFile(
        file,
        `apiVersion: platform.kratix.io/v1alpha1
kind: HealthDefinition
metadata: {name: vms-ssh, namespace: default}
spec:
  promiseRef: {name: kubevirt-vm}
  schedule: "*/10 * * * *"
  input: |
${indented}
  workflow:
    apiVersion: platform.kratix.io/v1alpha1
    kind: Pipeline
    metadata: {name: healthcheck}
    spec:
      containers:
      - {name: check-vmi, image: "${IMAGE}"}
`,
      );
      const args = ['run', file, '--output', 'json', '--log-level', 'debug', '-e', `KUBECONFIG=${kubeconfig}`];
      const first = await vigil(args, { timeoutMs: 60_000 });
      expect(first.stderr).toMatch(/"via":"plugin"/);
      expect(first.code).toBe(0);
      const record = JSON.parse(first.stdout) as { data: { state: string; details: Record<string, unknown> } };
      expect(record.data).toMatchObject({ state: 'healthy', details: { source: 'api', summary: { total: 1, ok: 1, failed: 0 } } });

      await kube.close();
      const second = await vigil(args, { timeoutMs: 60_000 });
      expect(second.code).toBe(0);
      const again = JSON.parse(second.stdout) as { data: { state: string; details: Record<string, unknown> } };
      expect(again.data).toMatchObject({ state: 'healthy', details: { source: 'last-known-ips', summary: { total: 1, ok: 1 } } });
      kube = await FakeKubeServer.start({ namespaces: ['default', NS] });
    });

    it('vigil plugins --json lists vmi among the built-ins', async () => {
      const result = await vigil(['plugins', '--json']);
      expect(result.code).toBe(0);
      const listing = JSON.parse(result.stdout) as { loaded: { type: string; builtin: boolean; images: string[] }[] };
      expect(listing.loaded.find((p) => p.type === 'vmi')).toMatchObject({ builtin: true, images: ['ghcr.io/vigil-health/check-vmi'] });
    });
  });
});

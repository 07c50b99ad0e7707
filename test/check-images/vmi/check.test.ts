/**
 * The VMI check against real peers: a real OpenSSH server (test/support/sshd.ts) reached
 * through per-"VM" loopback addresses, and VirtualMachineInstances served by the wire-level
 * fake Kubernetes API server through the real @kubernetes/client-node.
 */
import { createServer, type Server } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runVmiCheck, type VmiReport } from '../../../check-images/vmi/src/check.js';
import { parseVmiCheckConfig } from '../../../check-images/vmi/src/config.js';
import { kubeVmiApi, type VmiApi } from '../../../check-images/vmi/src/kube.js';
import { FakeKubeServer } from '../../support/fake-kube/index.js';
import { sshdUnavailableReason, startSshd, type Sshd } from '../../support/sshd.js';
import { makeTempDir, removeTempDir } from '../helpers.js';
import { startVmProxies, type VmProxies } from './tcp-proxy.js';

const NS = 'vms';
const DOWN_IP = '127.0.0.99'; // nothing listens there
const IPS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];

const skipReason = sshdUnavailableReason();
if (skipReason) console.warn(`skipping the VMI check tests: ${skipReason}`);

export function vmiObject(name: string, ip: string | undefined, opts: { ready?: boolean; phase?: string; node?: string; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: NS, labels: { 'vigil.dev/vm': name, ...opts.labels } },
    spec: { domain: { devices: {} } },
    status: {
      phase: opts.phase ?? 'Running',
      nodeName: opts.node ?? 'node-1',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      ...(ip ? { interfaces: [{ name: 'default', ipAddress: ip, ipAddresses: [ip] }] } : {}),
    },
  };
}

describe.skipIf(skipReason)('the VMI check (real sshd, fake API server, real client)', () => {
  let sshd: Sshd;
  let proxies: VmProxies;
  let kube: FakeKubeServer;
  let api: VmiApi;
  let dir: string;

  beforeAll(async () => {
    sshd = await startSshd();
    proxies = await startVmProxies(IPS, sshd.port, { holdMs: 150 });
  });
  afterAll(async () => {
    await proxies.close();
    await sshd.stop();
  });
  beforeEach(async () => {
    kube = await FakeKubeServer.start({ namespaces: ['default', NS] });
    api = kubeVmiApi(5_000, kube.kubeConfig());
    dir = await makeTempDir('vigil-vmi-');
    proxies.reset();
  });
  afterEach(async () => {
    await kube.close();
    await removeTempDir(dir);
  });

  const config = (extra: Record<string, unknown> = {}) =>
    parseVmiCheckConfig({ namespace: NS, ssh_port: proxies.port, timeout: 5, cache_file: join(dir, 'cache.json'), ...extra });
  const seed = (...objects: ReturnType<typeof vmiObject>[]) => {
    for (const o of objects) kube.store.put(o);
  };
  const vmis = (details: Record<string, unknown> | undefined) => details?.vmis as VmiReport[];

  it('all VMIs reachable: healthy; without a key an authentication refusal counts as reachable', async () => {
    seed(vmiObject('vm-a', IPS[0]), vmiObject('vm-b', IPS[1]));
    const result = await runVmiCheck(config(), { api });
    expect(result.state).toBe('healthy');
    expect(result.details).toMatchObject({ namespace: NS, source: 'api', summary: { total: 2, ok: 2, failed: 0 } });
    expect(vmis(result.details)).toEqual([
      expect.objectContaining({ vm_name: 'vm-a', ip_address: IPS[0], node_name: 'node-1', phase: 'Running', vmi_ready: true, ssh_status: true, ssh: 'auth-refused', status: true, check_type: 'healthy' }),
      expect.objectContaining({ vm_name: 'vm-b', ip_address: IPS[1], status: true }),
    ]);
    expect(sshd.log()).toMatch(/root/); // sshd saw the probe (and refused user root)
  });

  it('logs in with a private key given as content or as a path; a refused key is a failure', async () => {
    seed(vmiObject('vm-a', IPS[0]));
    const asContent = await runVmiCheck(config({ ssh_user: sshd.user, ssh_private_key: sshd.userKey }), { api });
    expect(asContent.state).toBe('healthy');
    expect(vmis(asContent.details)[0]).toMatchObject({ ssh: 'login', ssh_status: true });

    const asPath = await runVmiCheck(config({ ssh_user: sshd.user, ssh_private_key: sshd.userKeyPath }), { api });
    expect(vmis(asPath.details)[0]).toMatchObject({ ssh: 'login' });

    const refused = await runVmiCheck(config({ ssh_user: 'nobody-else', ssh_private_key: sshd.userKey }), { api });
    expect(refused.state).toBe('unhealthy');
    expect(vmis(refused.details)[0]).toMatchObject({ ssh: 'failed', check_type: 'ssh_access', error: expect.stringMatching(/authentication/) });
    expect(JSON.stringify(refused)).not.toContain('PRIVATE KEY');
  });

  it('some VMIs bad (unreachable, not Ready, no IP): degraded, each failure says what failed', async () => {
    seed(
      vmiObject('vm-a', IPS[0]),
      vmiObject('vm-down', DOWN_IP),
      vmiObject('vm-notready', IPS[1], { ready: false }),
      vmiObject('vm-noip', undefined, { phase: 'Scheduling', ready: false }),
    );
    const result = await runVmiCheck(config({ timeout: 3 }), { api });
    expect(result.state).toBe('degraded');
    expect(result.details).toMatchObject({ summary: { total: 4, ok: 1, failed: 3 } });
    const byName = Object.fromEntries(vmis(result.details).map((r) => [r.vm_name, r]));
    expect(byName['vm-down']).toMatchObject({ status: false, ssh_status: false, vmi_ready: true, check_type: 'ssh_access', error: expect.stringMatching(/ECONNREFUSED/) });
    expect(byName['vm-notready']).toMatchObject({ status: false, ssh_status: true, vmi_ready: false, check_type: 'vmi_ready' });
    expect(byName['vm-noip']).toMatchObject({ status: false, ip_address: null, phase: 'Scheduling', check_type: 'both', error: expect.stringMatching(/no IP address/) });
  });

  it('no VMI reachable: unhealthy', async () => {
    seed(vmiObject('vm-x', DOWN_IP), vmiObject('vm-y', DOWN_IP));
    const result = await runVmiCheck(config(), { api });
    expect(result.state).toBe('unhealthy');
    expect(result.details).toMatchObject({ summary: { total: 2, ok: 0, failed: 2 } });
  });

  it('no VMIs: unknown with a reason naming the namespace and the filters', async () => {
    const none = await runVmiCheck(config(), { api });
    expect(none).toEqual({ state: 'unknown', details: { reason: 'NoVirtualMachineInstances', message: `no VirtualMachineInstance in namespace "${NS}"` } });
    seed(vmiObject('vm-a', IPS[0]));
    const filtered = await runVmiCheck(config({ label_selector: 'vigil.dev/vm=other' }), { api });
    expect(filtered.state).toBe('unknown');
    expect(filtered.details?.message).toContain('label selector "vigil.dev/vm=other"');
  });

  it('filters by label selector (on the server), name and node', async () => {
    seed(
      vmiObject('web-1', IPS[0], { node: 'node-1', labels: { tier: 'web' } }),
      vmiObject('web-2', IPS[1], { node: 'node-2', labels: { tier: 'web' } }),
      vmiObject('db-1', DOWN_IP, { node: 'node-1', labels: { tier: 'db' } }),
    );
    const byLabel = await runVmiCheck(config({ label_selector: 'tier=web' }), { api });
    expect(vmis(byLabel.details).map((r) => r.vm_name)).toEqual(['web-1', 'web-2']);
    expect(kube.requests.filter({ path: `/apis/kubevirt.io/v1/namespaces/${NS}/virtualmachineinstances` }).at(-1)?.query.labelSelector).toBe('tier=web');
    const byNode = await runVmiCheck(config({ node_names: 'node-2,node-9' }), { api });
    expect(vmis(byNode.details).map((r) => r.vm_name)).toEqual(['web-2']);
    const byName = await runVmiCheck(config({ name: 'web-.*', node_name: 'node-1' }), { api });
    expect(vmis(byName.details).map((r) => r.vm_name)).toEqual(['web-1']);
  });

  it('only_failures keeps only failing VMIs in details; the summary still counts all', async () => {
    seed(vmiObject('vm-a', IPS[0]), vmiObject('vm-down', DOWN_IP));
    const result = await runVmiCheck(config({ only_failures: true }), { api });
    expect(result.state).toBe('degraded');
    expect(result.details).toMatchObject({ summary: { total: 2, ok: 1, failed: 1 } });
    expect(vmis(result.details).map((r) => r.vm_name)).toEqual(['vm-down']);
  });

  it('a VMI whose IP changed after a restart is re-read and probed at its new IP', async () => {
    seed(vmiObject('vm-a', DOWN_IP), vmiObject('vm-b', IPS[1]));
    // The VM restarts right after the list: the list still has its old IP, the API has the new one.
    const restarting: VmiApi = {
      list: async (ns, selector) => {
        const items = await api.list(ns, selector);
        kube.store.put(vmiObject('vm-a', IPS[0]));
        return items;
      },
      get: (ns, name) => api.get(ns, name),
    };
    const result = await runVmiCheck(config(), { api: restarting });
    expect(result.state).toBe('healthy');
    expect(vmis(result.details)[0]).toMatchObject({ vm_name: 'vm-a', ip_address: DOWN_IP, new_ip_address: IPS[0], ssh_status: true, status: true });
    expect(kube.requests.count({ method: 'GET', path: `/apis/kubevirt.io/v1/namespaces/${NS}/virtualmachineinstances/vm-a` })).toBe(1);
    expect(kube.requests.count({ path: `/apis/kubevirt.io/v1/namespaces/${NS}/virtualmachineinstances/vm-b` })).toBe(0);
  });

  it('a VMI deleted between list and probe is reported as gone', async () => {
    seed(vmiObject('vm-a', DOWN_IP), vmiObject('vm-b', IPS[1]));
    const deleting: VmiApi = {
      list: async (ns, selector) => {
        const items = await api.list(ns, selector);
        kube.store.delete('kubevirt.io/v1', 'VirtualMachineInstance', NS, 'vm-a');
        return items;
      },
      get: (ns, name) => api.get(ns, name),
    };
    const result = await runVmiCheck(config(), { api: deleting });
    expect(result.state).toBe('degraded');
    expect(vmis(result.details)[0]).toMatchObject({ vm_name: 'vm-a', status: false, error: 'the VirtualMachineInstance no longer exists' });
  });

  it('batch_size bounds the probes in flight; 0 means all at once', async () => {
    seed(...IPS.map((ip, i) => vmiObject(`vm-${i}`, ip)));
    const two = await runVmiCheck(config({ batch_size: 2 }), { api });
    expect(two.state).toBe('healthy');
    expect(proxies.accepted).toBe(IPS.length);
    expect(proxies.maxConcurrent).toBe(2);

    proxies.reset();
    const one = await runVmiCheck(config({ batch_size: 1 }), { api });
    expect(one.state).toBe('healthy');
    expect(proxies.maxConcurrent).toBe(1);

    proxies.reset();
    const all = await runVmiCheck(config({ batch_size: 0 }), { api });
    expect(all.state).toBe('healthy');
    expect(proxies.maxConcurrent).toBe(IPS.length);
  });

  it('a probe that gets no SSH answer fails at the per-probe timeout', async () => {
    const silent: Server = createServer(() => undefined); // accepts, never speaks
    await new Promise<void>((resolve) => silent.listen(proxies.port, '127.0.0.40', () => { resolve(); }));
    try {
      seed(vmiObject('vm-silent', '127.0.0.40'), vmiObject('vm-a', IPS[0]));
      const result = await runVmiCheck(config({ timeout: 1 }), { api });
      expect(result.state).toBe('degraded');
      expect(vmis(result.details).find((r) => r.vm_name === 'vm-silent')).toMatchObject({ status: false, error: expect.stringMatching(/within 1000 ms|Timed out/) });
    } finally {
      silent.close();
    }
  });

  describe('API server unreachable', () => {
    it('without disconnected mode: unknown, ApiUnreachable', async () => {
      seed(vmiObject('vm-a', IPS[0]));
      kube.failNext({ path: /virtualmachineinstances$/ }, 'drop');
      const result = await runVmiCheck(config(), { api });
      expect(result.state).toBe('unknown');
      expect(result.details).toMatchObject({ reason: 'ApiUnreachable', message: expect.stringMatching(/cannot reach the API server/) });
    });

    it('an API refusal (403) is an ApiError even in disconnected mode: the cache is not used', async () => {
      seed(vmiObject('vm-a', IPS[0]));
      await runVmiCheck(config({ disconnected_mode: true }), { api });
      kube.failNext({ path: /virtualmachineinstances$/ }, 403);
      const result = await runVmiCheck(config({ disconnected_mode: true }), { api });
      expect(result).toMatchObject({ state: 'unknown', details: { reason: 'ApiError', message: expect.stringMatching(/HTTP 403/) } });
    });

    it('disconnected mode keeps probing the last known IPs, readiness unknown', async () => {
      seed(vmiObject('vm-a', IPS[0]), vmiObject('vm-b', IPS[1]), vmiObject('vm-c', DOWN_IP));
      const first = await runVmiCheck(config({ disconnected_mode: true }), { api });
      expect(first.state).toBe('degraded');
      const cache = JSON.parse(await readFile(join(dir, 'cache.json'), 'utf8')) as { vmis: Record<string, unknown> };
      expect(cache.vmis).toEqual({ 'vm-a': { ip: IPS[0], node: 'node-1' }, 'vm-b': { ip: IPS[1], node: 'node-1' }, 'vm-c': { ip: DOWN_IP, node: 'node-1' } });

      await kube.close(); // the control plane goes away
      const second = await runVmiCheck(config({ disconnected_mode: true, api_timeout: 2 }), { api });
      expect(second.state).toBe('degraded');
      expect(second.details).toMatchObject({ source: 'last-known-ips', api_error: expect.stringMatching(/cannot reach the API server/), summary: { total: 3, ok: 2, failed: 1 } });
      expect(vmis(second.details)[0]).toEqual(expect.objectContaining({ vm_name: 'vm-a', ip_address: IPS[0], vmi_ready: null, ssh_status: true, status: true }));
      expect(vmis(second.details)[0]).not.toHaveProperty('phase');
      kube = await FakeKubeServer.start({ namespaces: ['default', NS] }); // for afterEach
    });

    it('a client-side error (an unusable kubeconfig) is an ApiError, not unreachable: disconnected mode does not hide it', async () => {
      seed(vmiObject('vm-a', IPS[0]));
      await runVmiCheck(config({ disconnected_mode: true }), { api });
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'plain', server: kube.url, skipTLSVerify: false }],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'c', cluster: 'plain', user: 'u' }],
        currentContext: 'c',
      });
      const result = await runVmiCheck(config({ disconnected_mode: true }), { api: kubeVmiApi(5_000, kc) });
      expect(result).toMatchObject({ state: 'unknown', details: { reason: 'ApiError', message: expect.stringMatching(/^list virtualmachineinstances in vms: .*skipTLSVerify/) } });
    });

    it('disconnected mode without last known IPs: unknown, saying so', async () => {
      kube.failNext({ path: /virtualmachineinstances$/ }, 'drop');
      const result = await runVmiCheck(config({ disconnected_mode: true }), { api });
      expect(result).toMatchObject({ state: 'unknown', details: { reason: 'ApiUnreachable', message: expect.stringMatching(/no last known IPs/) } });
    });

    it('disconnected mode re-reads a VMI whose cached IP fails once the API answers again, and updates the cache', async () => {
      const cacheFile = join(dir, 'cache.json');
      await mkdir(dir, { recursive: true });
      await writeFile(cacheFile, JSON.stringify({ format: 'vigil.vmi-cache/v1', namespace: NS, updatedAt: 0, vmis: { 'vm-a': { ip: DOWN_IP }, 'vm-b': { ip: IPS[1] } } }));
      seed(vmiObject('vm-a', IPS[0]), vmiObject('vm-b', IPS[1]));
      kube.failNext({ path: /virtualmachineinstances$/ }, 'drop'); // the list fails, single GETs work again
      const result = await runVmiCheck(config({ disconnected_mode: true }), { api });
      expect(result.state).toBe('healthy');
      expect(result.details).toMatchObject({ source: 'last-known-ips' });
      expect(vmis(result.details)[0]).toMatchObject({ vm_name: 'vm-a', ip_address: DOWN_IP, new_ip_address: IPS[0], vmi_ready: true, status: true });
      const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { vmis: Record<string, { ip: string }> };
      expect(cache.vmis['vm-a']?.ip).toBe(IPS[0]);
    });
  });
});

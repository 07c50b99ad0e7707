/**
 * `vigil watch` with Krkn's kubevirt_checks, as a real process: VirtualMachineInstances
 * served by the wire-level fake Kubernetes API server (reached through KUBECONFIG by the
 * real @kubernetes/client-node) and SSH probes to a real OpenSSH server.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeServer } from '../support/fake-kube/index.js';
import { sshdUnavailableReason, startSshd, type Sshd } from '../support/sshd.js';
import { CLI, REPO, vigil } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import type { WatchTelemetry } from '../../agent/src/watch/report.js';

const NS = 'vms';
const skipReason = sshdUnavailableReason();
if (skipReason) console.warn(`skipping the vigil watch VM tests: ${skipReason}`);

function vmi(name: string, ip: string, ready: boolean): Record<string, unknown> {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: NS },
    spec: { domain: { devices: {} } },
    status: { phase: 'Running', nodeName: 'node-1', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], interfaces: [{ name: 'default', ipAddress: ip, ipAddresses: [ip] }] },
  };
}

describe.skipIf(skipReason)('vigil watch with kubevirt_checks (real sshd, fake API server)', () => {
  let sshd: Sshd;
  let kube: FakeKubeServer;
  let kubeconfig: string;
  beforeAll(async () => {
    sshd = await startSshd();
    kube = await FakeKubeServer.start({ namespaces: ['default', NS] });
    kubeconfig = join(tempDir(), 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeconfigYaml());
  });
  afterAll(async () => {
    await kube.close();
    await sshd.stop();
  });

  const config = (kv: Record<string, unknown>): string => {
    const file = join(tempDir(), 'krkn.yaml');
    writeFileSync(file, `kubevirt_checks: ${JSON.stringify({ namespace: NS, ssh_port: sshd.port, timeout: 5, interval: 0.2, ...kv })}\n`);
    return file;
  };

  it('records VirtCheck windows as a VM loses readiness and recovers; exit 3 with exit_on_failure', async () => {
    kube.store.put(vmi('vm-a', '127.0.0.1', true) as never);
    kube.store.put(vmi('vm-b', '127.0.0.1', true) as never);
    const file = config({ exit_on_failure: true });
    // The flips follow the watch's own start (process start-up time varies).
    const child = spawn(process.execPath, [CLI, 'watch', '-c', file, '--duration', '4', '--signal-listen', 'off'], { cwd: REPO, env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = { code: null as number | null, stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => { r.stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { r.stderr += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    await waitFor(() => r.stderr.includes('"msg":"watch started"'), 'the watch', 20_000);
    await new Promise((res) => setTimeout(res, 800));
    kube.store.put(vmi('vm-b', '127.0.0.1', false) as never);
    await new Promise((res) => setTimeout(res, 1000));
    kube.store.put(vmi('vm-b', '127.0.0.1', true) as never);
    r.code = await exited;
    expect(r.code, r.stderr).toBe(3);
    const t = JSON.parse(r.stdout) as WatchTelemetry;
    expect(t.summary.exit_reason).toBe('failure on VM vm-b (exit_on_failure)');
    expect(t.health_checks).toEqual([]);
    const b = t.vms!.find((v) => v.vm_name === 'vm-b')!;
    expect(b.windows.map((w) => [w.status, w.vmi_ready, w.ssh_status, w.check_type])).toEqual([
      [true, true, true, 'healthy'],
      [false, false, true, 'vmi_ready'],
      [true, true, true, 'healthy'],
    ]);
    expect(b.downtime_seconds).toBeGreaterThan(0);
    expect(b.windows[1]).toMatchObject({ vm_name: 'vm-b', namespace: NS, ip_address: '127.0.0.1', node_name: 'node-1' });
    expect(t.vms!.find((v) => v.vm_name === 'vm-a')!.windows).toHaveLength(1);
    expect(t.virt_checks).toHaveLength(4);
    expect(t.post_virt_checks).toEqual([]);
  });

  it('only_failures keeps the failing windows; a VM whose sshd does not answer fails post_virt_checks; exit 0 without exit_on_failure', async () => {
    kube.store.put(vmi('vm-a', '127.0.0.1', true) as never);
    kube.store.put(vmi('vm-b', '127.0.0.99', true) as never); // nothing listens there
    const file = config({ only_failures: true, timeout: 1 });
    const r = await vigil(['watch', '-c', file, '--duration', '1.5', '--signal-listen', 'off'], { env: { KUBECONFIG: kubeconfig } });
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as WatchTelemetry;
    expect(t.summary.exit_reason).toBe('failures on targets without exit_on_failure only');
    expect(t.virt_checks!.every((w) => !w.status && w.vm_name === 'vm-b' && w.check_type === 'ssh_access')).toBe(true);
    expect(t.virt_checks!.length).toBeGreaterThan(0);
    expect(t.post_virt_checks).toEqual([expect.objectContaining({ vm_name: 'vm-b', status: false, duration: 0 })]);
  });
});

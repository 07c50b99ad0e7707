/**
 * Krkn's KubeVirt health watch (`kubevirt_checks`, peers.md §4.3) on top of the VMI check
 * (check-images/vmi runVmiCheck: VMI readiness from the API, SSH reachability, disconnected
 * mode, IP-change re-read): one round every interval, and per VM a window that closes when
 * its SSH status or readiness changes. Records use Krkn's VirtCheck fields. At the end one
 * more round gives `post_virt_checks` (failing VMs only, duration 0), as Krkn's
 * gather_post_virt_checks does.
 */
import { runVmiCheck, type VmiReport } from '../../../check-images/vmi/src/check.js';
import type { VmiCheckConfig } from '../../../check-images/vmi/src/config.js';
import type { VmiApi } from '../../../check-images/vmi/src/kube.js';
import type { SshProber } from '../../../check-images/vmi/src/ssh.js';

/** Krkn's VirtCheck record. */
export interface VirtWindow {
  vm_name: string;
  ip_address: string | null;
  new_ip_address?: string;
  namespace: string;
  node_name: string | null;
  ssh_status: boolean;
  /** null when readiness was unknown (API unreachable, disconnected mode). */
  vmi_ready: boolean | null;
  status: boolean;
  check_type: VmiReport['check_type'];
  start_timestamp: string;
  end_timestamp: string;
  duration: number;
  /** Why the VM failed, when it did. */
  error?: string;
}

export interface VirtWatchReport {
  /** Every window (or only the failing ones with only_failures), by start time. */
  windows: VirtWindow[];
  /** Per VM: its windows (all of them) and downtime. */
  vms: { vm_name: string; rounds: number; failed_rounds: number; downtime_seconds: number; windows: VirtWindow[] }[];
  post: VirtWindow[];
  rounds: number;
  /** Rounds that could judge no VMI (API unreachable, no VMIs), with the last reason. */
  failed_rounds: number;
  last_round_error?: string;
}

export interface VirtWatchOptions {
  intervalMs: number;
  durationMs: number;
  signal: AbortSignal;
  onlyFailures: boolean;
  api?: VmiApi;
  probe?: SshProber;
  onRoundError?: (message: string) => void;
}

export async function watchVmis(config: VmiCheckConfig, o: VirtWatchOptions): Promise<VirtWatchReport> {
  const startedAt = Date.now();
  const endAt = startedAt + o.durationMs;
  const cfg: VmiCheckConfig = { ...config, onlyFailures: false };
  const tracks = new Map<string, Track>();
  let rounds = 0;
  let failedRounds = 0;
  let lastError: string | undefined;
  const round = async (signal: AbortSignal): Promise<VmiReport[] | undefined> => {
    try {
      const r = await runVmiCheck(cfg, { signal, maxStatusBytes: Number.POSITIVE_INFINITY, ...(o.api ? { api: o.api } : {}), ...(o.probe ? { probe: o.probe } : {}) });
      const vmis = (r.details as { vmis?: VmiReport[] } | undefined)?.vmis;
      if (!Array.isArray(vmis)) {
        const d = r.details as { reason?: string; message?: string } | undefined;
        lastError = `${d?.reason ?? 'error'}: ${d?.message ?? ''}`;
        o.onRoundError?.(lastError);
        return undefined;
      }
      return vmis;
    } catch (err) {
      if (signal.aborted) return undefined;
      lastError = (err as Error).message;
      o.onRoundError?.(lastError);
      return undefined;
    }
  };

  let next = startedAt;
  while (!o.signal.aborted && Date.now() < endAt) {
    const at = Date.now();
    const vmis = await round(o.signal);
    if (isAborted(o.signal)) break;
    rounds++;
    if (vmis) {
      for (const v of vmis) {
        let t = tracks.get(v.vm_name);
        if (!t) tracks.set(v.vm_name, (t = new Track(config.namespace)));
        t.observe(at, v);
      }
    } else failedRounds++;
    next += o.intervalMs;
    const now = Date.now();
    if (next <= now) next += Math.ceil((now - next + 1) / o.intervalMs) * o.intervalMs;
    if (next >= endAt) break;
    await sleep(next - now, o.signal);
  }
  if (!o.signal.aborted) await sleep(endAt - Date.now(), o.signal);
  const finishedAt = Date.now();
  for (const t of tracks.values()) t.close(finishedAt);

  // Krkn's post-run check: one more round, failing VMs only.
  const post: VirtWindow[] = [];
  const last = await round(AbortSignal.timeout(config.apiTimeoutMs * 2 + config.timeoutMs * 2 + 5_000));
  const now = new Date().toISOString();
  for (const v of last ?? []) if (!v.status) post.push({ ...record(config.namespace, v), start_timestamp: now, end_timestamp: now, duration: 0 });

  const all = [...tracks.values()].flatMap((t) => t.windows);
  const windows = (o.onlyFailures ? all.filter((w) => !w.status) : all).sort((a, b) => a.start_timestamp.localeCompare(b.start_timestamp));
  return {
    windows,
    vms: [...tracks.entries()].map(([vm_name, t]) => ({ vm_name, rounds: t.rounds, failed_rounds: t.failed, downtime_seconds: t.downtimeMs / 1000, windows: t.windows })),
    post,
    rounds,
    failed_rounds: failedRounds,
    ...(lastError !== undefined ? { last_round_error: lastError } : {}),
  };
}

function record(namespace: string, v: VmiReport): Omit<VirtWindow, 'start_timestamp' | 'end_timestamp' | 'duration'> {
  return {
    vm_name: v.vm_name,
    ip_address: v.ip_address,
    ...(v.new_ip_address ? { new_ip_address: v.new_ip_address } : {}),
    namespace,
    node_name: v.node_name ?? null,
    ssh_status: v.ssh_status,
    vmi_ready: v.vmi_ready,
    status: v.status,
    check_type: v.check_type,
    ...(v.error !== undefined && !v.status ? { error: v.error } : {}),
  };
}

class Track {
  readonly windows: VirtWindow[] = [];
  rounds = 0;
  failed = 0;
  downtimeMs = 0;
  private open: { key: string; start: number; rec: ReturnType<typeof record> } | undefined;

  constructor(private readonly namespace: string) {}

  observe(at: number, v: VmiReport): void {
    this.rounds++;
    if (!v.status) this.failed++;
    const key = `${v.ssh_status}/${String(v.vmi_ready)}/${v.new_ip_address ?? v.ip_address ?? ''}`;
    if (this.open?.key === key) return;
    this.close(at);
    this.open = { key, start: at, rec: record(this.namespace, v) };
  }

  close(at: number): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const end = Math.max(at, open.start);
    if (!open.rec.status) this.downtimeMs += end - open.start;
    this.windows.push({ ...open.rec, start_timestamp: new Date(open.start).toISOString(), end_timestamp: new Date(end).toISOString(), duration: (end - open.start) / 1000 });
  }
}

/** Read through a call so that the compiler does not narrow it across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

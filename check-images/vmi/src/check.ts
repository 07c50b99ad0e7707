/**
 * The VMI check as a function: list the VirtualMachineInstances, probe each one's SSH with
 * bounded concurrency, and turn the answers into a state and compact details. Shared by
 * the image's main and the in-process plugin.
 *
 * A VMI is good when its phase is Running with condition Ready=True and its sshd answers.
 * All good -> healthy, some -> degraded, none -> unhealthy, no VMIs -> unknown with a reason.
 *
 * Disconnected mode: when the API server cannot be reached, the VMIs and IPs from the last
 * run that could reach it are probed (readiness is then unknown and only SSH counts).
 * Whatever the mode, a VMI whose probe fails is re-read once: when its IP changed (a VM
 * restarted and got a new address, Krkn PR#932) the new IP is probed and reported.
 */
import { serializeStatus, TERMINATION_MESSAGE_BYTES, type CheckResult, type HealthState } from '../../sdk/src/index.js';
import { readCache, writeCache, type KnownVmi } from './cache.js';
import type { VmiCheckConfig } from './config.js';
import { classify, kubeVmiApi, type VmiApi } from './kube.js';
import { probeSsh, type SshProber, type SshProbeResult } from './ssh.js';
import { selectVmis, summarizeVmi, type VmiSummary } from './vmi.js';

export { loadVmiCheckConfig, parseVmiCheckConfig, VMI_CHECK_KEY } from './config.js';
export type { VmiCheckConfig } from './config.js';

/** Default size budget of the whole health-status.yaml, so it fits a Kubernetes termination message. */
export const DEFAULT_MAX_STATUS_BYTES = TERMINATION_MESSAGE_BYTES - 96;

/** Why a run could not judge any VMI (`details.reason` of an `unknown` result). */
export const VMI_CHECK_REASONS = {
  noVmis: 'NoVirtualMachineInstances',
  apiUnreachable: 'ApiUnreachable',
  apiError: 'ApiError',
} as const;

export interface RunVmiCheckOptions {
  /** Aborting stops every probe; runVmiCheck then rejects with the abort reason. */
  signal?: AbortSignal;
  /** The Kubernetes API (default: @kubernetes/client-node from KUBECONFIG or in-cluster). */
  api?: VmiApi;
  /** The SSH probe (default: ssh2). */
  probe?: SshProber;
  /** Details are shortened until the serialised health-status.yaml fits this many bytes. */
  maxStatusBytes?: number;
  clock?: { now(): number };
}

/** One VMI in `details.vmis`; the field names are those of Krkn's VirtCheck records. */
export interface VmiReport {
  vm_name: string;
  ip_address: string | null;
  /** Present when the VMI was re-read after a failed probe and had another IP. */
  new_ip_address?: string;
  node_name?: string;
  /** Absent when the VMI is known only from the last-known-IP cache. */
  phase?: string;
  /** null when unknown (API unreachable). */
  vmi_ready: boolean | null;
  ssh_status: boolean;
  /** `login`, `auth-refused` (sshd answered; no key configured) or `failed`. */
  ssh: SshProbeResult['outcome'];
  status: boolean;
  /** What failed: `healthy` (nothing), `ssh_access`, `vmi_ready` or `both`. */
  check_type: 'healthy' | 'ssh_access' | 'vmi_ready' | 'both';
  latency_ms?: number;
  error?: string;
}

/** Runs one round of probes over the selected VMIs. */
export async function runVmiCheck(config: VmiCheckConfig, opts: RunVmiCheckOptions = {}): Promise<CheckResult> {
  const api = opts.api ?? kubeVmiApi(config.apiTimeoutMs);
  const probe = opts.probe ?? probeSsh;
  const clock = opts.clock ?? Date;
  const selection = `in namespace "${config.namespace}"${describeFilters(config)}`;

  let vmis: VmiSummary[];
  let source: 'api' | 'last-known-ips' = 'api';
  let apiError: string | undefined;
  try {
    vmis = selectVmis(await api.list(config.namespace, config.labelSelector), config);
  } catch (err) {
    const failure = classify(err, 'list VirtualMachineInstances');
    if (!config.disconnectedMode || failure.kind !== 'unreachable') {
      const reason = failure.kind === 'unreachable' ? VMI_CHECK_REASONS.apiUnreachable : VMI_CHECK_REASONS.apiError;
      return { state: 'unknown', details: { reason, message: failure.message } };
    }
    const cache = await readCache(config.cacheFile, config.namespace);
    vmis = cache ? selectVmis(fromCache(cache.vmis), config).map(({ name, ip, node }) => ({ name, ...(ip ? { ip } : {}), ...(node ? { node } : {}) })) : [];
    if (vmis.length === 0) {
      return {
        state: 'unknown',
        details: {
          reason: VMI_CHECK_REASONS.apiUnreachable,
          message: `${failure.message}; disconnected mode has no last known IPs ${selection} (cache ${config.cacheFile})`,
        },
      };
    }
    source = 'last-known-ips';
    apiError = failure.message;
  }
  opts.signal?.throwIfAborted();
  if (vmis.length === 0) {
    return { state: 'unknown', details: { reason: VMI_CHECK_REASONS.noVmis, message: `no VirtualMachineInstance ${selection}` } };
  }

  // Once a re-read finds the API unreachable, later failures are not re-read (each would wait for the timeout).
  let apiDown = false;
  const reread = async (name: string): Promise<VmiSummary | 'gone' | undefined> => {
    if (apiDown) return undefined;
    try {
      const raw = await api.get(config.namespace, name);
      return raw === undefined ? 'gone' : summarizeVmi(raw);
    } catch (err) {
      if (classify(err, 'get').kind === 'unreachable') apiDown = true;
      return undefined;
    }
  };

  const checkOne = async (vmi: VmiSummary): Promise<VmiReport> => {
    let current = vmi;
    let result = vmi.ip ? await probe(target(config, vmi.ip), opts.signal) : undefined;
    let newIp: string | undefined;
    let gone = false;
    if (!result?.ok && !opts.signal?.aborted) {
      const fresh = await reread(vmi.name);
      if (fresh === 'gone') gone = true;
      else if (fresh) {
        current = source === 'api' ? fresh : { ...vmi, ...fresh };
        if (fresh.ip && fresh.ip !== vmi.ip) {
          newIp = fresh.ip;
          result = await probe(target(config, fresh.ip), opts.signal);
        }
      }
    }
    return report(current, vmi.ip, newIp, result, gone, source === 'api' || current !== vmi);
  };

  const reports = await mapLimit(vmis, config.batchSize, checkOne);
  opts.signal?.throwIfAborted();

  let cacheError: string | undefined;
  if (config.disconnectedMode) {
    const known: Record<string, KnownVmi> = {};
    if (source !== 'api') {
      const old = await readCache(config.cacheFile, config.namespace);
      Object.assign(known, old?.vmis ?? {});
    }
    for (const r of reports) {
      const ip = r.new_ip_address ?? r.ip_address;
      if (ip) known[r.vm_name] = { ip, ...(r.node_name ? { node: r.node_name } : {}) };
    }
    cacheError = await writeCache(config.cacheFile, { namespace: config.namespace, updatedAt: clock.now(), vmis: known });
  }

  const ok = reports.filter((r) => r.status).length;
  const state: HealthState = ok === reports.length ? 'healthy' : ok === 0 ? 'unhealthy' : 'degraded';
  const summary = { total: reports.length, ok, failed: reports.length - ok };
  const listed = config.onlyFailures ? reports.filter((r) => !r.status) : reports;
  const head: Record<string, unknown> = {
    namespace: config.namespace,
    source,
    ...(apiError ? { api_error: apiError } : {}),
    ...(cacheError ? { cache_error: cacheError } : {}),
  };
  return { state, details: fitDetails(state, head, listed, summary, opts.maxStatusBytes ?? DEFAULT_MAX_STATUS_BYTES) };
}

function target(config: VmiCheckConfig, host: string) {
  return {
    host,
    port: config.sshPort,
    user: config.sshUser,
    timeoutMs: config.timeoutMs,
    ...(config.privateKey !== undefined ? { privateKey: config.privateKey } : {}),
    ...(config.passphrase !== undefined ? { passphrase: config.passphrase } : {}),
  };
}

/** Builds a report; `readinessKnown` is false for a VMI known only from the cache. */
function report(
  vmi: VmiSummary,
  firstIp: string | undefined,
  newIp: string | undefined,
  result: SshProbeResult | undefined,
  gone: boolean,
  readinessKnown: boolean,
): VmiReport {
  const ready = readinessKnown ? vmi.phase === 'Running' && vmi.ready === true : null;
  const sshOk = result?.ok ?? false;
  const status = sshOk && ready !== false;
  const readyFailed = ready === false;
  const checkType = !readyFailed && sshOk ? 'healthy' : readyFailed && !sshOk ? 'both' : readyFailed ? 'vmi_ready' : 'ssh_access';
  let error = result?.error;
  if (gone) error = 'the VirtualMachineInstance no longer exists';
  else if (!result) error = 'no IP address in status.interfaces[0]';
  return {
    vm_name: vmi.name,
    ip_address: firstIp ?? null,
    ...(newIp ? { new_ip_address: newIp } : {}),
    ...(vmi.node ? { node_name: vmi.node } : {}),
    ...(readinessKnown && vmi.phase !== undefined ? { phase: vmi.phase } : {}),
    vmi_ready: ready,
    ssh_status: sshOk,
    ssh: result?.outcome ?? 'failed',
    status,
    check_type: checkType,
    ...(result ? { latency_ms: result.latencyMs } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

function fromCache(vmis: Record<string, KnownVmi>): unknown[] {
  return Object.entries(vmis).map(([name, v]) => ({
    metadata: { name },
    status: { interfaces: [{ ipAddress: v.ip }], ...(v.node ? { nodeName: v.node } : {}) },
  }));
}

function describeFilters(config: VmiCheckConfig): string {
  const parts: string[] = [];
  if (config.labelSelector) parts.push(`label selector "${config.labelSelector}"`);
  if (config.namePattern) parts.push(`name matching ${config.namePattern.source}`);
  if (config.nodeNames.length > 0) parts.push(`on node ${config.nodeNames.join(' or ')}`);
  return parts.length > 0 ? ` with ${parts.join(', ')}` : '';
}

/** Runs `fn` over `items` with at most `limit` at once (0 = all at once), keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const width = limit <= 0 ? items.length : Math.min(limit, items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

function fitDetails(
  state: HealthState,
  head: Record<string, unknown>,
  reports: VmiReport[],
  summary: { total: number; ok: number; failed: number },
  maxBytes: number,
): Record<string, unknown> {
  const fits = (details: Record<string, unknown>): boolean =>
    Buffer.byteLength(serializeStatus({ state, details }, Number.POSITIVE_INFINITY), 'utf8') <= maxBytes;
  const listing = (vmis: VmiReport[]): Record<string, unknown> => ({
    ...head,
    summary: vmis.length === reports.length ? summary : { ...summary, omitted: reports.length - vmis.length },
    vmis,
  });
  if (fits(listing(reports))) return listing(reports);
  // Failures first, then the largest prefix that fits (binary search).
  const ordered = [...reports.filter((r) => !r.status), ...reports.filter((r) => r.status)];
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(listing(ordered.slice(0, mid)))) low = mid;
    else high = mid - 1;
  }
  return listing(ordered.slice(0, low));
}

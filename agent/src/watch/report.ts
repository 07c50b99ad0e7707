/**
 * The watch's end: the telemetry report and the exit code, from the HTTP check's watch
 * report (check-images/http watchTargets). Pure.
 *
 * Exit codes (Krkn's, peers.md §4.4, in Krkn's priority order):
 * - 3: a target with `exit_on_failure: true` had a failed window (Krkn's health plugin ret_value),
 *   or, with `kubevirt_checks.exit_on_failure`, a VM failed during the watch or in the post-run check;
 * - 2: critical: some target's (or VM's) longest outage (adjacent failed windows merged, whatever
 *   their codes) lasted longer than `--critical-downtime`;
 * - 0: otherwise (failures on targets without exit_on_failure are reported, not fatal).
 */
import type { StatusWindow, WatchReport } from '../../../check-images/http/src/watch.js';
import type { VirtWatchReport, VirtWindow } from './vmi.js';

export const EXIT_OK = 0;
export const EXIT_CRITICAL = 2;
export const EXIT_FAILURE = 3;

export interface TargetTelemetry {
  url: string;
  exit_on_failure: boolean;
  probes: number;
  failed_probes: number;
  /** Total seconds in failed windows. */
  downtime_seconds: number;
  /** Longest continuous outage in seconds. */
  longest_downtime_seconds: number;
  windows: StatusWindow[];
}

export interface VmTelemetry {
  vm_name: string;
  rounds: number;
  failed_rounds: number;
  downtime_seconds: number;
  longest_downtime_seconds: number;
  windows: VirtWindow[];
}

export interface WatchTelemetry {
  /** Krkn's `chaos_telemetry.health_checks`: every window of every target, by start time. */
  health_checks: StatusWindow[];
  targets: TargetTelemetry[];
  /** Krkn's `virt_checks` and `post_virt_checks`, with kubevirt_checks. */
  virt_checks?: VirtWindow[];
  post_virt_checks?: VirtWindow[];
  vms?: VmTelemetry[];
  /** VM rounds that could judge no VMI (API unreachable, none found), and the last reason. */
  virt_failed_rounds?: number;
  virt_last_error?: string;
  summary: {
    start_timestamp: string;
    end_timestamp: string;
    duration_seconds: number;
    interval_seconds: number;
    /** What ended the watch. */
    ended_by: 'duration' | 'STOP' | 'SIGINT' | 'SIGTERM';
    critical_downtime_seconds: number | null;
    targets: number;
    targets_with_downtime: number;
    exit_code: number;
    exit_reason: string;
  };
}

export interface TelemetryOptions {
  exitOnFailure: readonly boolean[];
  intervalSeconds: number;
  /** Seconds; undefined: no critical threshold. */
  criticalDowntimeSeconds?: number;
  endedBy: WatchTelemetry['summary']['ended_by'];
  virt?: { report: VirtWatchReport; exitOnFailure: boolean };
}

/** Longest run of adjacent failed windows, in seconds. */
export function longestOutage(windows: readonly { status: boolean; start_timestamp: string; end_timestamp: string }[]): number {
  let longest = 0;
  let start: number | undefined;
  for (const w of windows) {
    if (w.status) {
      start = undefined;
      continue;
    }
    start ??= Date.parse(w.start_timestamp);
    longest = Math.max(longest, (Date.parse(w.end_timestamp) - start) / 1000);
  }
  return longest;
}

export function buildTelemetry(report: WatchReport, options: TelemetryOptions): WatchTelemetry {
  const virt = options.virt;
  const vms: VmTelemetry[] | undefined = virt?.report.vms.map((v) => ({
    vm_name: v.vm_name,
    rounds: v.rounds,
    failed_rounds: v.failed_rounds,
    downtime_seconds: v.downtime_seconds,
    longest_downtime_seconds: longestOutage(v.windows),
    windows: v.windows,
  }));
  const targets: TargetTelemetry[] = report.targets.map((t, i) => ({
    url: t.url,
    exit_on_failure: options.exitOnFailure[i] === true,
    probes: t.probes,
    failed_probes: t.failed_probes,
    downtime_seconds: t.downtime_seconds,
    longest_downtime_seconds: longestOutage(t.windows),
    windows: t.windows,
  }));
  let exitCode = EXIT_OK;
  let reason = 'all checks passed';
  const failedFatal = targets.filter((t) => t.exit_on_failure && t.windows.some((w) => !w.status));
  const critical = options.criticalDowntimeSeconds;
  const overCritical = critical === undefined ? [] : targets.filter((t) => t.longest_downtime_seconds > critical);
  const failedVms = vms === undefined ? [] : [...new Set([...vms.filter((v) => v.failed_rounds > 0).map((v) => v.vm_name), ...(virt?.report.post ?? []).map((p) => p.vm_name)])];
  const vmFatal = virt?.exitOnFailure === true ? failedVms : [];
  const vmsOverCritical = critical === undefined || vms === undefined ? [] : vms.filter((v) => v.longest_downtime_seconds > critical);
  if (failedFatal.length > 0 || vmFatal.length > 0) {
    exitCode = EXIT_FAILURE;
    reason = `failure on ${[...failedFatal.map((t) => t.url), ...vmFatal.map((v) => `VM ${v}`)].join(', ')} (exit_on_failure)`;
  } else if (overCritical.length > 0 || vmsOverCritical.length > 0) {
    exitCode = EXIT_CRITICAL;
    const down = [
      ...overCritical.map((t) => `${t.url} down for ${t.longest_downtime_seconds}s`),
      ...vmsOverCritical.map((v) => `VM ${v.vm_name} down for ${v.longest_downtime_seconds}s`),
    ];
    reason = `critical: ${down.join(', ')} (over ${critical}s)`;
  } else if (targets.some((t) => t.failed_probes > 0) || failedVms.length > 0) {
    reason = 'failures on targets without exit_on_failure only';
  }
  return {
    health_checks: report.windows,
    targets,
    ...(virt && vms
      ? {
          virt_checks: virt.report.windows,
          post_virt_checks: virt.report.post,
          vms,
          virt_failed_rounds: virt.report.failed_rounds,
          ...(virt.report.last_round_error !== undefined ? { virt_last_error: virt.report.last_round_error } : {}),
        }
      : {}),
    summary: {
      start_timestamp: report.start_timestamp,
      end_timestamp: report.end_timestamp,
      duration_seconds: (Date.parse(report.end_timestamp) - Date.parse(report.start_timestamp)) / 1000,
      interval_seconds: options.intervalSeconds,
      ended_by: options.endedBy,
      critical_downtime_seconds: critical ?? null,
      targets: targets.length,
      targets_with_downtime: targets.filter((t) => t.failed_probes > 0).length,
      exit_code: exitCode,
      exit_reason: reason,
    },
  };
}

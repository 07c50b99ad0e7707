/**
 * The watch's end: the telemetry report and the exit code, from the HTTP check's watch
 * report (check-images/http watchTargets). Pure.
 *
 * Exit codes (Krkn's, peers.md §4.4, in Krkn's priority order):
 * - 3: a target with `exit_on_failure: true` had a failed window (Krkn's health plugin ret_value);
 * - 2: critical: some target's longest outage (adjacent failed windows merged, whatever
 *   their codes) lasted longer than `--critical-downtime`;
 * - 0: otherwise (failures on targets without exit_on_failure are reported, not fatal).
 */
import type { StatusWindow, WatchReport } from '../../../check-images/http/src/watch.js';

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

export interface WatchTelemetry {
  /** Krkn's `chaos_telemetry.health_checks`: every window of every target, by start time. */
  health_checks: StatusWindow[];
  targets: TargetTelemetry[];
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
}

/** Longest run of adjacent failed windows, in seconds. */
export function longestOutage(windows: readonly StatusWindow[]): number {
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
  if (failedFatal.length > 0) {
    exitCode = EXIT_FAILURE;
    reason = `failure on ${failedFatal.map((t) => t.url).join(', ')} (exit_on_failure)`;
  } else if (overCritical.length > 0) {
    exitCode = EXIT_CRITICAL;
    reason = `critical: ${overCritical.map((t) => `${t.url} down for ${t.longest_downtime_seconds}s`).join(', ')} (over ${critical}s)`;
  } else if (targets.some((t) => t.failed_probes > 0)) {
    reason = 'failures on targets without exit_on_failure only';
  }
  return {
    health_checks: report.windows,
    targets,
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

/**
 * The HTTP check as a function: probe every target once, concurrently, and turn the
 * answers into a state and compact details. Shared by the image's main and, later,
 * the in-process plugin.
 */
import { serializeStatus, TERMINATION_MESSAGE_BYTES, type CheckResult, type HealthState } from '../../sdk/src/index.js';
import { displayUrl, type HttpCheckConfig, type HttpTarget, type StatusRange } from './config.js';
import { jsonEqual, readJsonPath } from './json-path.js';
import { probe, type ProbeResult } from './probe.js';

export { parseHttpCheckConfig, httpCheckConfigFromEnv, loadHttpCheckConfig, HTTP_CHECK_KEY } from './config.js';
export type { HttpCheckConfig, HttpTarget, StatusRange } from './config.js';

/** Default bytes of response body read per target. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default size budget of the whole health-status.yaml, so it fits a Kubernetes termination message. */
export const DEFAULT_MAX_STATUS_BYTES = TERMINATION_MESSAGE_BYTES - 96;
const MAX_URL_CHARS = 200;
const MAX_ERROR_CHARS = 160;
const MAX_VALUE_CHARS = 60;
const DAY_MS = 86_400_000;

export interface RunHttpCheckOptions {
  /** Aborting stops every probe; runHttpCheck then rejects with the abort reason. */
  signal?: AbortSignal;
  /** Wall clock for certificate expiry (default Date.now). */
  clock?: { now(): number };
  maxBodyBytes?: number;
  /** Details are shortened until the serialised health-status.yaml fits this many bytes. */
  maxStatusBytes?: number;
}

/** One target in `details.targets`. */
export interface TargetReport {
  /** Without user info or secret query values. */
  url: string;
  ok: boolean;
  status_code: number | null;
  latency_ms: number;
  error?: string;
  failed_checks?: string[];
  tls_days_to_expiry?: number;
  /** Redirects followed, when any. */
  redirects?: number;
  /** Where the redirects led (shown like `url`). */
  final_url?: string;
}

/**
 * Runs one round of probes. State: every target good -> healthy, none -> unhealthy,
 * otherwise degraded. Details: `{targets: TargetReport[], summary: {total, ok, failed}}`;
 * when they would not fit, good targets are left out first, then failed ones from the end,
 * and `summary.omitted` counts the targets not listed.
 */
export async function runHttpCheck(config: HttpCheckConfig, opts: RunHttpCheckOptions = {}): Promise<CheckResult> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const probes = await Promise.all(
    config.targets.map((target) => probe(target, { maxBodyBytes, ...(opts.signal ? { signal: opts.signal } : {}) })),
  );
  opts.signal?.throwIfAborted();
  const now = (opts.clock ?? Date).now();
  const reports = config.targets.map((target, i) => evaluateTarget(target, probes[i]!, now));
  const ok = reports.filter((r) => r.ok).length;
  const state: HealthState = ok === reports.length ? 'healthy' : ok === 0 ? 'unhealthy' : 'degraded';
  const summary = { total: reports.length, ok, failed: reports.length - ok };
  return { state, details: fitDetails(state, reports, summary, opts.maxStatusBytes ?? DEFAULT_MAX_STATUS_BYTES) };
}

/** Applies a target's assertions to what its probe received. Pure. */
export function evaluateTarget(target: HttpTarget, result: ProbeResult, now: number): TargetReport {
  const report: TargetReport = {
    url: truncate(target.displayUrl, MAX_URL_CHARS),
    ok: false,
    status_code: result.statusCode,
    latency_ms: result.latencyMs,
  };
  if (result.error !== undefined) report.error = truncate(redact(result.error, target.secrets), MAX_ERROR_CHARS);
  const failed = result.error === undefined ? failedChecks(target, result) : [];
  if (failed.length > 0) report.failed_checks = failed.map((f) => truncate(redact(f, target.secrets), MAX_ERROR_CHARS));
  report.ok = result.error === undefined && failed.length === 0;
  if (result.redirects > 0) {
    report.redirects = result.redirects;
    if (result.finalUrl) report.final_url = truncate(redact(displayUrl(result.finalUrl), target.secrets), MAX_URL_CHARS);
  }
  if (result.certificateValidTo !== undefined) report.tls_days_to_expiry = Math.floor((result.certificateValidTo - now) / DAY_MS);
  return report;
}

function failedChecks(target: HttpTarget, result: ProbeResult): string[] {
  const failed: string[] = [];
  const code = result.statusCode ?? 0;
  if (!target.expectedStatus.some((r) => code >= r.min && code <= r.max)) {
    failed.push(`status ${code} is not ${formatRanges(target.expectedStatus)}`);
  }
  const partial = result.bodyTruncated ? ` (in the first ${result.body.length} bytes)` : '';
  if (target.bodyContains !== undefined && !result.body.includes(target.bodyContains, 0, 'utf8')) {
    failed.push(`body does not contain ${show(target.bodyContains)}${partial}`);
  }
  if (target.jsonPath) failed.push(...jsonFailures(target, result));
  if (target.maxResponseTimeMs !== undefined && result.latencyMs > target.maxResponseTimeMs) {
    failed.push(`response time ${result.latencyMs} ms is over ${target.maxResponseTimeMs} ms`);
  }
  return failed;
}

function jsonFailures(target: HttpTarget, result: ProbeResult): string[] {
  const path = target.jsonPath!;
  if (result.bodyTruncated) return [`json_path ${path.text}: body is larger than ${result.body.length} bytes, not parsed`];
  let document: unknown;
  try {
    document = JSON.parse(result.body.toString('utf8'));
  } catch {
    return [`json_path ${path.text}: body is not valid JSON`];
  }
  const found = readJsonPath(document, path.segments);
  if (!found.found) return [`json_path ${path.text}: not found`];
  if (target.jsonEquals && !jsonEqual(found.value, target.jsonEquals.value)) {
    return [`json_path ${path.text}: expected ${show(target.jsonEquals.value)}, got ${show(found.value)}`];
  }
  return [];
}

function fitDetails(
  state: HealthState,
  reports: TargetReport[],
  summary: { total: number; ok: number; failed: number },
  maxBytes: number,
): Record<string, unknown> {
  const fits = (details: Record<string, unknown>): boolean =>
    Buffer.byteLength(serializeStatus({ state, details }, Number.POSITIVE_INFINITY), 'utf8') <= maxBytes;
  const listing = (targets: TargetReport[]): Record<string, unknown> =>
    targets.length === reports.length ? { targets, summary } : { targets, summary: { ...summary, omitted: reports.length - targets.length } };
  // Fast path: rendering YAML costs more than the probe itself for a small check. Block YAML
  // of these flat reports is never three times its JSON, so a JSON under a third of the
  // budget fits without rendering.
  if (Buffer.byteLength(JSON.stringify(listing(reports)), 'utf8') * 3 <= maxBytes) return listing(reports);
  if (fits(listing(reports))) return listing(reports);
  const failed = reports.filter((r) => !r.ok);
  // The largest prefix of the failed targets that fits (binary search; zero always fits in practice).
  let low = 0;
  let high = failed.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(listing(failed.slice(0, mid)))) low = mid;
    else high = mid - 1;
  }
  return listing(failed.slice(0, low));
}

function formatRanges(ranges: readonly StatusRange[]): string {
  const labels = ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min / 100}xx`));
  return labels.length === 1 ? labels[0]! : `one of ${labels.join(', ')}`;
}

function show(value: unknown): string {
  return truncate(JSON.stringify(value), MAX_VALUE_CHARS);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Replaces every occurrence of a secret (token, password, header value) in a message, longest first. */
export function redact(text: string, secrets: readonly string[]): string {
  return [...secrets]
    .sort((a, b) => b.length - a.length)
    .reduce((out, secret) => (secret === '' ? out : out.split(secret).join('[redacted]')), text);
}

/**
 * The adapter's report: what the check pod's `health-status.yaml` said, carried out of the
 * pod in a HealthState object and in the adapter container's termination message (ADR 0013).
 * Encoding bounds the size and truncates `details` WITH a marker (`truncated: true`,
 * `truncatedBytes`), never silently. Decoding validates everything: the pod is not trusted.
 * Pure.
 */
import { isHealthState, type HealthState } from '../../core/model.js';
import { isMapping } from '../../core/pipeline.js';
import type { CheckReport } from '../../core/result.js';
import { parseReport } from '../../reporting/protocol.js';

export const REPORT_VERSION = 1;

/** Limit of a termination message enforced by the kubelet (per container). */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;
/** Budget of `details` in a HealthState object (the API server allows ~1.5 MiB per object). */
export const HEALTH_STATE_DETAILS_MAX_BYTES = 256 * 1024;

/**
 * `kh`: the Kuberhealthy report (`{OK, Errors}`) the check posted to the pod-local reporter
 * (Kuberhealthy-style definitions only, ADR 0013); it wins over a missing file as locally.
 */
export type AdapterReport = (
  /** The file was there and valid. */
  | { v: 1; output: 'status'; state: HealthState; details?: Record<string, unknown>; finishedAt: number }
  /** No health-status.yaml. */
  | { v: 1; output: 'missing'; finishedAt: number }
  /** Present but refused or not valid; `message` says why (it becomes an InvalidOutput error). */
  | { v: 1; output: 'invalid'; message: string; finishedAt: number }
) & { kh?: CheckReport };

const MAX_MESSAGE = 1024;

/** Key added to `details` when it was cut to fit; `truncatedBytes` is the size of the original JSON. */
export const TRUNCATED_KEY = 'truncated';
export const TRUNCATED_BYTES_KEY = 'truncatedBytes';

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Cuts a string to at most `max` UTF-8 bytes, with '…' when cut (never splits a character). */
export function cutString(s: string, max: number): string {
  if (bytes(s) <= max) return s;
  let out = Buffer.from(s, 'utf8').subarray(0, Math.max(0, max - 3)).toString('utf8');
  // A cut in the middle of a multi-byte character decodes to U+FFFD: drop it.
  out = out.replace(/\uFFFD+$/, '');
  return `${out}…`;
}

/**
 * `details` made to fit `maxBytes` of JSON. Unchanged when it fits; otherwise keys are kept in
 * order while they fit (an `error` key first), a string too long for the room left is cut,
 * and `truncated: true` plus `truncatedBytes` are added.
 */
export function fitDetails(details: Record<string, unknown>, maxBytes: number): { details: Record<string, unknown>; truncated: boolean } {
  const full = JSON.stringify(details);
  const size = bytes(full);
  if (size <= maxBytes) return { details, truncated: false };
  const marker = { [TRUNCATED_KEY]: true, [TRUNCATED_BYTES_KEY]: size };
  let used = bytes(JSON.stringify(marker));
  const kept: Record<string, unknown> = {};
  const keys = Object.keys(details).filter((k) => k !== TRUNCATED_KEY && k !== TRUNCATED_BYTES_KEY);
  keys.sort((a, b) => (a === 'error' ? -1 : b === 'error' ? 1 : 0));
  for (const k of keys) {
    const value = details[k];
    const entry = bytes(JSON.stringify(k)) + 2; // "key": and the comma
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) continue;
    const need = entry + bytes(json);
    if (used + need <= maxBytes) {
      kept[k] = value;
      used += need;
    } else if (typeof value === 'string' && maxBytes - used - entry > 64) {
      // Room for a useful prefix: JSON escapes can grow a string, so leave a margin.
      const cut = cutString(value, Math.floor((maxBytes - used - entry - 2) / 2));
      kept[k] = cut;
      used += entry + bytes(JSON.stringify(cut));
    }
  }
  return { details: { ...kept, ...marker }, truncated: true };
}

/** The report as JSON of at most `maxBytes` (details truncated with the marker when needed). */
export function encodeReport(report: AdapterReport, maxBytes: number = TERMINATION_MESSAGE_MAX_BYTES): string {
  let r: AdapterReport = report;
  if (r.output === 'invalid') r = { ...r, message: cutString(r.message, Math.min(MAX_MESSAGE, maxBytes - 128)) };
  if (r.kh && r.kh.errors.length > 0) {
    // The check's errors get at most half of the budget; the ones that do not fit are counted in a last error.
    const { kh: _kh, ...withoutKh } = r;
    r = { ...r, kh: fitErrors(r.kh, Math.floor(Math.max(0, maxBytes - bytes(JSON.stringify(withoutKh))) / 2)) };
  }
  const text = JSON.stringify(r);
  if (bytes(text) <= maxBytes || r.output !== 'status' || r.details === undefined) return text;
  const { details: _dropped, ...rest } = r;
  const room = maxBytes - bytes(JSON.stringify(rest)) - bytes(',"details":');
  const fitted = fitDetails(r.details, Math.max(0, room));
  return JSON.stringify({ ...rest, details: fitted.details });
}

/** Marker error added when errors were dropped or cut to fit the transport. */
export function truncatedErrorsMarker(dropped: number): string {
  return `(truncated: ${dropped} more error(s) did not fit the result transport)`;
}

/** A KH report whose errors fit `maxBytes` of JSON: each error cut to 512 bytes, then errors dropped with a marker. */
export function fitErrors(kh: CheckReport, maxBytes: number): CheckReport {
  if (bytes(JSON.stringify(kh)) <= maxBytes) return kh;
  const cut = kh.errors.map((e) => cutString(e, 512));
  const marker = truncatedErrorsMarker(kh.errors.length);
  let used = bytes(JSON.stringify({ ok: kh.ok, errors: [marker] }));
  const kept: string[] = [];
  for (const e of cut) {
    const need = bytes(JSON.stringify(e)) + 1;
    if (used + need > maxBytes) break;
    kept.push(e);
    used += need;
  }
  const dropped = kh.errors.length - kept.length;
  const anyCut = cut.some((e, i) => e !== kh.errors[i]);
  if (dropped === 0 && !anyCut) return kh;
  return { ok: kh.ok, errors: [...kept, dropped > 0 ? truncatedErrorsMarker(dropped) : '(truncated: long errors were cut to fit the result transport)'] };
}

export type DecodedReport = { ok: true; report: AdapterReport } | { ok: false; message: string };

/** Parses and validates a report (from a termination message or a HealthState). */
export function decodeReport(text: string): DecodedReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: `the adapter's report is not JSON: ${JSON.stringify(cutString(text, 120))}` };
  }
  return validateReport(value);
}

export function validateReport(value: unknown): DecodedReport {
  if (!isMapping(value)) return { ok: false, message: "the adapter's report is not a JSON object" };
  if (value.v !== REPORT_VERSION) return { ok: false, message: `the adapter's report has version ${JSON.stringify(value.v)}, expected ${REPORT_VERSION}` };
  const finishedAt = value.finishedAt;
  if (typeof finishedAt !== 'number' || !Number.isFinite(finishedAt) || finishedAt < 0) return { ok: false, message: "the adapter's report has no valid finishedAt" };
  let kh: CheckReport | undefined;
  if (value.kh !== undefined) {
    const parsed = parseReport(value.kh);
    if (!parsed.ok) return { ok: false, message: `the adapter's report has an invalid Kuberhealthy report: ${parsed.error}` };
    kh = parsed.report;
  }
  const decoded = validateOutput(value, finishedAt);
  if (!decoded.ok || !kh) return decoded;
  return { ok: true, report: { ...decoded.report, kh } };
}

function validateOutput(value: Record<string, unknown>, finishedAt: number): DecodedReport {
  switch (value.output) {
    case 'status': {
      if (!isHealthState(value.state)) return { ok: false, message: `the adapter's report has an invalid state ${JSON.stringify(value.state)}` };
      const details = value.details;
      if (details !== undefined && !isMapping(details)) return { ok: false, message: "the adapter's report has details that are not a mapping" };
      return { ok: true, report: { v: 1, output: 'status', state: value.state, finishedAt, ...(details ? { details } : {}) } };
    }
    case 'missing':
      return { ok: true, report: { v: 1, output: 'missing', finishedAt } };
    case 'invalid':
      if (typeof value.message !== 'string') return { ok: false, message: "the adapter's report has no message" };
      return { ok: true, report: { v: 1, output: 'invalid', message: cutString(value.message, MAX_MESSAGE), finishedAt } };
    default:
      return { ok: false, message: `the adapter's report has an unknown output kind ${JSON.stringify(value.output)}` };
  }
}

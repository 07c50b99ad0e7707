/**
 * The Kuberhealthy external-check report: `{OK, Errors}` in any key case (Go's JSON
 * decoding is case-insensitive, so `{"ok":true,"errors":[]}` is as valid as `{"OK":true}`).
 * Validation follows Kuberhealthy v3: OK must be a boolean, Errors a list of non-blank
 * strings, OK:true carries no errors and OK:false at least one. Pure.
 */
import type { CheckReport } from '../core/result.js';

/** The environment variable names a Kuberhealthy check reads. */
export const KH_ENV = {
  reportingUrl: 'KH_REPORTING_URL',
  runUuid: 'KH_RUN_UUID',
  deadline: 'KH_CHECK_RUN_DEADLINE',
  podNamespace: 'KH_POD_NAMESPACE',
} as const;

/** The header a v3 client sends the run id in. */
export const KH_RUN_UUID_HEADER = 'kh-run-uuid';

/**
 * Annotation marking a definition as a Kuberhealthy-style check (one that reports instead of
 * writing a file), value "true"; `vigil import-khcheck` sets it.
 */
export const ANNOTATION_KH_CHECK = 'health.vigil.dev/kuberhealthy-check';

/** Most errors kept from one report, and the longest error string kept. */
export const MAX_REPORT_ERRORS = 100;
export const MAX_ERROR_LENGTH = 2048;

export type ParsedReport = { ok: true; report: CheckReport } | { ok: false; error: string };

export function parseReport(body: unknown): ParsedReport {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'the report must be a JSON object {"OK": bool, "Errors": [string]}' };
  let okValue: unknown;
  let errorsValue: unknown;
  let okSeen = false;
  for (const [key, value] of Object.entries(body)) {
    const k = key.toLowerCase();
    if (k === 'ok') {
      okValue = value;
      okSeen = true;
    } else if (k === 'errors') errorsValue = value;
  }
  if (!okSeen) return { ok: false, error: 'the report has no "OK" field' };
  if (typeof okValue !== 'boolean') return { ok: false, error: `"OK" must be true or false, got ${okValue === undefined ? 'undefined' : JSON.stringify(okValue)}` };
  let errors: string[] = [];
  if (errorsValue !== undefined && errorsValue !== null) {
    if (!Array.isArray(errorsValue) || errorsValue.some((e) => typeof e !== 'string')) return { ok: false, error: '"Errors" must be a list of strings' };
    errors = errorsValue as string[];
  }
  if (errors.some((e) => e.trim() === '')) return { ok: false, error: '"Errors" contains a blank error string' };
  if (okValue && errors.length > 0) return { ok: false, error: `"OK" is true but ${errors.length} error(s) were reported; send OK:false with errors, or OK:true with none` };
  if (!okValue && errors.length === 0) return { ok: false, error: '"OK" is false but "Errors" is empty; a failure report must say what failed' };
  const kept = errors.slice(0, MAX_REPORT_ERRORS).map((e) => (e.length > MAX_ERROR_LENGTH ? `${e.slice(0, MAX_ERROR_LENGTH - 1)}…` : e));
  if (errors.length > MAX_REPORT_ERRORS) kept.push(`(${errors.length - MAX_REPORT_ERRORS} more errors not kept)`);
  return { ok: true, report: { ok: okValue, errors: kept } };
}

/** Whether a definition's checks report the Kuberhealthy way (annotation `health.vigil.dev/kuberhealthy-check: "true"`). */
export function expectsReport(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[ANNOTATION_KH_CHECK]?.toLowerCase() === 'true';
}

/** The KH_* environment of one run (as the agent gives it): the run id is in the reporting URL's path too. */
export function khEnv(baseUrl: string, run: { runId: string; namespace: string; deadline: number }): Record<string, string> {
  return {
    [KH_ENV.reportingUrl]: `${baseUrl}/externalCheckStatus/${run.runId}`,
    [KH_ENV.runUuid]: run.runId,
    [KH_ENV.deadline]: String(Math.floor(run.deadline / 1000)),
    [KH_ENV.podNamespace]: run.namespace,
  };
}

/**
 * The HealthState object (`platform.kratix.io/v1alpha1`, the CRD the SKE Health Agent
 * ships): the adapter creates one per Job, named after the Job, in the definition's
 * namespace. Its `data` has HealthRecord's shape; vigil's own facts (which Job and pod
 * wrote it, what the output file looked like) are labels and annotations, because the
 * CRD prunes unknown `data` fields. Pure (ADR 0013).
 */
import { isMapping } from '../../core/pipeline.js';
import { isHealthState, type HealthState, type PromiseRef, type ResourceRef } from '../../core/model.js';
import { REASONS } from '../../core/reasons.js';
import { cutString, fitDetails, fitErrors, HEALTH_STATE_DETAILS_MAX_BYTES, type AdapterReport, type DecodedReport } from './report.js';
import { parseReport } from '../../reporting/protocol.js';

export const HEALTH_STATE = {
  group: 'platform.kratix.io',
  version: 'v1alpha1',
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'HealthState',
  plural: 'healthstates',
} as const;

/** Labels and annotations of a HealthState. */
export const HEALTH_STATE_META = {
  /** The Job the result belongs to (its name is also the HealthState's name). */
  jobName: 'health.vigil.dev/job-name',
  /** metadata.uid of that Job: a HealthState whose Job uid does not match is ignored. */
  jobUid: 'health.vigil.dev/job-uid',
  /** metadata.uid of the pod whose adapter wrote it. */
  podUid: 'health.vigil.dev/pod-uid',
  /** metadata.uid of the definition. */
  definitionUid: 'health.vigil.dev/definition-uid',
  /** Annotation: `status`, `missing` or `invalid` (AdapterReport.output). */
  output: 'health.vigil.dev/output',
  /** Annotation: the adapter's finish time, epoch ms. */
  finishedAt: 'health.vigil.dev/finished-at',
} as const;

export interface HealthStateObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  data?: {
    promiseRef?: PromiseRef;
    resourceRef?: ResourceRef;
    state?: string;
    lastRun?: number;
    details?: Record<string, unknown>;
  };
}

export interface HealthStateInput {
  namespace: string;
  jobName: string;
  jobUid: string;
  podUid: string;
  definitionUid: string;
  promiseRef: PromiseRef;
  resourceRef?: ResourceRef;
  report: AdapterReport;
  /** Default HEALTH_STATE_DETAILS_MAX_BYTES. */
  maxDetailsBytes?: number;
}

/** The HealthState's name for a Job: the Job's name (unique per definition and scheduled time). */
export function healthStateName(jobName: string): string {
  return jobName;
}

/** The HealthState the adapter creates. Details over the budget are truncated with the marker. */
export function buildHealthState(input: HealthStateInput): HealthStateObject {
  const { report } = input;
  let state: HealthState = 'unknown';
  let details: Record<string, unknown> | undefined;
  let output: string = report.output;
  if (report.output === 'status') {
    state = report.state;
    details = report.details;
  } else if (report.kh) {
    // A Kuberhealthy report wins over a missing or refused file (as locally); `output: kh` says so.
    output = 'kh';
    const kh = fitErrors(report.kh, Math.floor((input.maxDetailsBytes ?? HEALTH_STATE_DETAILS_MAX_BYTES) / 2));
    state = kh.ok ? 'healthy' : 'unhealthy';
    details = kh.ok ? {} : { errors: kh.errors };
  } else if (report.output === 'missing') {
    details = { error: { reason: REASONS.MissingOutput, message: 'the check wrote no health-status.yaml to /kratix/output' } };
  } else {
    details = { error: { reason: REASONS.InvalidOutput, message: cutString(report.message, 1024) } };
  }
  if (details) details = fitDetails(details, input.maxDetailsBytes ?? HEALTH_STATE_DETAILS_MAX_BYTES).details;
  return {
    apiVersion: HEALTH_STATE.apiVersion,
    kind: HEALTH_STATE.kind,
    metadata: {
      name: healthStateName(input.jobName),
      namespace: input.namespace,
      labels: {
        'app.kubernetes.io/managed-by': 'vigil',
        'app.kubernetes.io/component': 'health-check-result',
        [HEALTH_STATE_META.jobName]: input.jobName,
        [HEALTH_STATE_META.jobUid]: input.jobUid,
        [HEALTH_STATE_META.podUid]: input.podUid,
        [HEALTH_STATE_META.definitionUid]: input.definitionUid,
      },
      annotations: { [HEALTH_STATE_META.output]: output, [HEALTH_STATE_META.finishedAt]: String(report.finishedAt) },
    },
    data: {
      promiseRef: { name: input.promiseRef.name },
      ...(input.resourceRef ? { resourceRef: { name: input.resourceRef.name, namespace: input.resourceRef.namespace } } : {}),
      state,
      lastRun: Math.floor(report.finishedAt / 1000),
      ...(details ? { details } : {}),
    },
  };
}

/** The report a HealthState carries, or why it cannot be used. */
export function reportFromHealthState(obj: HealthStateObject): DecodedReport {
  const annotations = obj.metadata?.annotations ?? {};
  const data = obj.data;
  const where = `HealthState ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  if (!isMapping(data)) return { ok: false, message: `${where}: data is missing` };
  const finishedAt = Number(annotations[HEALTH_STATE_META.finishedAt] ?? (typeof data.lastRun === 'number' ? data.lastRun * 1000 : NaN));
  if (!Number.isFinite(finishedAt)) return { ok: false, message: `${where}: no finish time` };
  const details = isMapping(data.details) ? data.details : undefined;
  const output = annotations[HEALTH_STATE_META.output] ?? 'status';
  if (output === 'missing') return { ok: true, report: { v: 1, output: 'missing', finishedAt } };
  if (output === 'kh') {
    const kh = parseReport({ ok: data.state === 'healthy', errors: Array.isArray(details?.errors) ? details.errors : [] });
    if (!kh.ok) return { ok: false, message: `${where}: the Kuberhealthy report is not valid: ${kh.error}` };
    return { ok: true, report: { v: 1, output: 'missing', finishedAt, kh: kh.report } };
  }
  if (output === 'invalid') {
    const error = details && isMapping(details.error) ? details.error : undefined;
    const message = typeof error?.message === 'string' ? error.message : 'the output file was not valid';
    return { ok: true, report: { v: 1, output: 'invalid', message, finishedAt } };
  }
  if (output !== 'status') return { ok: false, message: `${where}: unknown output kind ${JSON.stringify(output)}` };
  if (!isHealthState(data.state)) return { ok: false, message: `${where}: data.state ${JSON.stringify(data.state)} is not a health state` };
  return { ok: true, report: { v: 1, output: 'status', state: data.state, finishedAt, ...(details ? { details } : {}) } };
}

/**
 * Comparing desired objects with existing ones, and the Job a "run now" creates.
 *
 * Every object vigil writes carries `health.vigil.dev/applied-hash`, a hash of the desired
 * object as computed from the definition. An existing object with the same hash is left
 * alone (no request at all in the steady state); a different hash is replaced in place; an
 * existing object of the definition that is no longer desired is deleted. Pure, except
 * `createJobFromCronJob`.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { stableHash } from '../../core/naming.js';
import type { Kube, KubeObject } from '../client.js';
import { kubeError } from '../client.js';
import { KH_DEADLINE_ANNOTATION } from '../resources/pod.js';

export const APPLIED_HASH = 'health.vigil.dev/applied-hash';
/** Annotation on a HealthDefinition: any new value creates a Job from its CronJob at once. */
export const RUN_NOW_ANNOTATION = 'health.vigil.dev/run-now';
/** Annotation on a Job whose result is in the outbox: its (definition, scheduled time) is never collected again. */
export const COLLECTED_ANNOTATION = 'health.vigil.dev/collected';

/** `apiVersion kind namespace/name`: identity of an object across kinds. */
export function identity(o: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  return `${o.apiVersion ?? ''} ${o.kind ?? ''} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The desired object with its applied-hash annotation. */
export function withHash(object: KubernetesObject): KubeObject {
  const copy = JSON.parse(JSON.stringify(object)) as KubeObject;
  const hash = stableHash([JSON.stringify(copy)], 16);
  copy.metadata.annotations = { ...copy.metadata.annotations, [APPLIED_HASH]: hash };
  return copy;
}

export interface Plan {
  create: KubeObject[];
  /** Replace `existing` by `desired` (resourceVersion taken from `existing`). */
  update: { desired: KubeObject; existing: KubeObject }[];
  delete: KubeObject[];
}

/** What to do so that `existing` (the definition's objects found) becomes `desired` (hashed). */
export function planObjects(desired: readonly KubeObject[], existing: readonly KubeObject[]): Plan {
  const have = new Map(existing.map((o) => [identity(o), o]));
  const plan: Plan = { create: [], update: [], delete: [] };
  const wanted = new Set<string>();
  for (const d of desired) {
    const id = identity(d);
    wanted.add(id);
    const e = have.get(id);
    if (!e) plan.create.push(d);
    else if (e.metadata.annotations?.[APPLIED_HASH] !== d.metadata.annotations?.[APPLIED_HASH] || e.metadata.deletionTimestamp) plan.update.push({ desired: d, existing: e });
  }
  for (const [id, e] of have) if (!wanted.has(id)) plan.delete.push(e);
  return plan;
}

/** Name of the Job a run-now request creates: the CronJob's name plus a hash of the request (≤ 63). */
export function runNowJobName(cronJobName: string, request: string): string {
  return `${cronJobName}-m${stableHash([request], 9)}`;
}

const KH_DEADLINE = KH_DEADLINE_ANNOTATION;

/** A Job created now gets the exact Kuberhealthy deadline (now + activeDeadlineSeconds) when its pod template has one. */
function withRunDeadline(spec: unknown, now = Date.now()): unknown {
  const s = spec as { activeDeadlineSeconds?: number; template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
  const annotations = s?.template?.metadata?.annotations;
  if (!s || !annotations || annotations[KH_DEADLINE] === undefined || typeof s.activeDeadlineSeconds !== 'number') return spec;
  const deadline = String(Math.floor(now / 1000) + s.activeDeadlineSeconds);
  return { ...s, template: { ...s.template, metadata: { ...s.template?.metadata, annotations: { ...annotations, [KH_DEADLINE]: deadline } } } };
}

interface CronJobLike extends KubeObject {
  spec?: { jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown } };
}

/**
 * Creates a Job from a CronJob's jobTemplate now, as `kubectl create job --from=cronjob/...`
 * does (owned by the CronJob, annotated `cronjob.kubernetes.io/instantiate: manual`).
 * Idempotent per `jobName`: an existing Job of that name is returned as is.
 */
export async function createJobFromCronJob(kube: Kube, cronJob: CronJobLike, jobName: string): Promise<{ job: KubeObject; created: boolean }> {
  const template = cronJob.spec?.jobTemplate;
  if (!template?.spec) throw new Error(`CronJob ${cronJob.metadata.namespace ?? ''}/${cronJob.metadata.name}: spec.jobTemplate.spec is missing`);
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      ...(cronJob.metadata.namespace ? { namespace: cronJob.metadata.namespace } : {}),
      labels: { ...template.metadata?.labels },
      annotations: { ...template.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob.metadata.name, uid: cronJob.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: withRunDeadline(template.spec),
  };
  try {
    return { job: await kube.create(job), created: true };
  } catch (err) {
    if (kubeError(err).code !== 409) throw err;
    const existing = await kube.get('batch/v1', 'Job', cronJob.metadata.namespace, jobName);
    if (!existing) throw err;
    return { job: existing, created: false };
  }
}

/**
 * desiredObjects: everything one HealthDefinition needs in a cluster, computed from the
 * definition alone (level-triggered reconcile compares it with what exists). Namespaced
 * objects are owned by the definition (deleting it garbage-collects them); cluster-scoped
 * objects and Roles in other namespaces cannot be, so they carry the definition's uid as a
 * label and the agent deletes them itself. Pure (ADR 0012).
 */
import type { V1CronJob, V1OwnerReference, V1ResourceRequirements } from '@kubernetes/client-node';
import { desiredObject, type DesiredObject, type Plain } from './plain.js';
import { API_VERSION, DEFAULT_SCHEDULE, HEALTH_DEFINITION_KIND, type HealthDefinition } from '../../core/model.js';
import { issue, ValidationError } from '../../core/issues.js';
import { parseSchedule, ScheduleError } from '../../core/schedule/index.js';
import { inputConfigMap } from './input.js';
import { KH_DEADLINE_ANNOTATION, podTemplate } from './pod.js';
import { expectsReport } from '../../reporting/protocol.js';
import { rbacObjects } from './rbac.js';
import { ANNOTATIONS, COMPONENTS, cronJobName, definitionLabels, inputConfigMapName } from './names.js';

/** What the adapter container needs (ADR 0013). */
export interface TransportOptions {
  /** Limit of health-status.yaml read by the adapter (default 1 MiB, as locally). */
  maxOutputBytes?: number;
  /** Budget of `details` in the HealthState (default 256 KiB); beyond it details are truncated with a marker. */
  maxDetailsBytes?: number;
  adapterImagePullPolicy?: string;
  adapterResources?: Plain<V1ResourceRequirements>;
}

export interface DesiredOptions {
  /** Image of the adapter container (the vigil agent image). */
  agentImage: string;
  /** Destination name for records (annotated on the CronJob for visibility). */
  destination: string;
  /** Job history kept by the CronJob; default 3 successful, 1 failed. */
  historyLimits?: { successful: number; failed: number };
  defaultTimeoutSeconds: number;
  /** Default 300: a missed run more than 5 minutes late is skipped (and the 100-missed-schedules trap cannot hit). */
  startingDeadlineSeconds?: number;
  /** CronJob timeZone when the definition sets none (omitted when undefined: the controller's zone). */
  defaultTimeZone?: string;
  transport: TransportOptions;
  /**
   * Kuberhealthy-style definitions only: the deadline (epoch ms) of the next run, written into
   * the pod template for KH_CHECK_RUN_DEADLINE (the controller computes it; ADR 0013). Without
   * it the annotation is absent and the variable is empty.
   */
  khRunDeadline?: number;
}

export interface DesiredObjects {
  /** ServiceAccount, Role, RoleBinding, input ConfigMap, CronJob: in the definition's namespace, owned by it. */
  namespaced: DesiredObject[];
  /** ClusterRole and ClusterRoleBinding (resourceNamespace "*"), labelled with the definition uid for cleanup. */
  clusterScoped: DesiredObject[];
  /** Roles and RoleBindings in other namespaces (resourceNamespace: <ns>): no owner reference possible, labelled like clusterScoped. */
  otherNamespaces: DesiredObject[];
  /** The CronJob (also in `namespaced`). */
  cronJob: Plain<V1CronJob>;
}

export const DEFAULT_HISTORY_LIMITS = { successful: 3, failed: 1 } as const;
export const DEFAULT_STARTING_DEADLINE_SECONDS = 300;

/** The owner reference every namespaced object carries. */
export function ownerReference(def: HealthDefinition): Plain<V1OwnerReference> {
  if (!def.metadata.uid) {
    throw new ValidationError(`${def.metadata.namespace}/${def.metadata.name}`, [issue('error', 'metadata.uid', 'required in Kubernetes mode (the definition must come from the API server)')]);
  }
  return { apiVersion: API_VERSION, kind: HEALTH_DEFINITION_KIND, name: def.metadata.name, uid: def.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * The objects of one definition. Throws ValidationError (naming the object and the field)
 * for a definition that cannot become valid objects; the caller records it in the
 * definition's status and carries on with the others.
 */
export function desiredObjects(def: HealthDefinition, opts: DesiredOptions): DesiredObjects {
  const key = `${def.metadata.namespace}/${def.metadata.name}`;
  const owner = ownerReference(def);
  const namespace = def.metadata.namespace;
  let schedule;
  const timeZone = def.spec.timeZone ?? opts.defaultTimeZone;
  try {
    schedule = parseSchedule(def.spec.schedule || DEFAULT_SCHEDULE, timeZone);
  } catch (err) {
    if (err instanceof ScheduleError) throw new ValidationError(key, [issue('error', `spec.${err.field}`, err.message)]);
    throw err;
  }
  const timeout = def.spec.timeoutSeconds ?? opts.defaultTimeoutSeconds;
  const annotations: Record<string, string> = { [ANNOTATIONS.definition]: key };
  if (def.metadata.generation !== undefined) annotations[ANNOTATIONS.generation] = String(def.metadata.generation);

  const rbac = rbacObjects(def);
  const configMapName = inputConfigMapName(def);
  const configMap = inputConfigMap(def, configMapName, definitionLabels(def, COMPONENTS.input), annotations);
  const checkLabels = definitionLabels(def, COMPONENTS.check);
  const history = opts.historyLimits ?? DEFAULT_HISTORY_LIMITS;
  const kuberhealthy = expectsReport(def.metadata.annotations);
  const podAnnotations = kuberhealthy && opts.khRunDeadline !== undefined ? { ...annotations, [KH_DEADLINE_ANNOTATION]: String(Math.floor(opts.khRunDeadline / 1000)) } : annotations;
  const template = podTemplate(def, {
    agentImage: opts.agentImage,
    serviceAccountName: rbac.serviceAccountName,
    inputConfigMap: configMapName,
    userNeedsToken: rbac.userNeedsToken,
    labels: checkLabels,
    annotations: podAnnotations,
    ...(kuberhealthy ? { kuberhealthy: { timeoutSeconds: timeout } } : {}),
    ...(opts.transport.adapterImagePullPolicy !== undefined ? { adapterImagePullPolicy: opts.transport.adapterImagePullPolicy } : {}),
    ...(opts.transport.adapterResources !== undefined ? { adapterResources: opts.transport.adapterResources } : {}),
    ...(opts.transport.maxOutputBytes !== undefined ? { maxOutputBytes: opts.transport.maxOutputBytes } : {}),
    ...(opts.transport.maxDetailsBytes !== undefined ? { maxDetailsBytes: opts.transport.maxDetailsBytes } : {}),
  });
  const cronJob: Plain<V1CronJob> = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: cronJobName(def),
      namespace,
      labels: checkLabels,
      annotations: { ...annotations, 'health.vigil.dev/destination': opts.destination },
      ownerReferences: [owner],
    },
    spec: {
      schedule: schedule.normalized,
      ...(timeZone !== undefined ? { timeZone } : {}),
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: opts.startingDeadlineSeconds ?? DEFAULT_STARTING_DEADLINE_SECONDS,
      suspend: def.spec.suspend === true,
      successfulJobsHistoryLimit: history.successful,
      failedJobsHistoryLimit: history.failed,
      jobTemplate: {
        metadata: { labels: checkLabels, annotations },
        spec: { backoffLimit: 0, activeDeadlineSeconds: timeout, template },
      },
    },
  };

  const own = (o: { apiVersion?: string; kind?: string; metadata?: Plain<V1CronJob>['metadata'] }): DesiredObject =>
    desiredObject({ ...o, metadata: { ...o.metadata, ownerReferences: [owner] } });
  const namespaced: DesiredObject[] = [];
  if (rbac.serviceAccount) namespaced.push(own(rbac.serviceAccount));
  namespaced.push(own(rbac.role), own(rbac.roleBinding), own(configMap), desiredObject(cronJob));
  const clusterScoped: DesiredObject[] = [];
  if (rbac.clusterRole && rbac.clusterRoleBinding) clusterScoped.push(desiredObject(rbac.clusterRole), desiredObject(rbac.clusterRoleBinding));
  return { namespaced, clusterScoped, otherNamespaces: rbac.otherNamespaces.map(desiredObject), cronJob };
}

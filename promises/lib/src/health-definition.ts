/**
 * The HealthDefinition a Promise pipeline emits for one resource request. Only fields of the
 * SKE HealthDefinition CRD are used, so the same object runs under vigil and under the SKE
 * Health Agent.
 */
import { stringify } from 'yaml';
import { boundedName } from '../../../agent/src/core/naming.js';
import { parseSchedule, ScheduleError } from '../../../agent/src/core/schedule/index.js';
import type { ResourceRequest, SpecReader } from './request.js';

export const HEALTH_DEFINITION_API_VERSION = 'platform.kratix.io/v1alpha1';
/** The file a pipeline writes its HealthDefinition to, under /kratix/output. */
export const HEALTH_DEFINITION_FILE = 'health-definition.yaml';
/**
 * Longest HealthDefinition name emitted: a DNS label (63), so the name also fits a label value
 * and leaves room in the names derived from it (`<definition>-<destination>` records, CronJobs).
 */
export const MAX_DEFINITION_NAME = 63;
/** Longest schedule string accepted from a request. */
const MAX_SCHEDULE_LENGTH = 100;

/** Hardening given to every check container (the SKE agent gives the same to its own containers). */
export const CHECK_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 65534,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
} as const;

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** Kratix's extension: the namespace the Role is created in (`"*"`: a ClusterRole). */
  resourceNamespace?: string;
}

export interface CheckContainer {
  name: string;
  image: string;
  env?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
}

/**
 * `<promise>-<name>-<namespace>`; when that is longer than {@link MAX_DEFINITION_NAME} it is cut
 * and ends with 8 hex characters of sha256 over the three parts, so it stays unique and is the
 * same on every run.
 */
export function healthDefinitionName(promise: string, request: ResourceRequest): string {
  return boundedName([promise, request.metadata.name, request.metadata.namespace], MAX_DEFINITION_NAME);
}

/**
 * The schedule: `spec.healthCheck.schedule` of the request when set (validated with vigil's
 * CronJob-compatible parser, so a bad one fails the pipeline instead of every check run),
 * else `fallback`.
 */
export function readSchedule(spec: SpecReader, fallback: string): string {
  const schedule = spec.optionalString('healthCheck.schedule', { maxLength: MAX_SCHEDULE_LENGTH });
  if (schedule === undefined) return fallback;
  try {
    parseSchedule(schedule);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    spec.issue('healthCheck.schedule', err.message);
    return fallback;
  }
  return schedule;
}

export interface HealthDefinitionOptions {
  promise: string;
  request: ResourceRequest;
  schedule: string;
  /** Becomes `spec.input` (rendered as a YAML string): what the check reads from object.yaml. */
  input: unknown;
  containers: CheckContainer[];
  permissions?: PolicyRule[];
}

export function buildHealthDefinition(opts: HealthDefinitionOptions): Record<string, unknown> {
  const { request } = opts;
  return {
    apiVersion: HEALTH_DEFINITION_API_VERSION,
    kind: 'HealthDefinition',
    metadata: {
      name: healthDefinitionName(opts.promise, request),
      namespace: request.metadata.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'kratix', 'kratix.io/promise-name': opts.promise },
    },
    spec: {
      promiseRef: { name: opts.promise },
      resourceRef: { name: request.metadata.name, namespace: request.metadata.namespace },
      schedule: opts.schedule,
      input: stringify(opts.input, { lineWidth: 0, aliasDuplicateObjects: false }),
      workflow: {
        apiVersion: HEALTH_DEFINITION_API_VERSION,
        kind: 'Pipeline',
        metadata: { name: 'healthcheck' },
        spec: {
          ...(opts.permissions && opts.permissions.length > 0 ? { rbac: { permissions: opts.permissions } } : {}),
          containers: opts.containers.map((c) => ({ ...c, securityContext: { ...CHECK_SECURITY_CONTEXT, ...c.securityContext } })),
        },
      },
    },
  };
}

/**
 * The image of a check: `VIGIL_CHECK_IMAGE` from the pipeline container's environment when set
 * (a mirror in a private registry), else `fallback`.
 */
export function checkImage(fallback: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const value = env.VIGIL_CHECK_IMAGE?.trim();
  return value ? value : fallback;
}

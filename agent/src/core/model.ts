/**
 * The vigil data model: HealthDefinition (SKE schema plus vigil's optional fields),
 * HealthRecord (exactly what open-source Kratix reads) and the health-status.yaml
 * contract written by check containers. Pure types and constants, no I/O.
 */

export const API_GROUP = 'platform.kratix.io';
export const API_VERSION = 'platform.kratix.io/v1alpha1';
export const HEALTH_DEFINITION_KIND = 'HealthDefinition';
export const HEALTH_RECORD_KIND = 'HealthRecord';

/** The five states of a HealthRecord, in the order of Kratix's CRD enum. */
export const HEALTH_STATES = ['unknown', 'ready', 'unhealthy', 'healthy', 'degraded'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export function isHealthState(value: unknown): value is HealthState {
  return typeof value === 'string' && (HEALTH_STATES as readonly string[]).includes(value);
}

/** Default of `spec.schedule` in the SKE CRD. */
export const DEFAULT_SCHEDULE = '0 */6 * * *';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
}

export interface PromiseRef {
  name: string;
}

export interface ResourceRef {
  name: string;
  namespace: string;
  generation?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string; apiVersion?: string };
    resourceFieldRef?: { resource: string; containerName?: string };
  };
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string; localhostProfile?: string };
  [key: string]: unknown;
}

export interface ResourceRequirements {
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
}

/** A container of a Kratix Pipeline (a subset of core/v1 Container). */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  workingDir?: string;
  imagePullPolicy?: string;
  securityContext?: SecurityContext;
  resources?: ResourceRequirements;
  volumeMounts?: unknown[];
  [key: string]: unknown;
}

export interface PolicyRuleWithNamespace {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  /** Kratix extension: where the rule applies; "*" means cluster-wide. */
  resourceNamespace?: string;
}

/** A Kratix Pipeline (platform.kratix.io/v1alpha1, kind Pipeline). */
export interface Pipeline {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    containers?: Container[];
    volumes?: unknown[];
    rbac?: { serviceAccount?: string; permissions?: PolicyRuleWithNamespace[] };
    imagePullSecrets?: unknown[];
    nodeSelector?: Record<string, string>;
    tolerations?: unknown[];
    [key: string]: unknown;
  };
}

/** How a container's exit code is interpreted (vigil extension, `spec.exitCodeMode`). */
export type ExitCodeMode = 'Error' | 'Nagios';
export const EXIT_CODE_MODES: readonly ExitCodeMode[] = ['Error', 'Nagios'];

export interface HealthDefinitionSpec {
  promiseRef: PromiseRef;
  resourceRef?: ResourceRef;
  /** Cron schedule: 5 fields or a macro such as @hourly. */
  schedule: string;
  /** A YAML document written to /kratix/input/object.yaml. */
  input?: string;
  workflow?: Pipeline;
  /** Upgrade gating (Kratix): copied to HealthRecord.data.promiseVersion. */
  promiseVersion?: string;
  // ---- vigil extensions (documented in README "HealthDefinition fields") ----
  /** IANA time zone for `schedule`, as CronJob `spec.timeZone`. */
  timeZone?: string;
  /** Wall-clock limit for one run; becomes Job activeDeadlineSeconds in Kubernetes. */
  timeoutSeconds?: number;
  /** `Error` (default): a non-zero exit is a broken check. `Nagios`: exit codes 0-3 carry the state. */
  exitCodeMode?: ExitCodeMode;
  /** As CronJob `spec.suspend`: no new runs are started while true. */
  suspend?: boolean;
}

export interface HealthDefinition {
  apiVersion: typeof API_VERSION;
  kind: typeof HEALTH_DEFINITION_KIND;
  metadata: ObjectMeta & { namespace: string };
  spec: HealthDefinitionSpec;
  status?: Record<string, unknown>;
}

export interface HealthRecordData {
  promiseRef: PromiseRef;
  resourceRef?: ResourceRef;
  state: HealthState;
  /** Unix seconds of the run's completion. */
  lastRun?: number;
  details?: Record<string, unknown>;
  promiseVersion?: string;
}

export interface HealthRecord {
  apiVersion: typeof API_VERSION;
  kind: typeof HEALTH_RECORD_KIND;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data: HealthRecordData;
}

/** The contents of /kratix/output/health-status.yaml. */
export interface HealthStatusFile {
  state: HealthState;
  details?: Record<string, unknown>;
}

/** `namespace/name`, the identity of a definition inside one agent. */
export type DefinitionKey = string;

export function definitionKey(meta: { namespace?: string; name: string }): DefinitionKey {
  return `${meta.namespace ?? ''}/${meta.name}`;
}

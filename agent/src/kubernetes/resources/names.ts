/**
 * Names and labels of the objects vigil creates for a HealthDefinition in Kubernetes mode.
 * Every name is derived from the definition's namespace and name through core/naming.ts:
 * a readable prefix plus a stable hash, so it is the same on every reconcile, distinct for
 * distinct definitions, and within the API server's limits. Pure.
 */
import type { HealthDefinition } from '../../core/model.js';
import { boundedName, stableHash } from '../../core/naming.js';

/** The label keys (and the annotation keys) linking every object to its definition. */
export const LABELS = {
  /** `vigil` on everything vigil creates (app.kubernetes.io/managed-by, as on records). */
  managedBy: 'app.kubernetes.io/managed-by',
  /** What the object is for: one of COMPONENTS. */
  component: 'app.kubernetes.io/component',
  /** The definition's name when it fits a label value (≤ 63), else absent: see ANNOTATIONS.definition. */
  definitionName: 'health.vigil.dev/definition-name',
  /** The definition's namespace. */
  definitionNamespace: 'health.vigil.dev/definition-namespace',
  /** The definition's metadata.uid: the authoritative link, used to clean up cluster-scoped objects. */
  definitionUid: 'health.vigil.dev/definition-uid',
  /** Short hash of `namespace/name`: selects the Jobs and pods of one definition whatever its name length. */
  definitionHash: 'health.vigil.dev/definition-hash',
} as const;

export const MANAGED_BY = 'vigil';

export const COMPONENTS = {
  check: 'health-check',
  rbac: 'health-check-rbac',
  input: 'health-check-input',
  result: 'health-check-result',
} as const;

export const ANNOTATIONS = {
  /** `namespace/name` of the definition, always present (labels cannot hold long names). */
  definition: 'health.vigil.dev/definition',
  /** The definition's metadata.generation the object was built from. */
  generation: 'health.vigil.dev/definition-generation',
  /** Set by the CronJob controller on the Jobs it creates (Kubernetes ≥ 1.28), RFC 3339. */
  scheduledTimestamp: 'batch.kubernetes.io/cronjob-scheduled-timestamp',
} as const;

/** Labels the Job controller puts on the pods of a Job (Kubernetes ≥ 1.27). */
export const JOB_POD_LABELS = {
  jobName: 'batch.kubernetes.io/job-name',
  controllerUid: 'batch.kubernetes.io/controller-uid',
} as const;

/** Maximum length of a CronJob name: the Job name adds `-<11 digits>` and must stay ≤ 63. */
export const CRONJOB_NAME_MAX = 52;

const HASH_LENGTH = 8;

type DefinitionLike = Pick<HealthDefinition, 'metadata'>;

/** Hash of the definition's identity (`namespace/name`), the suffix of its object names. */
export function definitionHash(def: DefinitionLike): string {
  return stableHash([def.metadata.namespace, def.metadata.name], HASH_LENGTH);
}

/**
 * `<readable prefix>-<hash>`, at most `max` characters, always a valid RFC 1123 label or
 * subdomain (the prefix is the definition's name cut to fit, lower-cased, dots and other
 * characters turned into '-').
 */
function hashedName(def: DefinitionLike, max: number, suffix = ''): string {
  const hash = definitionHash(def);
  const tail = `${suffix ? `-${suffix}` : ''}-${hash}`;
  const room = max - tail.length;
  const prefix = def.metadata.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, room)
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[^a-z0-9]+$/, '');
  return `${prefix || 'hc'}${tail}`;
}

/**
 * Name of the definition's CronJob (≤ 52 characters, a valid label): a readable prefix from
 * the definition's name plus a hash of `namespace/name`. Also the name of its
 * ServiceAccount, Role, RoleBinding and input ConfigMap, all in the definition's namespace.
 */
export function cronJobName(def: DefinitionLike): string {
  return hashedName(def, CRONJOB_NAME_MAX);
}

/** Name of the ServiceAccount, Role and RoleBinding in the definition's namespace. */
export function checkServiceAccountName(def: DefinitionLike): string {
  return cronJobName(def);
}

/** Name of the input ConfigMap (object.yaml). */
export function inputConfigMapName(def: DefinitionLike): string {
  return hashedName(def, CRONJOB_NAME_MAX + 6, 'input');
}

/**
 * Name of cluster-scoped RBAC objects and of Roles in other namespaces. It includes the
 * definition's namespace (cluster-scoped names are shared by all namespaces) and is ≤ 253.
 */
export function clusterRbacName(def: DefinitionLike): string {
  return boundedName(['vigil', 'hc', def.metadata.namespace, def.metadata.name, definitionHash(def)], 253);
}

/** A label value for the definition's name, or undefined when it does not fit (> 63 or contains dots only allowed in names). */
export function definitionNameLabel(name: string): string | undefined {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/.test(name) ? name : undefined;
}

/** The labels put on every object, Job and pod of a definition. */
export function definitionLabels(def: HealthDefinition, component: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: component,
    [LABELS.definitionNamespace]: def.metadata.namespace,
    [LABELS.definitionHash]: definitionHash(def),
  };
  const name = definitionNameLabel(def.metadata.name);
  if (name !== undefined) labels[LABELS.definitionName] = name;
  if (def.metadata.uid !== undefined) labels[LABELS.definitionUid] = def.metadata.uid;
  return labels;
}

/** The label selector (`k=v,k=v`) of the Jobs and pods of a definition. */
export function definitionSelector(def: DefinitionLike): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.definitionHash}=${definitionHash(def)}`;
}

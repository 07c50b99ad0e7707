/**
 * Kubernetes mode, desired state: the objects a HealthDefinition becomes in a cluster and
 * the interpretation of the Jobs they run. Pure (no I/O); the controller applies and
 * watches them (ADR 0012, 0013).
 */
export { desiredObjects, ownerReference, DEFAULT_HISTORY_LIMITS, DEFAULT_STARTING_DEADLINE_SECONDS } from './desired.js';
export type { DesiredObjects, DesiredOptions, TransportOptions } from './desired.js';
export {
  ANNOTATIONS,
  COMPONENTS,
  CRONJOB_NAME_MAX,
  JOB_POD_LABELS,
  LABELS,
  MANAGED_BY,
  checkServiceAccountName,
  clusterRbacName,
  cronJobName,
  definitionHash,
  definitionLabels,
  definitionSelector,
  inputConfigMapName,
} from './names.js';
export { interpretRun, jobScheduledTime, podsOfJob, timeMs } from './interpret.js';
export type { InterpretOptions, ResultSource, RunInterpretation } from './interpret.js';
export { ADAPTER_CONTAINER, ADAPTER_ENV, ADAPTER_COMMAND } from './pod.js';
export { MAX_INPUT_BYTES, OBJECT_FILE } from './input.js';
export { TRANSPORT_RULE } from './rbac.js';
export { HEALTH_STATE, HEALTH_STATE_META, healthStateName } from '../transport/health-state.js';
export type { DesiredObject, Plain } from './plain.js';

/**
 * Configuration of Kubernetes mode: the schema fragments config/schema.ts includes
 * (`definitions.kind: kubernetes` with namespaces/kubeconfig/context, and
 * `runtime.kind: kubernetes` with `runtime.kubernetes`), the resolved types, and the
 * cross-field checks, each naming the setting.
 */
import type { StructuralSchema } from '../core/schema.js';

const str = (description: string, extra: Partial<StructuralSchema> = {}): StructuralSchema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Partial<StructuralSchema> = {}): StructuralSchema => ({ type: 'integer', description, ...extra });

/** Properties added to `definitions` (used when definitions.kind is kubernetes). */
export const KUBERNETES_SOURCE_PROPERTIES: Record<string, StructuralSchema> = {
  namespaces: { type: 'array', description: 'kubernetes: namespaces whose HealthDefinitions are watched (default: all)', items: { type: 'string' } },
  kubeconfig: str('kubernetes: kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account)'),
  context: str('kubernetes: kubeconfig context (default: the current one)'),
};

/** `runtime.kubernetes`: how definitions become CronJobs and how the controller behaves. */
export const KUBERNETES_RUNTIME_SCHEMA: StructuralSchema = {
  type: 'object',
  default: {},
  description: 'kubernetes: the controller (runtime.kind kubernetes)',
  properties: {
    agentImage: str('Image of the adapter container in every check pod (the vigil agent image); env VIGIL_AGENT_IMAGE'),
    adapterImagePullPolicy: str('imagePullPolicy of the adapter container', { enum: ['Always', 'IfNotPresent', 'Never'] }),
    historyLimits: {
      type: 'object',
      default: {},
      properties: {
        successful: int('CronJob successfulJobsHistoryLimit', { minimum: 0, default: 3 }),
        failed: int('CronJob failedJobsHistoryLimit', { minimum: 0, default: 1 }),
      },
    },
    startingDeadlineSeconds: int('CronJob startingDeadlineSeconds: a run not started this late is skipped', { minimum: 10, default: 300 }),
    resyncSeconds: int('Full re-list and re-reconcile period', { minimum: 0, default: 600 }),
    stallSeconds: int('A watch silent (no event, no bookmark) this long is restarted', { minimum: 10, default: 120 }),
    concurrency: int('Definitions reconciled at once', { minimum: 1, default: 4 }),
    unschedulableAfterSeconds: int('A check pod unschedulable this long ends its run as unknown (Unschedulable) and its Job is deleted', { minimum: 10, default: 300 }),
    startErrorAfterSeconds: int('An image pull or container configuration error lasting this long ends the run as unknown (ImagePull, StartFailed)', { minimum: 10, default: 120 }),
    leaderElection: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', description: 'Elect one leader among replicas on a Lease', default: false },
        namespace: str('Namespace of the Lease; default: VIGIL_POD_NAMESPACE (or POD_NAMESPACE), else "default"'),
        name: str('Name of the Lease', { default: 'vigil-controller' }),
        leaseDurationSeconds: int('Lease duration', { minimum: 2, default: 15 }),
        renewDeadlineSeconds: int('A leader that cannot renew this long steps down', { minimum: 1, default: 10 }),
        retryPeriodSeconds: int('Between attempts to acquire or renew', { minimum: 1, default: 2 }),
      },
    },
  },
};

export interface KubernetesRuntimeConfig {
  agentImage?: string;
  adapterImagePullPolicy?: string;
  historyLimits: { successful: number; failed: number };
  startingDeadlineSeconds: number;
  resyncSeconds: number;
  stallSeconds: number;
  concurrency: number;
  unschedulableAfterSeconds: number;
  startErrorAfterSeconds: number;
  leaderElection: {
    enabled: boolean;
    namespace?: string;
    name: string;
    leaseDurationSeconds: number;
    renewDeadlineSeconds: number;
    retryPeriodSeconds: number;
  };
}

/** Defaults of runtime.kubernetes when the file has no runtime section (schema defaults apply otherwise). */
export function defaultKubernetesRuntime(): KubernetesRuntimeConfig {
  return {
    historyLimits: { successful: 3, failed: 1 },
    startingDeadlineSeconds: 300,
    resyncSeconds: 600,
    stallSeconds: 120,
    concurrency: 4,
    unschedulableAfterSeconds: 300,
    startErrorAfterSeconds: 120,
    leaderElection: { enabled: false, name: 'vigil-controller', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
  };
}

/** Problems of a kubernetes-mode configuration, as `[path, message]`. */
export function kubernetesConfigProblems(
  definitionsKind: string,
  runtimeKind: string,
  k: KubernetesRuntimeConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): [string, string][] {
  const problems: [string, string][] = [];
  if (runtimeKind !== 'kubernetes') return problems;
  if (definitionsKind !== 'kubernetes') problems.push(['definitions.kind', 'must be kubernetes when runtime.kind is kubernetes (the CronJobs are built from HealthDefinitions in the cluster)']);
  if (!k?.agentImage && !env.VIGIL_AGENT_IMAGE) problems.push(['runtime.kubernetes.agentImage', 'required when runtime.kind is kubernetes (or set VIGIL_AGENT_IMAGE): the image of the adapter container']);
  const le = k?.leaderElection;
  if (le && le.renewDeadlineSeconds >= le.leaseDurationSeconds) problems.push(['runtime.kubernetes.leaderElection.renewDeadlineSeconds', `must be less than leaseDurationSeconds (${le.leaseDurationSeconds})`]);
  return problems;
}

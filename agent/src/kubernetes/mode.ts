/**
 * `vigil agent` with `runtime.kind: kubernetes`: builds the controller from the validated
 * configuration and serves the same HTTP surface as the local agent (healthz, readyz, the
 * status API, metrics), with the controller as the StatusProvider.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/config.js';
import type { StateStore } from '../core/interfaces.js';
import { Outbox } from '../records/Outbox.js';
import { getDefinitionValidator } from '../crds.js';
import type { DesiredOptions } from './resources/index.js';
import { Kube, loadKubeConfig } from './client.js';
import { KubernetesController, type ControllerOptions } from './controller/Controller.js';

/** The controller's options from the agent configuration. Throws with the setting named. */
export function controllerOptions(config: AgentConfig, logger: Logger, store: StateStore): ControllerOptions {
  const k = config.runtime.kubernetes;
  const d = config.definitions;
  const kc = loadKubeConfig({ ...(d.kubeconfig ? { kubeconfig: d.kubeconfig } : {}), ...(d.context ? { context: d.context } : {}) });
  const agentImage = k.agentImage ?? process.env.VIGIL_AGENT_IMAGE;
  if (!agentImage) throw new Error('runtime.kubernetes.agentImage: required in Kubernetes mode (or set VIGIL_AGENT_IMAGE)');
  const desired: DesiredOptions = {
    agentImage,
    destination: config.destination,
    historyLimits: k.historyLimits,
    defaultTimeoutSeconds: config.runtime.defaultTimeoutSeconds,
    startingDeadlineSeconds: k.startingDeadlineSeconds,
    ...(config.scheduler.defaultTimeZone !== 'UTC' ? { defaultTimeZone: config.scheduler.defaultTimeZone } : {}),
    transport: { maxOutputBytes: config.runtime.maxOutputBytes, ...(k.adapterImagePullPolicy ? { adapterImagePullPolicy: k.adapterImagePullPolicy } : {}) },
  };
  const le = k.leaderElection;
  return {
    kube: new Kube(kc),
    logger,
    store,
    outbox: new Outbox({ dir: join(config.dataDir, 'outbox'), logger }),
    validator: getDefinitionValidator(),
    destination: config.destination,
    ...(d.namespaces && d.namespaces.length > 0 ? { namespaces: d.namespaces } : {}),
    desired,
    resyncSeconds: k.resyncSeconds,
    stallSeconds: k.stallSeconds,
    concurrency: k.concurrency,
    unschedulableAfterSeconds: k.unschedulableAfterSeconds,
    startErrorAfterSeconds: k.startErrorAfterSeconds,
    ...(le.enabled
      ? {
          leaderElection: {
            namespace: le.namespace ?? process.env.VIGIL_POD_NAMESPACE ?? process.env.POD_NAMESPACE ?? 'default',
            name: le.name,
            leaseDurationSeconds: le.leaseDurationSeconds,
            renewDeadlineSeconds: le.renewDeadlineSeconds,
            retryPeriodSeconds: le.retryPeriodSeconds,
          },
        }
      : {}),
  };
}

export function buildController(config: AgentConfig, logger: Logger, store: StateStore): KubernetesController {
  return new KubernetesController(controllerOptions(config, logger, store));
}

/** Builds KubernetesControllers for tests, against the fake API server or a real one. */
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Kube } from '../../../agent/src/kubernetes/client.js';
import { KubernetesController, type ControllerOptions } from '../../../agent/src/kubernetes/controller/Controller.js';
import { FsStateStore } from '../../../agent/src/stores/FsStateStore.js';
import { Outbox } from '../../../agent/src/records/Outbox.js';
import { getDefinitionValidator } from '../../../agent/src/crds.js';
import { createLogger, silentLogger } from '../../../agent/src/logging/logger.js';

export const HD_API = 'platform.kratix.io/v1alpha1';

/** A HealthDefinition as a user applies it. */
export function hd(name: string, namespace = 'default', spec: Record<string, unknown> = {}): any {
  return {
    apiVersion: HD_API,
    kind: 'HealthDefinition',
    metadata: { name, namespace },
    spec: {
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'example', namespace },
      schedule: '*/5 * * * *',
      input: 'kind: Redis\nspec: {size: small}\n',
      workflow: {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'healthcheck' },
        spec: { containers: [{ name: 'check', image: 'ghcr.io/example/redis-check:v1' }] },
      },
      ...spec,
    },
  };
}

export interface ControllerSetup {
  kc: KubeConfig;
  /** Directory of the fs store (`<dir>/state`) and the outbox (`<dir>/data`). */
  dir: string;
  options?: Partial<ControllerOptions>;
}

export function makeController(setup: ControllerSetup): { controller: KubernetesController; store: FsStateStore } {
  // VIGIL_TEST_LOG=debug shows the controller's log while debugging a test.
  const logger = process.env.VIGIL_TEST_LOG ? createLogger({ level: process.env.VIGIL_TEST_LOG, pretty: false }) : silentLogger();
  const store = new FsStateStore({ root: join(setup.dir, 'state'), logger, fsync: false });
  const controller = new KubernetesController({
    kube: new Kube(setup.kc),
    logger,
    store,
    outbox: new Outbox({ dir: join(setup.dir, 'data', 'outbox'), logger }),
    validator: getDefinitionValidator(),
    destination: 'test-cluster',
    desired: { agentImage: 'ghcr.io/vigil/agent:test', destination: 'test-cluster', defaultTimeoutSeconds: 300, transport: {} },
    resyncSeconds: 600,
    stallSeconds: 5,
    informerBackoffMs: { initial: 20, max: 500 },
    retryMs: 100,
    resultGraceSeconds: 1,
    ...setup.options,
  });
  return { controller, store };
}

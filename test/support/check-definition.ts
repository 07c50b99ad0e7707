/** Small builders of HealthDefinitions and run requests for runtime tests. */
import { randomBytes } from 'node:crypto';
import type { RunRequest } from '../../agent/src/core/interfaces.js';
import type { Container, HealthDefinition, HealthDefinitionSpec } from '../../agent/src/core/model.js';
import { silentLogger } from '../../agent/src/logging/logger.js';

/** A definition `<namespace>/<name>` whose workflow runs `containers`. */
export function checkDefinition(containers: Container[], spec: Partial<HealthDefinitionSpec> = {}, name = 'web-check', namespace = 'default'): HealthDefinition {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name, namespace },
    spec: {
      promiseRef: { name: 'web' },
      schedule: '@hourly',
      workflow: { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'Pipeline', metadata: { name: 'healthcheck' }, spec: { containers } },
      ...spec,
    },
  };
}

/** A shell container running `script` with /bin/sh. */
export function shell(name: string, script: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'example.org/unmapped:1', command: ['/bin/sh', '-c', script], ...extra };
}

export function runRequest(definition: HealthDefinition, extra: Partial<RunRequest> = {}): RunRequest {
  return { runId: `run-${randomBytes(6).toString('hex')}`, definition, timeoutMs: 30_000, logger: silentLogger(), ...extra };
}

/**
 * Building the HealthRecord for a definition's result: exactly the object open-source
 * Kratix reads (data.promiseRef, resourceRef, state, lastRun, details, promiseVersion).
 * One record per (definition, destination). Pure.
 */
import { API_VERSION, HEALTH_RECORD_KIND, type HealthDefinition, type HealthRecord, type HealthState } from './model.js';
import type { RecordRef } from './interfaces.js';
import { boundedName } from './naming.js';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_DESTINATION = 'health.vigil.dev/destination';
export const ANNOTATION_DEFINITION = 'health.vigil.dev/definition';

/** Name of the record of `definitionName` on `destination`: `<definition>-<destination>`, hashed if too long. */
export function recordName(definitionName: string, destination: string): string {
  return boundedName([definitionName, destination], 253);
}

export function recordRef(definition: HealthDefinition, destination: string): RecordRef {
  return { namespace: definition.metadata.namespace, name: recordName(definition.metadata.name, destination) };
}

export interface RecordInput {
  definition: HealthDefinition;
  destination: string;
  state: HealthState;
  details?: Record<string, unknown>;
  /** Completion time of the run (epoch ms); becomes data.lastRun in unix seconds. */
  finishedAt: number;
}

export function buildHealthRecord(input: RecordInput): HealthRecord {
  const { definition, destination } = input;
  const spec = definition.spec;
  // Key order follows Kratix's documentation: promiseRef, resourceRef, state, lastRun, details.
  const resourceRef = spec.resourceRef
    ? { name: spec.resourceRef.name, namespace: spec.resourceRef.namespace, ...(spec.resourceRef.generation !== undefined ? { generation: spec.resourceRef.generation } : {}) }
    : undefined;
  const data: HealthRecord['data'] = { promiseRef: { name: spec.promiseRef.name }, ...(resourceRef ? { resourceRef } : {}), state: input.state };
  data.lastRun = Math.floor(input.finishedAt / 1000);
  if (input.details && Object.keys(input.details).length > 0) data.details = input.details;
  if (spec.promiseVersion !== undefined) data.promiseVersion = spec.promiseVersion;
  const ref = recordRef(definition, destination);
  return {
    apiVersion: API_VERSION,
    kind: HEALTH_RECORD_KIND,
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { [LABEL_MANAGED_BY]: 'vigil', [LABEL_DESTINATION]: destination },
      annotations: { [ANNOTATION_DEFINITION]: `${definition.metadata.namespace}/${definition.metadata.name}` },
    },
    data,
  };
}

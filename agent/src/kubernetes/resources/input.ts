/**
 * The check's input: `spec.input` as `object.yaml` in a ConfigMap that the pod mounts
 * read-only at /kratix/input (ADR 0012: a ConfigMap, because the input is already stored
 * in clear in the HealthDefinition; a Secret would hide nothing). Pure.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Plain } from './plain.js';
import type { HealthDefinition } from '../../core/model.js';
import { issue, ValidationError } from '../../core/issues.js';

export const OBJECT_FILE = 'object.yaml';

/**
 * Largest `spec.input` accepted: a ConfigMap's data may hold 1 MiB in total; a little room
 * is kept for the key.
 */
export const MAX_INPUT_BYTES = 1024 * 1024 - 1024;

export function inputConfigMap(def: HealthDefinition, name: string, labels: Record<string, string>, annotations: Record<string, string>): Plain<V1ConfigMap> {
  const input = def.spec.input ?? '';
  const size = Buffer.byteLength(input, 'utf8');
  if (size > MAX_INPUT_BYTES) {
    throw new ValidationError(`${def.metadata.namespace}/${def.metadata.name}`, [
      issue('error', 'spec.input', `is ${size} bytes; in Kubernetes mode it must fit a ConfigMap (at most ${MAX_INPUT_BYTES} bytes)`),
    ]);
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: def.metadata.namespace, labels, annotations },
    data: { [OBJECT_FILE]: input },
  };
}

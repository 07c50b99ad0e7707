/**
 * The check-container contract: /kratix/output/health-status.yaml holds `state` (one of
 * the five states) and an optional `details` mapping. Pure parsing and validation.
 */
import { HEALTH_STATES, isHealthState, type HealthStatusFile } from './model.js';
import { parseYamlDocument } from './yaml.js';
import { isMapping } from './pipeline.js';
import { describeValue } from './schema.js';

export const HEALTH_STATUS_FILE = 'health-status.yaml';

export type ParsedHealthStatus = { ok: true; status: HealthStatusFile } | { ok: false; message: string };

/** Parses the file's text; any problem is returned, not thrown, with a message naming the field. */
export function parseHealthStatus(text: string, maxBytes = 1024 * 1024): ParsedHealthStatus {
  let value: unknown;
  try {
    value = parseYamlDocument(text, { maxBytes, maxAliasCount: 50, maxDepth: 64 });
  } catch (err) {
    return { ok: false, message: `${HEALTH_STATUS_FILE}: ${(err as Error).message}` };
  }
  if (value === undefined || value === null) return { ok: false, message: `${HEALTH_STATUS_FILE} is empty` };
  if (!isMapping(value)) return { ok: false, message: `${HEALTH_STATUS_FILE}: expected a mapping with "state", got ${describeValue(value)}` };
  if (value.state === undefined) return { ok: false, message: `${HEALTH_STATUS_FILE}: state: required field is missing` };
  if (!isHealthState(value.state)) {
    return { ok: false, message: `${HEALTH_STATUS_FILE}: state: ${JSON.stringify(value.state)} is not one of: ${HEALTH_STATES.join(', ')}` };
  }
  const details = value.details;
  if (details !== undefined && details !== null && !isMapping(details)) {
    return { ok: false, message: `${HEALTH_STATUS_FILE}: details: must be a mapping, got ${describeValue(details)}` };
  }
  return { ok: true, status: isMapping(details) ? { state: value.state, details } : { state: value.state } };
}

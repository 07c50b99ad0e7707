/**
 * Writing `health-status.yaml`, the one output of a check:
 * `state` (one of five) and optional free-form `details`.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OUTPUT_DIR_ENV, outputDir } from './dirs.js';
import { describeType, isPlainObject } from './yaml.js';

/** The five states of a HealthRecord, as in Kratix's CRD. */
export const HEALTH_STATES = ['unknown', 'ready', 'unhealthy', 'healthy', 'degraded'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** What a check reports. `details` must be a mapping of plain JSON values. */
export interface CheckResult {
  state: HealthState;
  details?: Record<string, unknown>;
}

export const STATUS_FILE = 'health-status.yaml';
/** Default size limit of health-status.yaml. */
export const DEFAULT_MAX_STATUS_BYTES = 64 * 1024;
/**
 * Kubernetes keeps at most this many bytes of a container's termination message, which
 * is how vigil collects results in a cluster: checks meant for clusters stay below it.
 */
export const TERMINATION_MESSAGE_BYTES = 4096;
const MAX_DETAILS_DEPTH = 32;

export interface WriteStatusOptions {
  /** Directory to write into; default {@link outputDir}(). */
  dir?: string;
  /** Refuse a serialised file larger than this (default 64 KiB). */
  maxBytes?: number;
}

/**
 * Validates a result and renders health-status.yaml. Properties whose value is
 * `undefined` are dropped, as JSON.stringify does; any other non-JSON value
 * (functions, dates, class instances, NaN, cycles...) is an error naming its path.
 */
export function serializeStatus(result: CheckResult, maxBytes = DEFAULT_MAX_STATUS_BYTES): string {
  if (!isPlainObject(result)) throw new Error(`check result must be an object with a state, found ${describeType(result)}`);
  const state: unknown = result.state;
  if (typeof state !== 'string' || !(HEALTH_STATES as readonly string[]).includes(state)) {
    const shown = typeof state === 'string' ? `"${state.slice(0, 40)}"` : describeType(state);
    throw new Error(`state: ${shown} is not one of ${HEALTH_STATES.join(', ')}`);
  }
  const file: Record<string, unknown> = { state };
  if (result.details !== undefined) {
    if (!isPlainObject(result.details)) throw new Error(`details: must be a mapping, found ${describeType(result.details)}`);
    file.details = toJsonValue(result.details, 'details', new Set(), 0);
  }
  const text = stringify(file, { lineWidth: 0, aliasDuplicateObjects: false });
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new Error(
      `${STATUS_FILE} would be ${size} bytes, over the limit of ${maxBytes} bytes: keep details small ` +
        `(in Kubernetes only ${TERMINATION_MESSAGE_BYTES} bytes reach vigil)`,
    );
  }
  return text;
}

/** Validates and atomically writes `<outputDir>/health-status.yaml`; returns the file's path. */
export async function writeStatus(result: CheckResult, opts: WriteStatusOptions = {}): Promise<string> {
  const text = serializeStatus(result, opts.maxBytes);
  const dir = opts.dir ?? outputDir();
  const target = join(dir, STATUS_FILE);
  const temp = join(dir, `.${STATUS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const hint = opts.dir === undefined && !process.env[OUTPUT_DIR_ENV] ? ` (is ${OUTPUT_DIR_ENV} set?)` : '';
      throw new Error(`cannot write ${target}: no such directory${hint}`, { cause: err });
    }
    throw new Error(`cannot write ${target}: ${(err as Error).message}`, { cause: err });
  }
  return target;
}

/** A deep copy restricted to JSON values, or an error naming the offending path. */
function toJsonValue(value: unknown, path: string, ancestors: Set<object>, depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path}: ${value} is not a JSON number`);
    return value;
  }
  if (typeof value !== 'object') throw new Error(`${path}: ${describeType(value)} is not a JSON value`);
  if (depth >= MAX_DETAILS_DEPTH) throw new Error(`${path}: nested deeper than ${MAX_DETAILS_DEPTH} levels`);
  if (ancestors.has(value)) throw new Error(`${path}: circular reference`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item: unknown, i) => {
        if (item === undefined) throw new Error(`${path}[${i}]: undefined is not a JSON value`);
        return toJsonValue(item, `${path}[${i}]`, ancestors, depth + 1);
      });
    }
    if (!isPlainObject(value)) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new Error(`${path}: a ${name} is not a plain JSON value (convert it to a string or mapping)`);
    }
    const entries: [string, unknown][] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      entries.push([key, toJsonValue(item, `${path}.${key}`, ancestors, depth + 1)]);
    }
    return Object.fromEntries(entries);
  } finally {
    ancestors.delete(value);
  }
}

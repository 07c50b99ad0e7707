/**
 * Where a check finds its configuration, and typed access to environment variables.
 * Error messages name the variable or field but never print an environment value:
 * environment variables often carry secrets.
 */
import { readInput, type ReadInputOptions } from './input.js';
import { isPlainObject, parseYamlText } from './yaml.js';

/** The environment variable that, when set, holds a check's whole configuration. */
export const CHECK_CONFIG_ENV = 'VIGIL_CHECK_CONFIG';

export interface LoadCheckConfigOptions {
  /** Environment variable holding the config as YAML or JSON (default VIGIL_CHECK_CONFIG). */
  env?: string;
  /** How to read object.yaml (directory, limits); a missing file counts as no input. */
  input?: Omit<ReadInputOptions, 'missingOk'>;
}

/**
 * Finds a check's configuration, first match wins:
 * 1. the environment variable `opts.env` (YAML or JSON), if set and not empty;
 * 2. the top-level `<key>` of the input object (object.yaml);
 * 3. `spec.<key>` of the input object (when the input is a whole resource request).
 * Returns undefined when none is present. The value is not validated against `T`.
 */
export async function loadCheckConfig<T = unknown>(key: string, opts: LoadCheckConfigOptions = {}): Promise<T | undefined> {
  const envName = opts.env ?? CHECK_CONFIG_ENV;
  const fromEnv = configFromEnv(envName, process.env);
  if (fromEnv !== undefined) return fromEnv as T;
  return findCheckConfig(key, await readInput({ ...opts.input, missingOk: true }), {}, envName) as T | undefined;
}

/** An environment: `process.env` for a check process, the container's variables for an in-process plugin. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * The same lookup as {@link loadCheckConfig} over an input object already read and a given
 * environment (in-process plugins run with their container's environment, not the agent's).
 */
export function findCheckConfig(key: string, input: Record<string, unknown>, env: EnvSource, envName = CHECK_CONFIG_ENV): unknown {
  const fromEnv = configFromEnv(envName, env);
  if (fromEnv !== undefined) return fromEnv;
  if (input[key] !== undefined) return input[key];
  const spec = input.spec;
  if (isPlainObject(spec) && spec[key] !== undefined) return spec[key];
  return undefined;
}

function configFromEnv(envName: string, env: EnvSource): unknown {
  const text = env[envName];
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseYamlText(text);
  } catch (err) {
    throw new Error(`environment variable ${envName} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** One problem in a configuration: a dotted field path with [i] indexes, and what is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A configuration was refused; `issues` lists every problem found, the message one per line. */
export class CheckConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'CheckConfigError';
  }
}

/** The value of an environment variable; throws when it is unset or empty and there is no fallback. */
export function envString(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`environment variable ${name} is required`);
}

export interface IntRange {
  min?: number;
  max?: number;
}

/** An integer environment variable (decimal digits, optional sign), optionally range-checked. */
export function envInt(name: string, fallback?: number, range: IntRange = {}, env: EnvSource = process.env): number {
  const raw = env[name]?.trim();
  let value: number;
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new Error(`environment variable ${name} is required`);
    value = fallback;
  } else {
    if (!/^[+-]?\d{1,15}$/.test(raw)) throw new Error(`environment variable ${name} must be an integer`);
    value = Number(raw);
  }
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    throw new Error(`environment variable ${name} must be between ${range.min ?? '-∞'} and ${range.max ?? '∞'}`);
  }
  return value;
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** A boolean environment variable: true/false, 1/0, yes/no, on/off (any case). */
export function envBool(name: string, fallback?: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new Error(`environment variable ${name} is required`);
    return fallback;
  }
  if (TRUE_WORDS.includes(raw)) return true;
  if (FALSE_WORDS.includes(raw)) return false;
  throw new Error(`environment variable ${name} must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}`);
}

/** A comma-separated environment variable: items trimmed, empty items dropped; `fallback` when unset or empty. */
export function envList(name: string, fallback: string[] = [], env: EnvSource = process.env): string[] {
  const items = (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : fallback;
}

/**
 * The environment of a check container, built exactly as a Kratix pipeline pod gets it:
 * the KRATIX_* variables first, then vigil's own, then the container's `env` list with
 * Kubernetes `$(VAR)` expansion, `valueFrom` references resolved through a caller-supplied
 * key store. Pure: the only way out is the `KeyStore` callback.
 */
import type { Container, EnvVar, HealthDefinition } from './model.js';
import { parseYamlDocument } from './yaml.js';
import { isMapping } from './pipeline.js';

/** An ordered list of variables; a later entry with the same name wins. */
export type EnvList = readonly (readonly [name: string, value: string])[];

/** Where the check finds the Kratix directories: host paths for processes, /kratix/* in containers. */
export interface KratixDirs {
  input: string;
  output: string;
  metadata: string;
}

/** The directories as a check container sees them. */
export const CONTAINER_DIRS: KratixDirs = { input: '/kratix/input', output: '/kratix/output', metadata: '/kratix/metadata' };

/** kind, group and version of the object in `spec.input`, when it has apiVersion and kind. */
export interface ObjectIdentity {
  kind: string;
  group: string;
  version: string;
}

/**
 * Reads apiVersion/kind from `spec.input`. Any failure (not YAML, not a mapping, missing
 * fields, alias bomb) gives undefined: the input is the check's business, not vigil's.
 */
export function objectIdentity(input: string | undefined): ObjectIdentity | undefined {
  if (input === undefined || input.trim() === '') return undefined;
  let value: unknown;
  try {
    value = parseYamlDocument(input, { maxAliasCount: 10, maxDepth: 64 });
  } catch {
    return undefined;
  }
  if (!isMapping(value)) return undefined;
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') return undefined;
  const slash = apiVersion.lastIndexOf('/');
  return { kind, group: slash === -1 ? '' : apiVersion.slice(0, slash), version: slash === -1 ? apiVersion : apiVersion.slice(slash + 1) };
}

/**
 * The variables that depend only on the definition (kratix.md §3): workflow action and
 * type, promise, pipeline and object names, and VIGIL_DEFINITION. `identity` is
 * `objectIdentity(spec.input)`, passed in so callers can compute it once per definition.
 */
export function definitionEnv(definition: HealthDefinition, identity: ObjectIdentity | undefined): EnvList {
  const { metadata, spec } = definition;
  const objectName = spec.resourceRef?.name ?? metadata.name;
  const objectNamespace = spec.resourceRef ? spec.resourceRef.namespace : metadata.namespace;
  const env: [string, string][] = [
    ['KRATIX_WORKFLOW_ACTION', 'healthcheck'],
    ['KRATIX_WORKFLOW_TYPE', spec.resourceRef ? 'resource' : 'promise'],
    ['KRATIX_PROMISE_NAME', spec.promiseRef.name],
    ['KRATIX_PIPELINE_NAME', spec.workflow?.metadata?.name ?? 'healthcheck'],
    ['KRATIX_OBJECT_NAME', objectName],
    ['KRATIX_OBJECT_NAMESPACE', objectNamespace],
  ];
  if (identity) {
    env.push(['KRATIX_OBJECT_KIND', identity.kind], ['KRATIX_OBJECT_GROUP', identity.group], ['KRATIX_OBJECT_VERSION', identity.version]);
  }
  if (objectNamespace !== '') env.push(['KRATIX_CLUSTER_SCOPED', 'false']);
  env.push(['VIGIL_DEFINITION', `${metadata.namespace}/${metadata.name}`]);
  return env;
}

export interface RunEnvInput {
  runId: string;
  /** Nominal fire time in ms; VIGIL_SCHEDULED_TIME is set (in unix seconds) only when present. */
  scheduledAt?: number;
  dirs: KratixDirs;
  /** Offered by the agent to every container (e.g. VIGIL_AGENT_URL); comes after vigil's own variables. */
  extra?: Readonly<Record<string, string>>;
}

/** The variables that change per run: the directories, the run id and time, and `extra`. */
export function runEnv(input: RunEnvInput): EnvList {
  const env: [string, string][] = [
    ['KRATIX_INPUT_DIR', input.dirs.input],
    ['KRATIX_OUTPUT_DIR', input.dirs.output],
    ['KRATIX_METADATA_DIR', input.dirs.metadata],
    ['VIGIL_RUN_ID', input.runId],
  ];
  if (input.scheduledAt !== undefined) env.push(['VIGIL_SCHEDULED_TIME', String(Math.floor(input.scheduledAt / 1000))]);
  if (input.extra) for (const name of Object.keys(input.extra)) env.push([name, input.extra[name]!]);
  return env;
}

/**
 * Expands `$(VAR)` references exactly as Kubernetes does for env values, command and args
 * (k8s.io/kubernetes third_party/forked/golang/expand): `$(NAME)` becomes the value when
 * `lookup` knows NAME and stays as written otherwise; `$$` becomes `$` (so `$$(VAR)` gives
 * the literal `$(VAR)`); an unterminated `$(` and a `$` before anything else stay as they are.
 */
export function expandReferences(input: string, lookup: (name: string) => string | undefined): string {
  if (!input.includes('$')) return input;
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A key of a Secret or ConfigMap, in the definition's namespace. */
export interface KeyRef {
  kind: 'secret' | 'configMap';
  namespace: string;
  name: string;
  key: string;
}

/** Where `valueFrom` references are looked up (e.g. a directory tree). */
export interface KeyStore {
  /** The value, or undefined when the key does not exist. Throws (with a message) when it cannot be read. */
  read(ref: KeyRef): string | undefined;
  /** Where `ref` was looked for, for messages: e.g. `in /etc/vigil/secrets/default/db-creds`. */
  where(ref: KeyRef): string;
}

export type ContainerEnvResult =
  | {
      ok: true;
      /** Every variable of the container (base then its own env), in definition order. */
      env: Map<string, string>;
      /** `command` and `args` after `$(VAR)` expansion; undefined when the container does not set them. */
      command?: string[];
      args?: string[];
    }
  /** `path` names the offending field, e.g. `spec.workflow.spec.containers[0].env[2].valueFrom.secretKeyRef`. */
  | { ok: false; path: string; message: string };

export interface ContainerEnvInput {
  /** definitionEnv() then runEnv(), in that order. */
  base: EnvList;
  container: Container;
  /** Field path of the container, e.g. `spec.workflow.spec.containers[0]`. */
  path: string;
  definition: HealthDefinition;
  keys: KeyStore;
}

/**
 * The container's environment: `base` then the container's `env` in order, each value
 * expanded against the variables defined before it; then `command` and `args` expanded
 * against the whole environment. Values are never put in messages.
 */
export function containerEnv(input: ContainerEnvInput): ContainerEnvResult {
  const env = new Map<string, string>(input.base);
  const lookup = (name: string): string | undefined => env.get(name);
  const list = input.container.env ?? [];
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    const path = `${input.path}.env[${i}]`;
    if (typeof entry.name !== 'string' || entry.name === '' || entry.name.includes('=') || entry.name.includes('\0')) {
      return { ok: false, path: `${path}.name`, message: `${JSON.stringify(entry.name)} is not a valid environment variable name` };
    }
    const value = entryValue(entry, path, input, lookup);
    if (typeof value === 'object') return value;
    if (value !== undefined) {
      if (value.includes('\0')) return { ok: false, path, message: `the value of ${entry.name} contains a NUL character` };
      env.set(entry.name, value);
    }
  }
  const result: ContainerEnvResult = { ok: true, env };
  const { command, args } = input.container;
  if (command) result.command = command.map((s) => expandReferences(s, lookup));
  if (args) result.args = args.map((s) => expandReferences(s, lookup));
  return result;
}

type Failure = { ok: false; path: string; message: string };

/** The entry's value, undefined when an optional reference is missing, or a failure. */
function entryValue(entry: EnvVar, path: string, input: ContainerEnvInput, lookup: (name: string) => string | undefined): string | undefined | Failure {
  const from = entry.valueFrom;
  if (from === undefined) return expandReferences(entry.value ?? '', lookup);
  const fromPath = `${path}.valueFrom`;
  if (entry.value !== undefined) return { ok: false, path, message: 'value and valueFrom are mutually exclusive' };
  const sources = Object.keys(from).filter((k) => (from as Record<string, unknown>)[k] !== undefined);
  if (sources.length !== 1) return { ok: false, path: fromPath, message: `must set exactly one source, got ${sources.length === 0 ? 'none' : sources.join(', ')}` };
  if (from.secretKeyRef) return keyValue('secret', from.secretKeyRef, `${fromPath}.secretKeyRef`, input);
  if (from.configMapKeyRef) return keyValue('configMap', from.configMapKeyRef, `${fromPath}.configMapKeyRef`, input);
  if (from.fieldRef) {
    const field = from.fieldRef.fieldPath;
    if (field === 'metadata.name') return input.definition.metadata.name;
    if (field === 'metadata.namespace') return input.definition.metadata.namespace;
    return { ok: false, path: `${fromPath}.fieldRef.fieldPath`, message: `${JSON.stringify(field)} is not supported locally (use metadata.name or metadata.namespace)` };
  }
  return { ok: false, path: `${fromPath}.${sources[0]!}`, message: 'is not supported locally (use value, secretKeyRef, configMapKeyRef or fieldRef)' };
}

function keyValue(
  kind: KeyRef['kind'],
  ref: { name: string; key: string; optional?: boolean },
  path: string,
  input: ContainerEnvInput,
): string | undefined | Failure {
  const label = kind === 'secret' ? 'secret' : 'configmap';
  if (typeof ref.name !== 'string' || typeof ref.key !== 'string') return { ok: false, path, message: 'name and key are required strings' };
  const keyRef: KeyRef = { kind, namespace: input.definition.metadata.namespace, name: ref.name, key: ref.key };
  let value: string | undefined;
  try {
    value = input.keys.read(keyRef);
  } catch (err) {
    return { ok: false, path, message: `${label} "${ref.name}" key "${ref.key}": ${(err as Error).message}` };
  }
  if (value !== undefined || ref.optional === true) return value;
  return { ok: false, path, message: `${label} "${ref.name}" key "${ref.key}" not found ${input.keys.where(keyRef)}` };
}

/**
 * Kuberhealthy checks to HealthDefinitions (`vigil import-khcheck`). Pure: documents in,
 * definitions and per-object problems out.
 *
 * Accepted kinds (peers.md §2.1, §2.2):
 * - v2 `KuberhealthyCheck`, `comcast.github.io/v1`: `spec.podSpec` is a core/v1 PodSpec;
 * - v3 `HealthCheck`, `kuberhealthy.github.io/v2`: `spec.podSpec` is `{metadata, spec: PodSpec}`.
 *
 * Mapping: `runInterval` → `spec.schedule` (see duration.ts for the rule), `timeout` →
 * `spec.timeoutSeconds` (rounded up to whole seconds), the pod's init containers and then
 * its containers → `spec.workflow.spec.containers` (run in order, as Kratix pipelines do),
 * `serviceAccountName` → `workflow.spec.rbac.serviceAccount`, volumes, node selector,
 * tolerations and image pull secrets → the pipeline's fields. Pod fields a pipeline has no
 * place for are dropped with a warning naming them. Missing intervals and timeouts take
 * Kuberhealthy's own defaults (10m; v2 5m, v3 30s), so the imported check behaves as before.
 */
import { API_VERSION, HEALTH_DEFINITION_KIND, type HealthDefinition } from '../core/model.js';
import type { DefinitionValidator } from '../core/definition.js';
import { formatIssue } from '../core/issues.js';
import { isMapping } from '../core/pipeline.js';
import { describeValue } from '../core/schema.js';
import { ANNOTATION_KH_CHECK } from '../reporting/protocol.js';
import { intervalToCron, parseGoDuration } from './duration.js';

export const KH_V2_API_VERSION = 'comcast.github.io/v1';
export const KH_V2_KIND = 'KuberhealthyCheck';
export const KH_V3_API_VERSION = 'kuberhealthy.github.io/v2';
export const KH_V3_KIND = 'HealthCheck';

/** Annotations written on every imported definition. */
export const IMPORTED_FROM_ANNOTATION = 'health.vigil.dev/imported-from';
/** Tells the agent the checks report the Kuberhealthy way (no report by the deadline: unknown, NoReport). */
export const KH_STYLE_ANNOTATION = ANNOTATION_KH_CHECK;

const DEFAULT_RUN_INTERVAL = '10m';
const DEFAULT_TIMEOUT = { v2: '5m', v3: '30s' } as const;
const MAX_TIMEOUT_SECONDS = 86_400;

/** Container fields carried over as they are. */
const CONTAINER_FIELDS = [
  'name',
  'image',
  'command',
  'args',
  'env',
  'envFrom',
  'resources',
  'securityContext',
  'imagePullPolicy',
  'workingDir',
  'volumeMounts',
] as const;
/** Pod fields with a place in a Kratix pipeline (handled explicitly). */
const POD_FIELDS_MAPPED = new Set([
  'containers',
  'initContainers',
  'serviceAccountName',
  'serviceAccount',
  'volumes',
  'nodeSelector',
  'tolerations',
  'imagePullSecrets',
]);
/** Pod fields that only describe the pod Kuberhealthy itself would create: dropped silently. */
const POD_FIELDS_IRRELEVANT = new Set(['restartPolicy']);

export interface ImportOptions {
  validator: DefinitionValidator;
  /** `spec.promiseRef.name` of every definition (a Kuberhealthy check belongs to no promise). */
  promise: string;
  /** Namespace of checks that set none. */
  defaultNamespace: string;
}

export interface ImportedDefinition {
  /** `namespace/name`. */
  object: string;
  /** `v2 KuberhealthyCheck` or `v3 HealthCheck`. */
  source: string;
  definition: HealthDefinition;
  warnings: string[];
}

export interface ImportProblem {
  object: string;
  errors: string[];
}

export interface ImportResult {
  imported: ImportedDefinition[];
  problems: ImportProblem[];
  /** Documents that are not Kuberhealthy checks, by location and kind. */
  skipped: { location: string; kind: string }[];
}

/** Converts every Kuberhealthy check among `docs` (each `{value, location}`); never throws. */
export function importKhChecks(docs: readonly { value: unknown; location: string }[], options: ImportOptions): ImportResult {
  const out: ImportResult = { imported: [], problems: [], skipped: [] };
  for (const { value, location } of docs) {
    const items = isMapping(value) && Array.isArray(value.items) && typeof value.kind === 'string' && value.kind.endsWith('List') ? value.items : [value];
    items.forEach((item: unknown, i) => {
      const where = items.length > 1 || items[0] !== value ? `${location} items[${i}]` : location;
      const version = khVersion(item);
      if (!version) {
        if (item !== null && item !== undefined) {
          out.skipped.push({ location: where, kind: isMapping(item) && typeof item.kind === 'string' ? item.kind : '(no kind)' });
        }
        return;
      }
      const r = convertOne(item as Record<string, unknown>, version, options, where);
      if ('definition' in r) out.imported.push(r);
      else out.problems.push(r);
    });
  }
  return out;
}

/** `v2`, `v3` or undefined (not a check). `KuberhealthyJob` is recognised so it can be refused by name. */
function khVersion(doc: unknown): 'v2' | 'v3' | 'job' | undefined {
  if (!isMapping(doc) || typeof doc.apiVersion !== 'string') return undefined;
  const group = doc.apiVersion.split('/')[0];
  if (group === 'comcast.github.io' && doc.kind === 'KuberhealthyJob') return 'job';
  if (group === 'comcast.github.io' && doc.kind === KH_V2_KIND) return 'v2';
  if (group === 'kuberhealthy.github.io' && (doc.kind === KH_V3_KIND || doc.kind === KH_V2_KIND)) return 'v3';
  return undefined;
}

function convertOne(
  doc: Record<string, unknown>,
  version: 'v2' | 'v3' | 'job',
  options: ImportOptions,
  location: string,
): ImportedDefinition | ImportProblem {
  const errors: string[] = [];
  const warnings: string[] = [];
  const meta = isMapping(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : undefined;
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : options.defaultNamespace;
  const object = name ? `${namespace}/${name}` : `${location} (${String(doc.kind)})`;
  if (!name) errors.push('metadata.name: required field is missing');
  if (version === 'job') {
    return { object, errors: ['KuberhealthyJob is a one-off run with no schedule; run it with `vigil run` instead of importing it'] };
  }
  const source = version === 'v2' ? `v2 ${KH_V2_KIND}` : `v3 ${String(doc.kind)}`;
  const spec = isMapping(doc.spec) ? doc.spec : undefined;
  if (!spec) return { object, errors: [...errors, `spec: must be a mapping, got ${describeValue(doc.spec)}`] };

  if (spec.singleRunOnly === true) {
    errors.push('spec.singleRunOnly: a run-once check has no schedule; run it with `vigil run` instead of importing it');
  }

  // runInterval -> schedule
  let schedule: string | undefined;
  const interval = spec.runInterval ?? DEFAULT_RUN_INTERVAL;
  if (spec.runInterval === undefined) warnings.push(`spec.runInterval: not set; Kuberhealthy's default ${DEFAULT_RUN_INTERVAL} is used`);
  if (typeof interval !== 'string') errors.push(`spec.runInterval: must be a Go duration string, got ${describeValue(interval)}`);
  else {
    try {
      schedule = intervalToCron(parseGoDuration(interval));
    } catch (err) {
      errors.push(`spec.runInterval: ${JSON.stringify(interval)}: ${(err as Error).message}`);
    }
  }

  // timeout -> timeoutSeconds
  let timeoutSeconds: number | undefined;
  const timeout = spec.timeout ?? DEFAULT_TIMEOUT[version];
  if (spec.timeout === undefined) warnings.push(`spec.timeout: not set; Kuberhealthy ${version}'s default ${DEFAULT_TIMEOUT[version]} is used`);
  if (typeof timeout !== 'string') errors.push(`spec.timeout: must be a Go duration string, got ${describeValue(timeout)}`);
  else {
    try {
      const ms = parseGoDuration(timeout);
      const s = Math.ceil(ms / 1000);
      if (s < 1) throw new Error('must be at least 1s');
      if (s > MAX_TIMEOUT_SECONDS) throw new Error(`is longer than vigil's limit of ${MAX_TIMEOUT_SECONDS}s (24h)`);
      if (s * 1000 !== ms) warnings.push(`spec.timeout: ${timeout} rounded up to ${s}s`);
      timeoutSeconds = s;
    } catch (err) {
      errors.push(`spec.timeout: ${JSON.stringify(timeout)}: ${(err as Error).message}`);
    }
  }

  // podSpec
  let podSpec: Record<string, unknown> | undefined;
  let podMeta: Record<string, unknown> = {};
  const podPath = version === 'v2' ? 'spec.podSpec' : 'spec.podSpec.spec';
  if (!isMapping(spec.podSpec)) errors.push(`spec.podSpec: must be a mapping, got ${describeValue(spec.podSpec)}`);
  else if (version === 'v3' && isMapping(spec.podSpec.spec)) {
    podSpec = spec.podSpec.spec;
    podMeta = isMapping(spec.podSpec.metadata) ? spec.podSpec.metadata : {};
  } else if (version === 'v3' && Array.isArray(spec.podSpec.containers)) {
    // Some v3 manifests in the wild kept the v2 shape; accept it.
    podSpec = spec.podSpec;
    warnings.push('spec.podSpec: has the v2 shape (containers directly under podSpec); read as such');
  } else if (version === 'v3') errors.push(`spec.podSpec.spec: must be a mapping (a PodSpec), got ${describeValue(spec.podSpec.spec)}`);
  else podSpec = spec.podSpec;

  const containers: Record<string, unknown>[] = [];
  const pipelineSpec: Record<string, unknown> = {};
  if (podSpec) {
    const init = podSpec.initContainers;
    const main = podSpec.containers;
    if (!Array.isArray(main) || main.length === 0) {
      errors.push(`${podPath}.containers: must be a non-empty list, got ${Array.isArray(main) ? 'an empty list' : describeValue(main)}`);
    }
    if (init !== undefined && !Array.isArray(init)) errors.push(`${podPath}.initContainers: must be a list, got ${describeValue(init)}`);
    const all = [
      ...(Array.isArray(init) ? (init as unknown[]).map((c, i) => ({ c, path: `${podPath}.initContainers[${i}]` })) : []),
      ...(Array.isArray(main) ? (main as unknown[]).map((c, i) => ({ c, path: `${podPath}.containers[${i}]` })) : []),
    ];
    for (const { c, path } of all) {
      if (!isMapping(c)) {
        errors.push(`${path}: must be a mapping, got ${describeValue(c)}`);
        continue;
      }
      const out: Record<string, unknown> = {};
      for (const f of CONTAINER_FIELDS) if (c[f] !== undefined) out[f] = structuredClone<unknown>(c[f]);
      const dropped = Object.keys(c).filter((k) => !(CONTAINER_FIELDS as readonly string[]).includes(k));
      if (dropped.length > 0) warnings.push(`${path}: dropped ${dropped.join(', ')} (no equivalent in a check container)`);
      containers.push(out);
    }
    if (Array.isArray(main) && main.length > 1) {
      warnings.push(`${podPath}.containers: ${main.length} containers ran side by side in one pod; vigil runs them one after the other`);
    }
    const sa = podSpec.serviceAccountName ?? podSpec.serviceAccount;
    if (typeof sa === 'string' && sa !== '') pipelineSpec.rbac = { serviceAccount: sa };
    for (const f of ['volumes', 'nodeSelector', 'tolerations', 'imagePullSecrets'] as const) {
      if (podSpec[f] !== undefined) pipelineSpec[f] = structuredClone<unknown>(podSpec[f]);
    }
    const droppedPod = Object.keys(podSpec).filter((k) => !POD_FIELDS_MAPPED.has(k) && !POD_FIELDS_IRRELEVANT.has(k));
    if (droppedPod.length > 0) warnings.push(`${podPath}: dropped ${droppedPod.join(', ')} (a check pipeline has no such field)`);
  }

  if (errors.length > 0 || !name) return { object, errors };

  const workflowLabels = { ...stringMap(podMeta.labels), ...stringMap(spec.extraLabels) };
  const workflowAnnotations = { ...stringMap(podMeta.annotations), ...stringMap(spec.extraAnnotations) };
  const workflowMeta: Record<string, unknown> = { name: 'healthcheck' };
  if (Object.keys(workflowLabels).length > 0) workflowMeta.labels = workflowLabels;
  if (Object.keys(workflowAnnotations).length > 0) workflowMeta.annotations = workflowAnnotations;

  const labels = stringMap(meta.labels);
  const raw = {
    apiVersion: API_VERSION,
    kind: HEALTH_DEFINITION_KIND,
    metadata: {
      name,
      namespace,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      annotations: {
        ...stringMap(meta.annotations),
        [IMPORTED_FROM_ANNOTATION]: `${String(doc.apiVersion)}/${String(doc.kind)}`,
        [KH_STYLE_ANNOTATION]: 'true',
      },
    },
    spec: {
      promiseRef: { name: options.promise },
      schedule,
      timeoutSeconds,
      workflow: {
        apiVersion: API_VERSION,
        kind: 'Pipeline',
        metadata: workflowMeta,
        spec: { containers, ...pipelineSpec },
      },
    },
  };
  const check = options.validator.check(raw, { defaultNamespace: options.defaultNamespace });
  const invalid = check.issues.filter((i) => i.severity === 'error');
  if (!check.definition || invalid.length > 0) {
    return { object, errors: invalid.map((i) => `converted definition is invalid: ${formatIssue(object, i)}`) };
  }
  for (const w of check.issues) warnings.push(w.path ? `${w.path}: ${w.message}` : w.message);
  return { object, source, definition: check.definition, warnings };
}

function stringMap(value: unknown): Record<string, string> {
  if (!isMapping(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

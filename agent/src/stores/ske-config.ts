/**
 * Store settings from the objects a Kratix / SKE installation already has, so vigil writes to
 * the same store with the same Secret:
 *
 * - a Kratix `GitStateStore` or `BucketStateStore` (platform.kratix.io/v1alpha1), whose
 *   `spec` fields map one to one (`url`, `branch`, `path`, `authMethod`, `gitAuthor`;
 *   `endpoint`, `bucketName`, `path`, `insecure`, `authMethod`) and whose
 *   `spec.secretRef{name,namespace}` names the Secret;
 * - SKE's `health-state-store-config` ConfigMap (`data.stateStoreKind` GitStateStore or
 *   BucketStateStore, the same fields as strings, and `data.secretName`, a Secret in the
 *   ConfigMap's namespace), or just its `data` mapping.
 *
 * Pure: takes the file's text, returns vigil `store.*` settings (names as in vigil.yaml)
 * plus the Secret reference; the caller decides where that Secret's keys are mounted.
 */
import { isAbsolute, join } from 'node:path';
import { isMapping } from '../core/pipeline.js';
import { parseYamlDocument } from '../core/yaml.js';

export interface KratixStoreSettings {
  /** vigil `store.*` settings. */
  settings: Record<string, unknown>;
  /** The Secret holding the credentials, when the object names one. */
  secretRef?: { name: string; namespace?: string };
  /** What the object was, for messages: `GitStateStore default`, `ConfigMap k8s-health-agent-system/health-state-store-config`. */
  origin: string;
  /** Fields vigil reads but does not act on. */
  warnings: string[];
}

const KRATIX_GROUP = 'platform.kratix.io/';

/** Parses a Kratix store manifest or an SKE ConfigMap; errors name `store.kratixStateStore` and the field. */
export function kratixStoreSettings(text: string, file: string): KratixStoreSettings {
  const fail = (field: string, why: string): Error => new Error(`store.kratixStateStore: ${file}${field ? `: ${field}` : ''}: ${why}`);
  let doc: unknown;
  try {
    doc = parseYamlDocument(text, { maxBytes: 1024 * 1024 });
  } catch (err) {
    throw fail('', (err as Error).message);
  }
  if (!isMapping(doc)) throw fail('', 'must be a GitStateStore, a BucketStateStore, or the health-state-store-config ConfigMap');
  const kind = doc.kind;
  const metadata = isMapping(doc.metadata) ? doc.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;

  if ((kind === 'GitStateStore' || kind === 'BucketStateStore') && typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith(KRATIX_GROUP)) {
    if (!isMapping(doc.spec)) throw fail('spec', 'must be a mapping');
    return fromKratixSpec(kind, doc.spec, `${kind} ${name}`.trim(), fail);
  }
  if (kind === 'ConfigMap') {
    if (!isMapping(doc.data)) throw fail('data', 'must be a mapping');
    return fromSkeConfigMap(doc.data, namespace, `ConfigMap ${namespace ? `${namespace}/` : ''}${name}`, fail, 'data.');
  }
  if (kind === undefined && 'stateStoreKind' in doc) return fromSkeConfigMap(doc, undefined, 'health-state-store-config data', fail, '');
  throw fail('kind', `${JSON.stringify(kind)} is not GitStateStore or BucketStateStore (${KRATIX_GROUP}v1alpha1), nor a ConfigMap with data.stateStoreKind`);
}

type Fail = (field: string, why: string) => Error;

function str(value: unknown, field: string, fail: Fail): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw fail(field, `must be a string, not ${typeof value}`);
  return value;
}

/** A boolean, or the strings "true"/"false" (ConfigMap values are strings). */
function bool(value: unknown, field: string, fail: Fail): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw fail(field, `must be true or false, not ${JSON.stringify(value)}`);
}

function fromKratixSpec(kind: 'GitStateStore' | 'BucketStateStore', spec: Record<string, unknown>, origin: string, fail: Fail): KratixStoreSettings {
  const warnings: string[] = [];
  const settings: Record<string, unknown> = {};
  let secretRef: KratixStoreSettings['secretRef'];
  if (spec.secretRef !== undefined && spec.secretRef !== null) {
    if (!isMapping(spec.secretRef)) throw fail('spec.secretRef', 'must be a mapping with name and namespace');
    const refName = str(spec.secretRef.name, 'spec.secretRef.name', fail);
    if (refName === undefined) throw fail('spec.secretRef.name', 'is required');
    const refNamespace = str(spec.secretRef.namespace, 'spec.secretRef.namespace', fail);
    secretRef = { name: refName, ...(refNamespace ? { namespace: refNamespace } : {}) };
  }
  const path = str(spec.path, 'spec.path', fail);
  if (path !== undefined) settings.path = path;
  if (kind === 'GitStateStore') {
    settings.kind = 'git';
    const url = str(spec.url, 'spec.url', fail);
    if (url === undefined) throw fail('spec.url', 'is required');
    settings.url = url;
    const branch = str(spec.branch, 'spec.branch', fail);
    if (branch !== undefined) settings.branch = branch;
    const authMethod = str(spec.authMethod, 'spec.authMethod', fail) ?? 'basicAuth';
    if (authMethod !== 'basicAuth' && authMethod !== 'ssh') {
      throw fail('spec.authMethod', `${JSON.stringify(authMethod)} is not supported by vigil (basicAuth or ssh)${authMethod === 'githubApp' ? '; use a GitHub token with basicAuth' : ''}`);
    }
    // Kratix defaults to basicAuth; without a Secret there is nothing to authenticate with.
    if (secretRef) settings.authMethod = authMethod;
    if (isMapping(spec.gitAuthor)) {
      settings.gitAuthor = {
        name: str(spec.gitAuthor.name, 'spec.gitAuthor.name', fail) ?? 'kratix',
        email: str(spec.gitAuthor.email, 'spec.gitAuthor.email', fail) ?? 'vigil@localhost',
      };
    }
  } else {
    settings.kind = 'bucket';
    const endpoint = str(spec.endpoint, 'spec.endpoint', fail);
    if (endpoint === undefined) throw fail('spec.endpoint', 'is required');
    const bucketName = str(spec.bucketName, 'spec.bucketName', fail);
    if (bucketName === undefined) throw fail('spec.bucketName', 'is required');
    settings.endpoint = endpoint;
    settings.bucketName = bucketName;
    const insecure = bool(spec.insecure, 'spec.insecure', fail);
    if (insecure !== undefined) settings.insecure = insecure;
    const authMethod = str(spec.authMethod, 'spec.authMethod', fail) ?? 'accessKey';
    if (authMethod !== 'accessKey' && authMethod !== 'IAM') throw fail('spec.authMethod', `${JSON.stringify(authMethod)} is not accessKey or IAM`);
    settings.authMethod = authMethod;
    if (bool(spec.useDualStack, 'spec.useDualStack', fail) === true) warnings.push(`${origin}: spec.useDualStack is ignored: vigil uses spec.endpoint exactly as given (give a dual-stack endpoint there)`);
  }
  return { settings, ...(secretRef ? { secretRef } : {}), origin, warnings };
}

function fromSkeConfigMap(data: Record<string, unknown>, namespace: string | undefined, origin: string, fail: Fail, at: string): KratixStoreSettings {
  const kind = str(data.stateStoreKind, `${at}stateStoreKind`, fail);
  if (kind !== 'GitStateStore' && kind !== 'BucketStateStore') throw fail(`${at}stateStoreKind`, `${JSON.stringify(kind)} is not GitStateStore or BucketStateStore`);
  const spec: Record<string, unknown> = {};
  const keys = kind === 'GitStateStore' ? ['url', 'branch', 'path', 'authMethod'] : ['endpoint', 'bucketName', 'path', 'insecure', 'authMethod', 'useDualStack'];
  for (const key of keys) if (data[key] !== undefined) spec[key] = data[key];
  const secretName = str(data.secretName, `${at}secretName`, fail);
  if (secretName) spec.secretRef = { name: secretName, ...(namespace ? { namespace } : {}) };
  // The fields have the Kratix names; report errors at their ConfigMap location.
  const remap: Fail = (field, why) => fail(field.replace(/^spec\.secretRef\.name$/, `${at}secretName`).replace(/^spec\./, at), why);
  const known = new Set([...keys, 'stateStoreKind', 'secretName']);
  const result = fromKratixSpec(kind, spec, origin, remap);
  for (const key of Object.keys(data)) if (!known.has(key)) result.warnings.push(`${origin}: ${at}${key} is not a health-state-store-config key; ignored`);
  return result;
}

/**
 * Fills a raw `store` config section from its `kratixStateStore` file (relative to `base`):
 * settings already in the section win. The Secret the object names is looked up as
 * `<runtime.secretsDir>/<namespace>/<name>` when `store.secretDir` is not set (the layout
 * of runtime.secretsDir). Returns warnings; throws errors naming the setting.
 */
export function applyKratixStateStore(store: Record<string, unknown>, options: { base: string; runtimeSecretsDir?: string; read: (path: string) => string }): string[] {
  const file = store.kratixStateStore;
  if (typeof file !== 'string' || file === '') return [];
  const path = resolvePath(options.base, file);
  let text: string;
  try {
    text = options.read(path);
  } catch (err) {
    throw new Error(`store.kratixStateStore: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const found = kratixStoreSettings(text, path);
  if (store.kind !== undefined && store.kind !== found.settings.kind) {
    throw new Error(`store.kind: ${JSON.stringify(store.kind)} contradicts store.kratixStateStore (${found.origin} is a ${String(found.settings.kind)} store); remove one`);
  }
  for (const [key, value] of Object.entries(found.settings)) if (store[key] === undefined) store[key] = value;
  if (found.secretRef && store.secretDir === undefined && store.authMethod !== 'IAM') {
    const namespace = found.secretRef.namespace ?? 'default';
    if (options.runtimeSecretsDir === undefined) {
      throw new Error(`store.secretDir: ${found.origin} uses Secret ${namespace}/${found.secretRef.name}: mount it and set store.secretDir to its directory (or set runtime.secretsDir to a directory holding <namespace>/<name>/<key> files)`);
    }
    store.secretDir = resolvePath(resolvePath(options.base, options.runtimeSecretsDir), `${namespace}/${found.secretRef.name}`);
  }
  return found.warnings;
}

function resolvePath(base: string, path: string): string {
  return isAbsolute(path) ? path : join(base, path);
}

/**
 * The VMI check's configuration: Krkn's `kubevirt_checks` fields (peers.md §4.3), extended
 * with SSH settings, per-probe timeouts and the last-known-IP cache. Parsing collects every
 * problem with its field path and throws one CheckConfigError; no message repeats a value
 * that may be secret (the private key).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
// ssh2 is CommonJS: Node's ESM loader does not see `utils` as a named export (vitest does), so read it from the default export.
import ssh2 from 'ssh2';
import { CheckConfigError, describeType, isPlainObject, loadCheckConfig, type ConfigIssue } from '../../sdk/src/index.js';

/** The config key, in the input object or its `spec` (as in Krkn). */
export const VMI_CHECK_KEY = 'kubevirt_checks';
/** Environment variable holding the SSH private key itself (e.g. from a Secret through `valueFrom`). */
export const SSH_PRIVATE_KEY_ENV = 'VMI_CHECK_SSH_PRIVATE_KEY';
/** Environment variable holding the passphrase of the private key, if it has one. */
export const SSH_PASSPHRASE_ENV = 'VMI_CHECK_SSH_PASSPHRASE';
/** Environment variable naming the last-known-IP cache file (the `cache_file` field wins). */
export const CACHE_FILE_ENV = 'VMI_CHECK_CACHE_FILE';

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = 'root';
export const DEFAULT_TIMEOUT_SECONDS = 5;
export const DEFAULT_API_TIMEOUT_SECONDS = 10;
export const DEFAULT_BATCH_SIZE = 20;
export const MAX_TIMEOUT_SECONDS = 600;
const MAX_KEY_BYTES = 64 * 1024;

const FIELDS = [
  'namespace',
  'name',
  'label_selector',
  'node_name',
  'node_names',
  'ssh_port',
  'ssh_user',
  'ssh_private_key',
  'timeout',
  'api_timeout',
  'batch_size',
  'only_failures',
  'disconnected_mode',
  'disconnected',
  'cache_file',
  // Krkn fields accepted and ignored: vigil's schedule replaces the loop, its states replace the exit code.
  'interval',
  'exit_on_failure',
  'ssh_node',
];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface VmiCheckConfig {
  namespace: string;
  /** Full-match regular expression on the VMI name (default: every name). */
  namePattern?: RegExp;
  labelSelector?: string;
  /** Only VMIs scheduled on one of these nodes (`status.nodeName`); empty = any node. */
  nodeNames: string[];
  sshPort: number;
  sshUser: string;
  /** The private key text; absent = no key (an authentication refusal counts as reachable). */
  privateKey?: string;
  passphrase?: string;
  /** Per SSH probe, from connect to the server's answer. */
  timeoutMs: number;
  /** Per Kubernetes API call. */
  apiTimeoutMs: number;
  /** Probes at once; 0 = unlimited. */
  batchSize: number;
  onlyFailures: boolean;
  disconnectedMode: boolean;
  /** Where the last known IPs are kept between runs (disconnected mode). */
  cacheFile: string;
}

export interface ParseOptions {
  /** Reads `ssh_private_key` when it is a path (default: fs.readFileSync). */
  readKeyFile?: (path: string) => string;
  env?: NodeJS.ProcessEnv;
}

/** Validates a `kubevirt_checks` mapping. `path` prefixes field paths in errors. */
export function parseVmiCheckConfig(raw: unknown, path = VMI_CHECK_KEY, opts: ParseOptions = {}): VmiCheckConfig {
  const env = opts.env ?? process.env;
  const issues: ConfigIssue[] = [];
  if (!isPlainObject(raw)) {
    throw new CheckConfigError([{ path, message: `must be a mapping with at least a namespace, found ${describeType(raw)}` }]);
  }
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) issues.push({ path: `${path}.${key}`, message: 'is not a known field' });
  }
  const namespace = raw.namespace;
  if (namespace === undefined || namespace === '') issues.push({ path: `${path}.namespace`, message: 'is required' });
  else if (typeof namespace !== 'string' || !DNS1123_LABEL.test(namespace) || namespace.length > 63) {
    issues.push({ path: `${path}.namespace`, message: 'must be a namespace name (lower-case letters, digits and -)' });
  }
  const namePattern = readPattern(raw.name, `${path}.name`, issues);
  const labelSelector = readString(raw.label_selector, `${path}.label_selector`, issues);
  const nodeNames = [
    ...readNames(raw.node_name, `${path}.node_name`, issues),
    ...readNames(raw.node_names, `${path}.node_names`, issues),
  ];
  const sshPort = readInt(raw.ssh_port, `${path}.ssh_port`, 1, 65535, issues) ?? DEFAULT_SSH_PORT;
  const sshUser = readString(raw.ssh_user, `${path}.ssh_user`, issues) ?? DEFAULT_SSH_USER;
  const timeout = readSeconds(raw.timeout, `${path}.timeout`, issues) ?? DEFAULT_TIMEOUT_SECONDS;
  const apiTimeout = readSeconds(raw.api_timeout, `${path}.api_timeout`, issues) ?? DEFAULT_API_TIMEOUT_SECONDS;
  const batchSize = readInt(raw.batch_size, `${path}.batch_size`, 0, 10_000, issues) ?? DEFAULT_BATCH_SIZE;
  const onlyFailures = readBool(raw.only_failures, `${path}.only_failures`, issues) ?? false;
  const disconnected = readBool(raw.disconnected_mode, `${path}.disconnected_mode`, issues);
  const disconnectedAlias = readBool(raw.disconnected, `${path}.disconnected`, issues);
  readBool(raw.exit_on_failure, `${path}.exit_on_failure`, issues);
  if (raw.ssh_node !== undefined && raw.ssh_node !== '' && raw.ssh_node !== null) {
    issues.push({ path: `${path}.ssh_node`, message: 'is not supported: vigil probes VMI IPs directly, run the check where they are routable' });
  }
  const cacheFile = readString(raw.cache_file, `${path}.cache_file`, issues);

  let privateKey: string | undefined;
  const keyField = raw.ssh_private_key;
  if (keyField !== undefined && keyField !== null && keyField !== '') {
    if (typeof keyField !== 'string') issues.push({ path: `${path}.ssh_private_key`, message: `must be a path or the key itself, found ${describeType(keyField)}` });
    else privateKey = readKey(keyField, `${path}.ssh_private_key`, opts.readKeyFile, issues);
  } else if (env[SSH_PRIVATE_KEY_ENV]) {
    privateKey = readKey(env[SSH_PRIVATE_KEY_ENV], SSH_PRIVATE_KEY_ENV, opts.readKeyFile, issues);
  }
  const passphrase = env[SSH_PASSPHRASE_ENV];
  if (privateKey !== undefined) {
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    if (parsed instanceof Error) {
      const field = keyField ? `${path}.ssh_private_key` : SSH_PRIVATE_KEY_ENV;
      issues.push({ path: field, message: `is not a usable private key (${parsed.message.split('\n', 1)[0] ?? ''})` });
    }
  }
  if (issues.length > 0) throw new CheckConfigError(issues);

  const config: VmiCheckConfig = {
    namespace: namespace as string,
    ...(namePattern ? { namePattern } : {}),
    ...(labelSelector ? { labelSelector } : {}),
    nodeNames,
    sshPort,
    sshUser,
    ...(privateKey !== undefined ? { privateKey } : {}),
    ...(passphrase ? { passphrase } : {}),
    timeoutMs: Math.round(timeout * 1000),
    apiTimeoutMs: Math.round(apiTimeout * 1000),
    batchSize,
    onlyFailures,
    disconnectedMode: disconnected ?? disconnectedAlias ?? false,
    cacheFile: '',
  };
  config.cacheFile = cacheFile ?? (env[CACHE_FILE_ENV] || defaultCacheFile(config));
  return config;
}

/**
 * The default cache file: `~/.cache/vigil/vmi-<hash of namespace and filters>.json`, so two
 * definitions watching different VMIs never share a file. In a pod, mount a volume and set
 * `cache_file`: a pod's home directory does not outlive the run.
 */
export function defaultCacheFile(config: Pick<VmiCheckConfig, 'namespace' | 'namePattern' | 'labelSelector' | 'nodeNames'>): string {
  const identity = [config.namespace, config.namePattern?.source ?? '', config.labelSelector ?? '', config.nodeNames.join(',')].join('\0');
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(homedir(), '.cache', 'vigil', `vmi-${config.namespace}-${hash}.json`);
}

/**
 * The configuration of one run: VIGIL_CHECK_CONFIG, `kubevirt_checks` in the input object,
 * or `spec.kubevirt_checks` in it. Throws when there is none or it is invalid.
 */
export async function loadVmiCheckConfig(): Promise<VmiCheckConfig> {
  const raw = await loadCheckConfig(VMI_CHECK_KEY);
  if (raw === undefined) {
    throw new Error(`no VMI check configuration: set ${VMI_CHECK_KEY} in the HealthDefinition's input (or its spec), or the VIGIL_CHECK_CONFIG environment variable`);
  }
  return parseVmiCheckConfig(raw);
}

function readKey(value: string, path: string, readKeyFile: ((p: string) => string) | undefined, issues: ConfigIssue[]): string | undefined {
  if (value.includes('-----BEGIN')) return value;
  if (value.includes('\n')) {
    issues.push({ path, message: 'is neither a path nor a PEM/OpenSSH private key' });
    return undefined;
  }
  try {
    const text = (readKeyFile ?? defaultReadKeyFile)(value);
    if (Buffer.byteLength(text) > MAX_KEY_BYTES) throw new Error(`larger than ${MAX_KEY_BYTES} bytes`);
    if (!text.includes('-----BEGIN')) throw new Error('does not hold a PEM/OpenSSH private key');
    return text;
  } catch (err) {
    issues.push({ path, message: `cannot read the key file: ${(err as Error).message.replace(value, '<path>')}` });
    return undefined;
  }
}

/** A sync read keeps parsing synchronous; a key is tiny. */
function defaultReadKeyFile(path: string): string {
  return readFileSync(path, 'utf8');
}

function readString(value: unknown, path: string, issues: ConfigIssue[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    issues.push({ path, message: `must be a string, found ${describeType(value)}` });
    return undefined;
  }
  return value;
}

function readPattern(value: unknown, path: string, issues: ConfigIssue[]): RegExp | undefined {
  const text = readString(value, path, issues);
  if (text === undefined || text === '.*') return undefined;
  try {
    return new RegExp(`^(?:${text})$`);
  } catch {
    issues.push({ path, message: 'must be a valid regular expression' });
    return undefined;
  }
}

function readNames(value: unknown, path: string, issues: ConfigIssue[]): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!list || !list.every((v) => typeof v === 'string')) {
    issues.push({ path, message: 'must be a node name, a comma-separated list or a list of names' });
    return [];
  }
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

function readInt(value: unknown, path: string, min: number, max: number, issues: ConfigIssue[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    issues.push({ path, message: `must be an integer from ${min} to ${max}` });
    return undefined;
  }
  return n;
}

function readSeconds(value: unknown, path: string, issues: ConfigIssue[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS) {
    issues.push({ path, message: `must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}` });
    return undefined;
  }
  return value;
}

function readBool(value: unknown, path: string, issues: ConfigIssue[]): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    issues.push({ path, message: `must be true or false, found ${describeType(value)}` });
    return undefined;
  }
  return value;
}

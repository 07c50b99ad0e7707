/**
 * The agent configuration: one place for the config file, environment variables, CLI
 * overrides and defaults. Relative paths in a config file are relative to that file.
 */
import { readFileSync } from 'node:fs';
import { hostname, availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { SchemaValidator } from '../core/schema.js';
import { parseYamlDocument } from '../core/yaml.js';
import { formatIssue, hasErrors, type Issue } from '../core/issues.js';
import { boundedName, dns1123LabelProblem } from '../core/naming.js';
import { isValidTimeZone } from '../core/schedule/index.js';
import { CONFIG_SCHEMA } from './schema.js';
import { defaultKubernetesRuntime, kubernetesConfigProblems, type KubernetesRuntimeConfig } from '../kubernetes/config.js';
import { applyKratixStateStore } from '../stores/ske-config.js';

export interface ImageMappingConfig {
  image: string;
  command: string[];
  args?: string[];
}

export interface AgentConfig {
  destination: string;
  /** The agent's own state: `<dataDir>/outbox` holds records not yet delivered. */
  dataDir: string;
  definitions: {
    kind: 'directory' | 'kubernetes';
    paths: string[];
    namespace: string;
    watch: boolean;
    rescanIntervalSeconds: number;
    /** kubernetes: namespaces watched (absent: all), kubeconfig file (absolute) and context. */
    namespaces?: string[];
    kubeconfig?: string;
    context?: string;
  };
  runtime: {
    kind: 'local' | 'kubernetes';
    /** runtime.kind kubernetes: the controller's settings. */
    kubernetes: KubernetesRuntimeConfig;
    defaultTimeoutSeconds: number;
    workDir?: string;
    keepRunDirs: 'never' | 'failed' | 'always';
    maxCaptureBytes: number;
    maxOutputBytes: number;
    passEnv: string[];
    /** Run containers whose image a plugin serves in-process. */
    inProcessPlugins: boolean;
    /** User plugin directories (absolute), after the built-in plugins. */
    pluginDirs: string[];
    secretsDir?: string;
    configMapsDir?: string;
    images: ImageMappingConfig[];
    containerEngine: { command: string; globalArgs: string[]; runArgs: string[] };
  };
  store: {
    kind: 'fs' | 'git' | 'bucket' | 'kubernetes';
    root: string;
    fsync: boolean;
    url?: string;
    branch: string;
    path: string;
    authMethod?: 'basicAuth' | 'ssh' | 'accessKey' | 'IAM';
    secretDir?: string;
    gitAuthor?: { name: string; email: string };
    flushIntervalSeconds: number;
    heartbeatSeconds: number;
    /** bucket: S3 endpoint (host[:port] or URL), bucket, plain http / no TLS verification, signing region. */
    endpoint?: string;
    bucketName?: string;
    insecure: boolean;
    region?: string;
    /** kubernetes: kubeconfig file (absolute; else store.secretDir key kubeconfig, else the default chain), context, and a namespace for every record. */
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    /** The Kratix store manifest or SKE ConfigMap the settings were completed from. */
    kratixStateStore?: string;
  };
  scheduler: { concurrency: number; spreadSeconds: number; runOnStart: 'missing' | 'always' | 'never'; defaultTimeZone: string };
  server: { listen: string; tokenFile?: string; requireTokenForReads: boolean; readOnly: boolean };
  signals: { listen: string; initialState: 'RUN' | 'PAUSE' };
  log: { level?: string };
  shutdownGraceSeconds: number;
  /** Where the configuration came from, for messages. */
  source: string;
}

/** Values given on the command line; they win over the file and the environment. */
export interface ConfigOverrides {
  destination?: string;
  definitions?: string[];
  stateDir?: string;
  dataDir?: string;
  listen?: string;
  concurrency?: number;
  logLevel?: string;
  spreadSeconds?: number;
  runOnStart?: 'missing' | 'always' | 'never';
  /** signals.listen */
  signalsListen?: string;
  /** signals.initialState */
  initialSignal?: 'RUN' | 'PAUSE';
  /** server.readOnly */
  readOnly?: boolean;
  /** definitions.kind (--source) */
  source?: 'directory' | 'kubernetes';
  /** runtime.kind (--runtime) */
  runtime?: 'local' | 'kubernetes';
  /** definitions.kubeconfig (--kubeconfig) */
  kubeconfig?: string;
}

/** The validated file before defaults that have no schema default are filled in. */
type RawConfig = Omit<AgentConfig, 'source' | 'destination' | 'definitions' | 'runtime' | 'scheduler'> & {
  destination?: string;
  definitions: Omit<AgentConfig['definitions'], 'paths'> & { paths?: string[] };
  runtime: Omit<AgentConfig['runtime'], 'passEnv' | 'images' | 'containerEngine' | 'pluginDirs'> & {
    passEnv?: string[];
    pluginDirs?: string[];
    images?: ImageMappingConfig[];
    containerEngine?: Partial<AgentConfig['runtime']['containerEngine']>;
  };
  scheduler: Omit<AgentConfig['scheduler'], 'concurrency'> & { concurrency?: number };
};

export class ConfigError extends Error {
  constructor(readonly source: string, readonly issues: Issue[]) {
    super(issues.filter((i) => i.severity === 'error').map((i) => formatIssue(source, i)).join('\n'));
    this.name = 'ConfigError';
  }
}

let validator: SchemaValidator | undefined;

export interface LoadedConfig {
  config: AgentConfig;
  warnings: string[];
}

/** Reads and validates a config file (or none), then applies env and CLI overrides. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const path = file ?? env.VIGIL_CONFIG;
  let raw: unknown = {};
  let base = process.cwd();
  let source = '(defaults)';
  if (path) {
    source = path;
    base = dirname(resolve(path));
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(source, [{ severity: 'error', path: '', message: `cannot read config file: ${(err as Error).message}` }]);
    }
    try {
      raw = parseYamlDocument(text, { maxBytes: 1024 * 1024 }) ?? {};
    } catch (err) {
      throw new ConfigError(source, [{ severity: 'error', path: '', message: (err as Error).message }]);
    }
  }
  return resolveConfig(raw, { source, base, overrides, env });
}

export function resolveConfig(raw: unknown, options: { source: string; base: string; overrides?: ConfigOverrides; env?: NodeJS.ProcessEnv }): LoadedConfig {
  const env = options.env ?? process.env;
  const o = options.overrides ?? {};
  const doc = (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? structuredClone(raw) : raw) as Record<string, unknown>;
  validator ??= new SchemaValidator(CONFIG_SCHEMA);
  const kratixWarnings = kratixStore(doc, options.source, options.base);
  const issues = validator.validate(doc);
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(options.source, [{ severity: 'error', path: '', message: 'must be a mapping' }]);
  if (hasErrors(issues)) throw new ConfigError(options.source, issues);
  const c = doc as unknown as RawConfig;
  const at = (p: string): string => resolve(options.base, p);

  const destination = o.destination ?? env.VIGIL_DESTINATION ?? c.destination ?? defaultDestination();
  const more: Issue[] = [];
  const destProblem = dns1123LabelProblem(destination);
  if (destProblem) more.push({ severity: 'error', path: 'destination', message: destProblem });
  const tz = c.scheduler.defaultTimeZone;
  if (!isValidTimeZone(tz)) more.push({ severity: 'error', path: 'scheduler.defaultTimeZone', message: `"${tz}" is not a known IANA time zone` });
  const listen = o.listen ?? c.server.listen;
  if (listen !== 'off' && !parseListen(listen)) more.push({ severity: 'error', path: 'server.listen', message: `"${listen}" is not host:port or "off"` });
  const signalsListen = o.signalsListen ?? c.signals.listen;
  if (signalsListen !== 'off' && !parseListen(signalsListen)) more.push({ severity: 'error', path: 'signals.listen', message: `"${signalsListen}" is not host:port or "off"` });
  for (const [path, message] of kubernetesConfigProblems(o.source ?? c.definitions.kind, o.runtime ?? c.runtime.kind, c.runtime.kubernetes, env)) more.push({ severity: 'error', path, message });
  if (c.store.kind === 'git' && !c.store.url) more.push({ severity: 'error', path: 'store.url', message: 'required when store.kind is git' });
  if (c.store.kind === 'bucket') {
    for (const key of ['endpoint', 'bucketName'] as const) if (!c.store[key]) more.push({ severity: 'error', path: `store.${key}`, message: 'required when store.kind is bucket' });
    c.store.authMethod ??= 'accessKey';
  }
  if (c.store.kind === 'kubernetes') {
    if (c.store.authMethod) more.push({ severity: 'error', path: 'store.authMethod', message: 'not used by store.kind kubernetes (credentials come from store.kubeconfig, store.secretDir key kubeconfig, or the in-cluster service account)' });
    if (c.store.kubeconfig && c.store.secretDir) more.push({ severity: 'error', path: 'store.kubeconfig', message: 'set store.kubeconfig or store.secretDir (key kubeconfig), not both' });
    const nsProblem = c.store.namespace !== undefined ? dns1123LabelProblem(c.store.namespace) : undefined;
    if (nsProblem) more.push({ severity: 'error', path: 'store.namespace', message: nsProblem });
  }
  const storeAuth = c.store.kind === 'bucket' ? ['accessKey', 'IAM'] : ['basicAuth', 'ssh'];
  if (c.store.authMethod && c.store.kind !== 'fs' && c.store.kind !== 'kubernetes' && !storeAuth.includes(c.store.authMethod)) more.push({ severity: 'error', path: 'store.authMethod', message: `"${c.store.authMethod}" is not one of ${storeAuth.join(', ')} for store.kind ${c.store.kind}` });
  if (c.store.authMethod && c.store.authMethod !== 'IAM' && c.store.kind !== 'fs' && c.store.kind !== 'kubernetes' && !c.store.secretDir) more.push({ severity: 'error', path: 'store.secretDir', message: `required for authMethod ${c.store.authMethod}${c.store.kind === 'bucket' ? ' (the default of store.kind bucket; use authMethod IAM for the AWS credential chain)' : ''}` });
  if (hasErrors(more)) throw new ConfigError(options.source, more);

  const engine = c.runtime.containerEngine;
  const config: AgentConfig = {
    destination,
    dataDir: o.dataDir ? resolve(o.dataDir) : at(c.dataDir),
    definitions: {
      ...c.definitions,
      paths: o.definitions?.map((p) => resolve(p)) ?? (c.definitions.paths ?? ['./definitions']).map(at),
      kind: o.source ?? c.definitions.kind,
      ...(o.kubeconfig ? { kubeconfig: resolve(o.kubeconfig) } : c.definitions.kubeconfig ? { kubeconfig: at(c.definitions.kubeconfig) } : {}),
    },
    runtime: {
      ...c.runtime,
      ...(c.runtime.workDir ? { workDir: at(c.runtime.workDir) } : {}),
      ...(c.runtime.secretsDir ? { secretsDir: at(c.runtime.secretsDir) } : {}),
      ...(c.runtime.configMapsDir ? { configMapsDir: at(c.runtime.configMapsDir) } : {}),
      kind: o.runtime ?? c.runtime.kind,
      kubernetes: { ...defaultKubernetesRuntime(), ...c.runtime.kubernetes, ...(!c.runtime.kubernetes.agentImage && env.VIGIL_AGENT_IMAGE ? { agentImage: env.VIGIL_AGENT_IMAGE } : {}) },
      passEnv: c.runtime.passEnv ?? [],
      pluginDirs: (c.runtime.pluginDirs ?? []).map(at),
      images: (c.runtime.images ?? []).map((m) => ({ ...m, command: m.command.map((part, i) => (i > 0 && (part.startsWith('./') || part.startsWith('../')) ? at(part) : part)) })),
      containerEngine: { command: engine?.command ?? 'auto', globalArgs: engine?.globalArgs ?? [], runArgs: engine?.runArgs ?? [] },
    },
    store: {
      ...c.store,
      root: o.stateDir ? resolve(o.stateDir) : at(c.store.root),
      ...(c.store.secretDir ? { secretDir: at(c.store.secretDir) } : {}),
      ...(c.store.kubeconfig ? { kubeconfig: at(c.store.kubeconfig) } : {}),
      ...(c.store.url && /^\.\.?\//.test(c.store.url) ? { url: at(c.store.url) } : {}),
    },
    scheduler: {
      ...c.scheduler,
      concurrency: o.concurrency ?? c.scheduler.concurrency ?? availableParallelism() * 4,
      spreadSeconds: o.spreadSeconds ?? c.scheduler.spreadSeconds,
      runOnStart: o.runOnStart ?? c.scheduler.runOnStart,
    },
    server: {
      listen,
      ...(c.server.tokenFile ? { tokenFile: at(c.server.tokenFile) } : {}),
      requireTokenForReads: c.server.requireTokenForReads,
      readOnly: o.readOnly ?? c.server.readOnly,
    },
    signals: { listen: signalsListen, initialState: o.initialSignal ?? c.signals.initialState },
    log: { ...(o.logLevel ?? env.LOG_LEVEL ?? c.log.level ? { level: o.logLevel ?? env.LOG_LEVEL ?? c.log.level } : {}) },
    shutdownGraceSeconds: c.shutdownGraceSeconds,
    source: options.source,
  };
  return { config, warnings: [...kratixWarnings, ...issues.filter((i) => i.severity === 'warning').map((i) => formatIssue(options.source, i))] };
}

/** Completes `store` from `store.kratixStateStore` (a Kratix store or SKE ConfigMap file) before validation. */
function kratixStore(doc: unknown, source: string, base: string): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const d = doc as Record<string, unknown>;
  const store = d.store;
  if (store === null || typeof store !== 'object' || Array.isArray(store)) return [];
  const runtime = d.runtime !== null && typeof d.runtime === 'object' ? (d.runtime as Record<string, unknown>) : {};
  try {
    return applyKratixStateStore(store as Record<string, unknown>, {
      base,
      ...(typeof runtime.secretsDir === 'string' ? { runtimeSecretsDir: runtime.secretsDir } : {}),
      read: (path) => readFileSync(path, 'utf8'),
    }).map((w) => `${source}: ${w}`);
  } catch (err) {
    const message = (err as Error).message;
    const colon = message.indexOf(': ');
    throw new ConfigError(source, [{ severity: 'error', path: message.slice(0, colon), message: message.slice(colon + 2) }]);
  }
}

/** host:port -> {host, port}; accepts [::1]:port. */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** The host name made into a valid destination name. */
export function defaultDestination(): string {
  const h = hostname().toLowerCase().split('.')[0] ?? 'local';
  const cleaned = h.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!cleaned) return 'local';
  return cleaned.length <= 63 ? cleaned : boundedName([cleaned], 63);
}

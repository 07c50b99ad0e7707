/**
 * Builds the adapters named by an AgentConfig. The one place that knows which config
 * section maps to which adapter.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/config.js';
import type { CheckRuntime, DefinitionSource, StateStore } from '../core/interfaces.js';
import { getDefinitionValidator } from '../crds.js';
import { DirectorySource } from '../sources/DirectorySource.js';
import { FsStateStore } from '../stores/FsStateStore.js';
import { GitStateStore, type GitAuth } from '../stores/GitStateStore.js';
import { InitOnUse } from '../stores/InitOnUse.js';
import { BucketStateStore, type BucketAuth } from '../stores/BucketStateStore.js';
import { KubernetesStateStore } from '../stores/KubernetesStateStore.js';
import { connectKubernetesStore } from '../stores/kubernetes/connect.js';
import { LocalRuntime } from '../runtimes/LocalRuntime.js';
import { KubernetesSource } from '../kubernetes/KubernetesSource.js';
import { Kube, loadKubeConfig } from '../kubernetes/client.js';
import type { ContainerEngineOption } from '../runtimes/engine.js';
import { pluginLoader } from '../plugins/load.js';

export function buildSource(config: AgentConfig, logger: Logger): DefinitionSource {
  if (config.definitions.kind === 'kubernetes') {
    const d = config.definitions;
    return new KubernetesSource({
      kube: new Kube(loadKubeConfig({ ...(d.kubeconfig ? { kubeconfig: d.kubeconfig } : {}), ...(d.context ? { context: d.context } : {}) })),
      validator: getDefinitionValidator(),
      logger,
      ...(d.namespaces ? { namespaces: d.namespaces } : {}),
      resyncSeconds: config.runtime.kubernetes.resyncSeconds,
      stallSeconds: config.runtime.kubernetes.stallSeconds,
    });
  }
  return new DirectorySource({
    paths: config.definitions.paths,
    validator: getDefinitionValidator(),
    logger,
    defaultNamespace: config.definitions.namespace,
    watch: config.definitions.watch,
    rescanIntervalMs: config.definitions.rescanIntervalSeconds * 1000,
  });
}

export function buildStore(config: AgentConfig, logger: Logger): StateStore {
  const s = config.store;
  if (s.kind === 'fs') return new FsStateStore({ root: s.root, logger, fsync: s.fsync });
  if (s.kind === 'bucket') {
    return new InitOnUse(
      new BucketStateStore({
        endpoint: s.endpoint!,
        bucketName: s.bucketName!,
        path: s.path,
        insecure: s.insecure,
        ...(s.region ? { region: s.region } : {}),
        auth: bucketAuth(s.authMethod === 'IAM' ? 'IAM' : 'accessKey', s.secretDir),
        logger,
        heartbeatMs: s.heartbeatSeconds * 1000,
      }),
    );
  }
  if (s.kind === 'kubernetes') {
    const { kube, connection } = connectKubernetesStore({
      ...(s.kubeconfig ? { kubeconfig: s.kubeconfig } : {}),
      ...(s.secretDir ? { secretDir: s.secretDir } : {}),
      ...(s.context ? { context: s.context } : {}),
    });
    return new InitOnUse(
      new KubernetesStateStore({
        kube,
        connection,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        destination: config.destination,
        logger,
        heartbeatMs: s.heartbeatSeconds * 1000,
      }),
    );
  }
  return new InitOnUse(
    new GitStateStore({
      url: s.url!,
      branch: s.branch,
      path: s.path,
      ...(s.authMethod === 'basicAuth' || s.authMethod === 'ssh' ? { auth: gitAuth(s.authMethod, s.secretDir!) } : {}),
      ...(s.gitAuthor ? { author: s.gitAuthor } : {}),
      workDir: join(config.dataDir, 'git'),
      logger,
      flushIntervalMs: s.flushIntervalSeconds * 1000,
      heartbeatMs: s.heartbeatSeconds * 1000,
    }),
  );
}

/** Reads one key of a directory laid out as a mounted Kubernetes Secret. */
function secretKey(method: string, dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (err) {
    throw new Error(`store.secretDir: cannot read key "${name}" for authMethod ${method} in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Bucket credentials: Kratix's Secret keys accessKeyID and secretAccessKey, or the AWS default chain. */
function bucketAuth(method: 'accessKey' | 'IAM', dir: string | undefined): BucketAuth {
  if (method === 'IAM') return { kind: 'IAM' };
  return { kind: 'accessKey', accessKeyId: secretKey(method, dir!, 'accessKeyID').trim(), secretAccessKey: secretKey(method, dir!, 'secretAccessKey').trim() };
}

/** Credentials from a directory of key files, laid out as a mounted Kubernetes Secret. */
function gitAuth(method: 'basicAuth' | 'ssh', dir: string): GitAuth {
  const key = (name: string): string => secretKey(method, dir, name);
  return method === 'basicAuth'
    ? { kind: 'basicAuth', username: key('username').trim(), password: key('password').trim() }
    : { kind: 'ssh', privateKey: key('sshPrivateKey'), knownHosts: key('knownHosts') };
}

export function buildRuntime(config: AgentConfig['runtime'], logger: Logger): CheckRuntime {
  return new LocalRuntime({
    logger,
    ...(config.workDir ? { workDir: config.workDir } : {}),
    keepRunDirs: config.keepRunDirs,
    images: config.images,
    containerEngine: engineOption(config.containerEngine),
    passEnv: config.passEnv,
    ...(config.secretsDir ? { secretsDir: config.secretsDir } : {}),
    ...(config.configMapsDir ? { configMapsDir: config.configMapsDir } : {}),
    maxCaptureBytes: config.maxCaptureBytes,
    maxOutputFileBytes: config.maxOutputBytes,
    ...(config.inProcessPlugins ? { plugins: pluginLoader(config.pluginDirs, logger) } : {}),
  });
}

function engineOption(c: AgentConfig['runtime']['containerEngine']): ContainerEngineOption {
  if (c.command === 'none') return 'none';
  if (c.command === 'auto' && c.globalArgs.length === 0 && c.runArgs.length === 0) return 'auto';
  const command = c.command === 'auto' ? (which('podman') ?? which('docker')) : c.command;
  if (command === undefined) return 'none';
  return { command, globalArgs: c.globalArgs, runArgs: c.runArgs };
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

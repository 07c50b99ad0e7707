/**
 * Running a check container with a local engine (podman or docker), through its CLI.
 * The run directory's input/, output/ and metadata/ are bind-mounted at /kratix/*, the
 * environment goes through an env file (never on the command line), and the container's
 * securityContext and resource limits become engine flags. Machine-specific flags (an OCI
 * runtime, ulimits) are configuration: `globalArgs` before `run`, `runArgs` after it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from 'pino';
import type { Container } from '../core/model.js';
import { BoundedCapture } from './capture.js';
import type { RunCancellation } from './cancel.js';
import type { Exited } from './process-runner.js';
import { parseQuantity } from './quantity.js';
import type { RunDirectory } from './run-dir.js';

/** A container engine CLI and the flags this machine needs. */
export interface ContainerEngine {
  /** `podman`, `docker`, or a path to either. */
  command: string;
  /** Flags before the subcommand, e.g. `['--runtime', '/usr/sbin/runc']`. */
  globalArgs?: string[];
  /** Flags added to every `run`, e.g. `['--ulimit', 'nofile=1024:1024']`. */
  runArgs?: string[];
}

/** `auto` looks for podman, then docker, on PATH; `none` never runs containers. */
export type ContainerEngineOption = ContainerEngine | 'auto' | 'none';

/** The engine to use, or undefined. `findExecutable` resolves a bare name on PATH. */
export function selectEngine(option: ContainerEngineOption, findExecutable: (name: string) => string | undefined): ContainerEngine | undefined {
  if (option === 'none') return undefined;
  if (option !== 'auto') return option;
  for (const name of ['podman', 'docker']) {
    const command = findExecutable(name);
    if (command !== undefined) return { command };
  }
  return undefined;
}

export type EngineArgs = { ok: true; argv: string[] } | { ok: false; path: string; message: string };

export interface EngineRunSpec {
  /** Container name, unique per run and container: `vigil-<runId>-<index>`. */
  name: string;
  container: Container;
  /** Field path of the container, for messages. */
  path: string;
  dir: RunDirectory;
  envFile: string;
  /** `command` and `args` after `$(VAR)` expansion. */
  command?: string[];
  args?: string[];
}

const CAPABILITY = /^[A-Z_]+$/;

/** The engine's argument list for `spec` (everything after the engine command). Pure. */
export function engineRunArgs(engine: ContainerEngine, spec: EngineRunSpec): EngineArgs {
  const { container, dir } = spec;
  for (const path of [dir.input, dir.output, dir.metadata]) {
    if (/[:,]/.test(path)) return { ok: false, path: 'workDir', message: `"${path}" contains ':' or ',', which cannot be bind-mounted` };
  }
  const argv = [...(engine.globalArgs ?? []), 'run', '--rm', '--name', spec.name, '--pull', 'never', ...(engine.runArgs ?? [])];
  argv.push('--network', 'host');
  argv.push('-v', `${dir.input}:/kratix/input:ro`, '-v', `${dir.output}:/kratix/output`, '-v', `${dir.metadata}:/kratix/metadata`);
  argv.push('--env-file', spec.envFile);
  const command = spec.command;
  if (command && command.length > 0) argv.push('--entrypoint', command[0]!);
  if (container.workingDir !== undefined) argv.push('--workdir', container.workingDir);
  const security = securityFlags(container, spec.path);
  if (!security.ok) return security;
  argv.push(...security.argv);
  const resources = resourceFlags(container, spec.path);
  if (!resources.ok) return resources;
  argv.push(...resources.argv);
  argv.push(container.image);
  if (command) argv.push(...command.slice(1));
  if (spec.args) argv.push(...spec.args);
  return { ok: true, argv };
}

function securityFlags(container: Container, containerPath: string): EngineArgs {
  const sc = container.securityContext;
  const argv: string[] = [];
  if (!sc) return { ok: true, argv };
  const path = `${containerPath}.securityContext`;
  const { runAsUser, runAsGroup } = sc;
  for (const [field, id] of [['runAsUser', runAsUser], ['runAsGroup', runAsGroup]] as const) {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0)) return { ok: false, path: `${path}.${field}`, message: 'must be a non-negative integer' };
  }
  if (runAsGroup !== undefined && runAsUser === undefined) {
    return { ok: false, path: `${path}.runAsGroup`, message: 'is only supported locally together with runAsUser' };
  }
  if (sc.runAsNonRoot === true && runAsUser === 0) return { ok: false, path: `${path}.runAsUser`, message: 'is 0 but runAsNonRoot is true' };
  if (runAsUser !== undefined) argv.push('--user', runAsGroup === undefined ? String(runAsUser) : `${runAsUser}:${runAsGroup}`);
  if (sc.readOnlyRootFilesystem === true) argv.push('--read-only');
  if (sc.allowPrivilegeEscalation === false) argv.push('--security-opt', 'no-new-privileges');
  if (sc.privileged === true) argv.push('--privileged');
  for (const [field, flag] of [['drop', '--cap-drop'], ['add', '--cap-add']] as const) {
    const list = sc.capabilities?.[field] ?? [];
    for (let i = 0; i < list.length; i++) {
      const cap = list[i]!;
      if (!CAPABILITY.test(cap)) return { ok: false, path: `${path}.capabilities.${field}[${i}]`, message: `${JSON.stringify(cap)} is not a capability name` };
      argv.push(flag, cap);
    }
  }
  const seccomp = sc.seccompProfile?.type;
  if (seccomp === 'Unconfined') argv.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp !== undefined && seccomp !== 'RuntimeDefault') {
    return { ok: false, path: `${path}.seccompProfile.type`, message: `${JSON.stringify(seccomp)} is not supported locally (use RuntimeDefault or Unconfined)` };
  }
  return { ok: true, argv };
}

function resourceFlags(container: Container, containerPath: string): EngineArgs {
  const limits = container.resources?.limits;
  const argv: string[] = [];
  if (!limits) return { ok: true, argv };
  const path = `${containerPath}.resources.limits`;
  if (limits.memory !== undefined) {
    const bytes = parseQuantity(limits.memory);
    if (bytes === undefined || bytes <= 0) return { ok: false, path: `${path}.memory`, message: `${JSON.stringify(limits.memory)} is not a positive quantity` };
    argv.push('--memory', String(Math.ceil(bytes)));
  }
  if (limits.cpu !== undefined) {
    const cpus = parseQuantity(limits.cpu);
    if (cpus === undefined || cpus <= 0) return { ok: false, path: `${path}.cpu`, message: `${JSON.stringify(limits.cpu)} is not a positive quantity` };
    argv.push('--cpus', String(Math.max(0.001, Math.round(cpus * 1000) / 1000)));
  }
  return { ok: true, argv };
}

/** Writes the env file (mode 0600) for one container; fails on values an env file cannot carry. */
export function writeEnvFile(dir: RunDirectory, index: number, env: ReadonlyMap<string, string>): { ok: true; file: string } | { ok: false; name: string } {
  let text = '';
  for (const [name, value] of env) {
    if (value.includes('\n') || value.includes('\r')) return { ok: false, name };
    text += `${name}=${value}\n`;
  }
  const file = join(dir.root, `env-${index}`);
  writeFileSync(file, text, { mode: 0o600 });
  return { ok: true, file };
}

export type EngineResult =
  | ({ kind: 'exited' } & Exited)
  | { kind: 'failed'; reason: 'StartFailed' | 'ImagePull'; message: string }
  /** The run was cancelled before the container started. */
  | { kind: 'cancelled' };

export interface EngineRunOptions {
  engine: ContainerEngine;
  image: string;
  name: string;
  argv: string[];
  maxCaptureBytes: number;
  cancel: RunCancellation;
  logger: Logger;
}

/** Time limit of the engine's housekeeping commands (image inspect, kill, rm). */
const HOUSEKEEPING_TIMEOUT_MS = 60_000;

/**
 * Runs the container: checks the image is present (vigil never pulls), then `run`. On
 * timeout or abort the engine client is killed and the named container killed and removed.
 */
export async function runWithEngine(options: EngineRunOptions): Promise<EngineResult> {
  const { engine, cancel } = options;
  const global = engine.globalArgs ?? [];
  const inspect = await execa(engine.command, [...global, 'image', 'inspect', '--format', '{{.Id}}', options.image], {
    reject: false,
    stdin: 'ignore',
    timeout: HOUSEKEEPING_TIMEOUT_MS,
  });
  if (inspect.failed) {
    const detail = firstLine(inspect.stderr) || inspect.shortMessage;
    if (inspect.exitCode === undefined) return { kind: 'failed', reason: 'StartFailed', message: `container engine "${engine.command}" could not be run: ${detail}` };
    return {
      kind: 'failed',
      reason: 'ImagePull',
      message: `image "${options.image}" is not present locally and vigil does not pull images (pull or build it first): ${detail}`,
    };
  }
  if (cancel.reason) return { kind: 'cancelled' };

  const stdout = new BoundedCapture(options.maxCaptureBytes);
  const stderr = new BoundedCapture(options.maxCaptureBytes);
  const child = execa(engine.command, options.argv, { reject: false, stdin: 'ignore', buffer: false });
  child.stdout.on('data', stdout.push);
  child.stderr.on('data', stderr.push);
  let cleanup: Promise<unknown> | undefined;
  cancel.onCancel(() => {
    child.kill('SIGKILL');
    cleanup = removeContainer(engine, options.name, options.logger);
  });
  const result = await child;
  cancel.clear();
  await cleanup;
  if (result.exitCode === undefined && result.signal === undefined) {
    return { kind: 'failed', reason: 'StartFailed', message: `container engine "${engine.command}" could not be run: ${result.shortMessage}` };
  }
  return { kind: 'exited', exitCode: result.exitCode ?? null, signal: result.signal ?? null, stdout: stdout.result(), stderr: stderr.result() };
}

async function removeContainer(engine: ContainerEngine, name: string, logger: Logger): Promise<void> {
  const global = engine.globalArgs ?? [];
  const options = { reject: false, stdin: 'ignore', timeout: HOUSEKEEPING_TIMEOUT_MS } as const;
  await execa(engine.command, [...global, 'kill', name], options);
  const rm = await execa(engine.command, [...global, 'rm', '-f', name], options);
  if (rm.failed) logger.warn({ container: name, error: firstLine(rm.stderr) }, 'could not remove the container of a cancelled run');
  else logger.debug({ container: name }, 'killed and removed the container of a cancelled run');
}

function firstLine(text: string): string {
  const trimmed = text.trim();
  const i = trimmed.indexOf('\n');
  return i === -1 ? trimmed : trimmed.slice(0, i);
}

/**
 * How one container of a workflow runs locally, decided in this order:
 * 1. its image is mapped to a local command (and the container sets no `command`);
 * 2. its `command` names a local executable (an absolute path, or a bare name on PATH);
 * 3. a container engine is available;
 * 4. otherwise it cannot run, and the message says how to fix that.
 * Kubernetes semantics apply to the mapping: `command` replaces the entrypoint and drops
 * the default args, `args` replaces the default args.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Container } from '../core/model.js';
import type { ImageMapping, ImageTable } from './images.js';
import type { ContainerEngine } from './engine.js';

export type ContainerPlan =
  /** The image is mapped to a local command. */
  | { via: 'process'; from: 'mapping'; mapping: ImageMapping }
  /** The container's own command exists here; `executable` is its resolved path. */
  | { via: 'process'; from: 'command'; executable: string }
  | { via: 'container'; engine: ContainerEngine }
  | { via: 'none'; message: string };

export type ProcessPlan = Extract<ContainerPlan, { via: 'process' }>;

export interface ResolveContext {
  images: ImageTable;
  /** The path of a local executable, or undefined (see findExecutable). */
  findExecutable(command: string): string | undefined;
  /** The container engine, or undefined when none is configured or found. */
  engine(): ContainerEngine | undefined;
}

/** Chooses how `container` runs; reads the file system only through the context. */
export function resolveContainer(container: Container, context: ResolveContext): ContainerPlan {
  const command = container.command?.[0];
  if (command === undefined) {
    const mapping = context.images.lookup(container.image);
    if (mapping) return { via: 'process', from: 'mapping', mapping };
  } else {
    const executable = context.findExecutable(command);
    if (executable !== undefined) return { via: 'process', from: 'command', executable };
  }
  const engine = context.engine();
  if (engine) return { via: 'container', engine };
  return {
    via: 'none',
    message: `no way to run image "${container.image}" locally (container "${container.name}"): map it to a command in the runtime config or install podman/docker`,
  };
}

/**
 * The executable and arguments of a process plan, from the container's `command` and
 * `args` after `$(VAR)` expansion (mapping commands are not expanded, as an image's
 * entrypoint is not).
 */
export function processCommand(plan: ProcessPlan, expanded: { command?: string[]; args?: string[] }): { file: string; args: string[] } {
  if (plan.from === 'mapping') {
    const [file, ...fixed] = plan.mapping.command;
    return { file: file!, args: [...fixed, ...(expanded.args ?? plan.mapping.args ?? [])] };
  }
  return { file: plan.executable, args: [...(expanded.command ?? []).slice(1), ...(expanded.args ?? [])] };
}

/** Whether `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves a command like execvp would: an absolute path must be an executable file; a
 * bare name is searched in `pathDirs`; anything else (a relative path) is not local.
 */
export function findExecutable(command: string, pathDirs: readonly string[]): string | undefined {
  if (command.includes('/')) return isAbsolute(command) && isExecutableFile(command) ? command : undefined;
  if (command === '') return undefined;
  for (const dir of pathDirs) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

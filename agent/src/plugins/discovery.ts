/**
 * Plugin discovery, the TypeScript counterpart of Krkn's HealthCheckFactory: modules
 * named `<type>.check-plugin.js` (or `.mjs`) in the built-in folder and in the user's
 * plugin directories (`runtime.pluginDirs`) are imported, and their `default` (or
 * `plugin`) export is checked against the CheckPlugin contract. The result keeps a
 * `loaded` list and a `failed` list; one broken plugin never stops the others.
 *
 * Failure reasons:
 * - `naming`: a file that looks like a plugin but breaks the convention
 *   (`foo.check_plugin.js`, `foo-check-plugin.js`, ...), or a plugin whose `type` is not
 *   the name its file gives;
 * - `import`: importing the module threw (syntax error, missing dependency, top-level throw);
 * - `invalid-export`: no export, or one that is not a CheckPlugin;
 * - `duplicate`: a type, config key or image already served by an earlier plugin
 *   (built-ins first, then the directories in order, files by name).
 * A plugin directory that cannot be read is a failure too (reason `import`).
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CheckPlugin } from '../../../check-images/sdk/src/index.js';
import { imageRepository } from '../runtimes/images.js';

export type { CheckPlugin, CheckPluginContext, PluginLogger } from '../../../check-images/sdk/src/index.js';

/** Extensions of plugin modules; `.ts` is accepted in the built-in folder when vigil runs from its sources (tests). */
const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts');
const PLUGIN_FILE = /^([a-z][a-z0-9-]{0,62})\.check-plugin\.(js|mjs)$/;
const SOURCE_PLUGIN_FILE = /^([a-z][a-z0-9-]{0,62})\.check-plugin\.ts$/;
/** Files that look like an attempt at a plugin but do not follow the convention. */
const LOOKS_LIKE_PLUGIN = /check[-_.]?plugin|health[-_]?check[-_]?plugin/i;
const MODULE_FILE = /\.(js|mjs|cjs|ts|mts|cts)$/;
const IGNORED_FILE = /\.(d\.ts|d\.mts|map)$/;
export const PLUGIN_TYPE = /^[a-z][a-z0-9-]{0,62}$/;

export type PluginFailureReason = 'naming' | 'import' | 'invalid-export' | 'duplicate';

export interface LoadedPlugin {
  plugin: CheckPlugin;
  /** Absolute path of the module. */
  module: string;
  builtin: boolean;
}

export interface PluginFailure {
  /** Absolute path of the module (or the directory that could not be read). */
  module: string;
  reason: PluginFailureReason;
  message: string;
}

/** The built-in plugin folder (agent/src/plugins/builtin, compiled or not). */
export function builtinPluginDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'builtin');
}

export interface DiscoverOptions {
  /** User plugin directories, in priority order after the built-ins. */
  dirs?: readonly string[];
  /** Default builtinPluginDir(); null: no built-ins. */
  builtinDir?: string | null;
}

/** The discovered plugins, looked up by type or by the image a container names. */
export class PluginRegistry {
  private readonly byType = new Map<string, LoadedPlugin>();
  private readonly byImage = new Map<string, LoadedPlugin>();

  constructor(
    readonly loaded: readonly LoadedPlugin[],
    readonly failed: readonly PluginFailure[],
  ) {
    for (const entry of loaded) {
      this.byType.set(entry.plugin.type, entry);
      for (const image of entry.plugin.images ?? []) this.byImage.set(image, entry);
    }
  }

  get(type: string): CheckPlugin | undefined {
    return this.byType.get(type)?.plugin;
  }

  /** The plugin serving an image: its exact reference or its repository (any tag or digest). */
  forImage(image: string): CheckPlugin | undefined {
    return (this.byImage.get(image) ?? this.byImage.get(imageRepository(image)))?.plugin;
  }
}

/** Finds, imports and checks every plugin. Never throws: problems land in `failed`. */
export async function discoverPlugins(opts: DiscoverOptions = {}): Promise<PluginRegistry> {
  const loaded: LoadedPlugin[] = [];
  const failed: PluginFailure[] = [];
  const builtinDir = opts.builtinDir === undefined ? builtinPluginDir() : opts.builtinDir;
  const sources: { dir: string; builtin: boolean }[] = [
    ...(builtinDir !== null ? [{ dir: builtinDir, builtin: true }] : []),
    ...(opts.dirs ?? []).map((dir) => ({ dir: resolve(dir), builtin: false })),
  ];
  for (const { dir, builtin } of sources) {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
    } catch (err) {
      failed.push({ module: dir, reason: 'import', message: `cannot read the plugin directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    for (const name of names) {
      const module = join(dir, name);
      const fileType = typeFromFile(name, builtin);
      if (fileType === undefined) {
        if (!IGNORED_FILE.test(name) && MODULE_FILE.test(name) && LOOKS_LIKE_PLUGIN.test(name)) {
          failed.push({ module, reason: 'naming', message: `not loaded: plugin files are named <type>.check-plugin.js or .mjs (type: lower case letters, digits, hyphens)` });
        }
        continue;
      }
      const result = await loadPlugin(module, fileType);
      if ('reason' in result) {
        failed.push(result);
        continue;
      }
      const clash = duplicateOf(result, loaded);
      if (clash) {
        failed.push({ module, reason: 'duplicate', message: clash });
        continue;
      }
      loaded.push({ plugin: result, module, builtin });
    }
  }
  return new PluginRegistry(loaded, failed);
}

function typeFromFile(name: string, builtin: boolean): string | undefined {
  const match = PLUGIN_FILE.exec(name) ?? (builtin && RUNNING_FROM_SOURCES ? SOURCE_PLUGIN_FILE.exec(name) : null);
  return match?.[1];
}

async function loadPlugin(module: string, fileType: string): Promise<CheckPlugin | PluginFailure> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (err) {
    return { module, reason: 'import', message: `import failed: ${firstLine(err)}` };
  }
  const candidate = exports.default ?? exports.plugin;
  if (candidate === undefined) return { module, reason: 'invalid-export', message: 'exports neither default nor plugin' };
  const problem = contractProblem(candidate);
  if (problem) return { module, reason: 'invalid-export', message: problem };
  const plugin = candidate as CheckPlugin;
  if (plugin.type !== fileType) {
    return { module, reason: 'naming', message: `type "${plugin.type}" does not match the file name ${basename(module)} (expected type "${fileType}")` };
  }
  return plugin;
}

/** Why a value is not a CheckPlugin, or undefined when it is one. */
export function contractProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return `the export is ${value === null ? 'null' : typeof value}, not a plugin object`;
  const p = value as Record<string, unknown>;
  if (typeof p.type !== 'string' || !PLUGIN_TYPE.test(p.type)) return 'type: must be lower case letters, digits and hyphens, starting with a letter';
  if (typeof p.configKey !== 'string' || p.configKey === '') return 'configKey: must be a non-empty string';
  if (typeof p.run !== 'function') return 'run: must be a function (config, context) => {state, details}';
  if (p.images !== undefined && (!Array.isArray(p.images) || !p.images.every((i) => typeof i === 'string' && i !== ''))) {
    return 'images: must be a list of image references';
  }
  if (p.description !== undefined && typeof p.description !== 'string') return 'description: must be a string';
  return undefined;
}

function duplicateOf(plugin: CheckPlugin, loaded: readonly LoadedPlugin[]): string | undefined {
  for (const other of loaded) {
    if (other.plugin.type === plugin.type) return `type "${plugin.type}" is already loaded from ${other.module}`;
    if (other.plugin.configKey === plugin.configKey) return `config key "${plugin.configKey}" is already read by plugin "${other.plugin.type}" (${other.module})`;
    const image = (plugin.images ?? []).find((i) => other.plugin.images?.includes(i));
    if (image !== undefined) return `image ${image} is already served by plugin "${other.plugin.type}" (${other.module})`;
  }
  return undefined;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

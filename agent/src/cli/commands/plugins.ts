/**
 * `vigil plugins`: lists the check plugins the local runtime would load (built-in, then
 * `runtime.pluginDirs` of the config, then `--dir`), and those that failed with their
 * module and reason. Exit 0 when none failed, 1 otherwise, 3 for a bad config.
 */
import type { Command } from 'commander';
import { relative } from 'node:path';
import { loadConfig } from '../../config/config.js';
import { discoverPlugins, type PluginRegistry } from '../../plugins/discovery.js';
import { fail } from '../util.js';

interface PluginsFlags {
  config?: string;
  dir: string[];
  json?: boolean;
}

export function registerPlugins(program: Command): void {
  program
    .command('plugins')
    .description('list the in-process check plugins: loaded, and failed with their reason')
    .option('-c, --config <file>', 'agent config file whose runtime.pluginDirs to search')
    .option('-d, --dir <directory>', 'an extra plugin directory (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--json', 'print {loaded, failed} as JSON')
    .addHelpText('after', '\nPlugin files are named <type>.check-plugin.js or .mjs and export a CheckPlugin as default or plugin.\nExit status: 0 when every plugin loaded, 1 when any failed, 3 for a bad configuration.')
    .action(async (flags: PluginsFlags) => {
      process.exitCode = await plugins(flags);
    });
}

async function plugins(flags: PluginsFlags): Promise<number> {
  let dirs: string[];
  try {
    dirs = [...loadConfig(flags.config).config.runtime.pluginDirs, ...flags.dir];
  } catch (err) {
    fail((err as Error).message, 3);
  }
  const registry = await discoverPlugins({ dirs });
  process.stdout.write(flags.json ? `${JSON.stringify(asJson(registry), null, 2)}\n` : asText(registry));
  return registry.failed.length > 0 ? 1 : 0;
}

function asJson(registry: PluginRegistry): Record<string, unknown> {
  return {
    loaded: registry.loaded.map(({ plugin, module, builtin }) => ({
      type: plugin.type,
      configKey: plugin.configKey,
      images: plugin.images ?? [],
      ...(plugin.description !== undefined ? { description: plugin.description } : {}),
      builtin,
      module,
    })),
    failed: registry.failed.map((f) => ({ module: f.module, reason: f.reason, message: f.message })),
  };
}

function asText(registry: PluginRegistry): string {
  const show = (path: string): string => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') ? path : rel;
  };
  const lines = [`loaded (${registry.loaded.length}):`];
  for (const { plugin, module, builtin } of registry.loaded) {
    lines.push(`  ${plugin.type}  key ${plugin.configKey}${plugin.images?.length ? `  images ${plugin.images.join(', ')}` : ''}  ${builtin ? '(built-in)' : show(module)}`);
    if (plugin.description) lines.push(`      ${plugin.description}`);
  }
  lines.push(`failed (${registry.failed.length}):`);
  for (const f of registry.failed) lines.push(`  ${show(f.module)}  ${f.reason}: ${f.message}`);
  return `${lines.join('\n')}\n`;
}

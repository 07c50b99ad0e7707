/**
 * The agent's plugin loader: discovery once, on first use, with every plugin that failed
 * to load logged as a warning naming its module and reason (one broken plugin never
 * stops the agent or the other plugins).
 */
import type { Logger } from 'pino';
import { discoverPlugins, type PluginRegistry } from './discovery.js';

/** A function that discovers the built-in plugins and those in `dirs` the first time it is called. */
export function pluginLoader(dirs: readonly string[], logger: Logger): () => Promise<PluginRegistry> {
  let registry: Promise<PluginRegistry> | undefined;
  return () => {
    registry ??= discoverPlugins({ dirs }).then((r) => {
      for (const f of r.failed) logger.warn({ module: f.module, reason: f.reason }, `plugin not loaded: ${f.message}`);
      logger.debug({ plugins: r.loaded.map((l) => l.plugin.type) }, 'plugins loaded');
      return r;
    });
    return registry;
  };
}

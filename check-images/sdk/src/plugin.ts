/**
 * The in-process plugin contract. A check written as a function from config to
 * `{state, details}` can be run two ways with the same code: as a container image whose
 * `main` calls `runCheck`, and as a plugin the local vigil agent imports and calls
 * without spawning anything (cheap for thousands of checks).
 *
 * A plugin module is a file named `<type>.check-plugin.js` (or `.mjs`) in a plugin
 * directory, whose `default` (or `plugin`) export is a CheckPlugin with that `type`:
 *
 * ```ts
 * export default defineCheckPlugin({
 *   type: 'disk', configKey: 'disk_check',
 *   async run(config, { signal, input, env }) { return { state: 'healthy' }; },
 * });
 * ```
 */
import type { EnvSource } from './config.js';
import type { CheckResult } from './status.js';

/** The logging a plugin gets: a pino child logger in the agent, with the run's fields bound. */
export interface PluginLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CheckPluginContext {
  /**
   * Aborted when the run times out or the agent shuts down. A plugin must stop promptly:
   * the runtime records the run as timed out at once, and nothing can kill a function.
   */
  signal: AbortSignal;
  logger: PluginLogger;
  /** The parsed object.yaml (the definition's spec.input); `{}` when there is none. */
  input: Record<string, unknown>;
  /** The container's environment, as a process of it would see it (not the agent's own). */
  env: EnvSource;
}

export interface CheckPlugin<C = unknown> {
  /** Unique name, lower case letters, digits and hyphens; the file is named `<type>.check-plugin.js`. */
  type: string;
  /** The config key read from VIGIL_CHECK_CONFIG, the input, or the input's spec (e.g. `health_checks`). */
  configKey: string;
  /** Image repositories (without tag) this plugin serves in-process, e.g. `ghcr.io/vigil-health/check-http`. */
  images?: readonly string[];
  /** One line for `vigil plugins`. */
  description?: string;
  /**
   * Runs the check. `config` is the value found under `configKey` (undefined when none).
   * Throwing is a broken check (recorded `unknown` with reason ExitCode, as an image
   * exiting 1); a failing target is a result.
   */
  run(config: C | undefined, ctx: CheckPluginContext): CheckResult | Promise<CheckResult>;
}

/** Identity function that gives a plugin object its type. */
export function defineCheckPlugin<C = unknown>(plugin: CheckPlugin<C>): CheckPlugin<C> {
  return plugin;
}

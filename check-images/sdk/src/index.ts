/**
 * vigil check SDK: the Kratix health check contract for Node.js checks.
 * Read `object.yaml`, find your config, write `health-status.yaml`:
 *
 * ```ts
 * await runCheck(async ({ signal }) => {
 *   const cfg = await loadCheckConfig<{ url: string }>('my_check');
 *   return { state: 'healthy', details: { checked: cfg?.url } };
 * });
 * ```
 */
export { inputDir, outputDir, metadataDir, INPUT_DIR_ENV, OUTPUT_DIR_ENV, METADATA_DIR_ENV } from './dirs.js';
export { readInput, INPUT_FILE, DEFAULT_MAX_INPUT_BYTES, type ReadInputOptions } from './input.js';
export {
  writeStatus,
  serializeStatus,
  HEALTH_STATES,
  STATUS_FILE,
  DEFAULT_MAX_STATUS_BYTES,
  TERMINATION_MESSAGE_BYTES,
  type HealthState,
  type CheckResult,
  type WriteStatusOptions,
} from './status.js';
export {
  loadCheckConfig,
  findCheckConfig,
  envString,
  envInt,
  envBool,
  envList,
  CheckConfigError,
  CHECK_CONFIG_ENV,
  type ConfigIssue,
  type IntRange,
  type LoadCheckConfigOptions,
  type EnvSource,
} from './config.js';
export { isPlainObject, describeType } from './yaml.js';
export { runCheck, type CheckContext, type CheckFunction, type RunCheckOptions } from './run.js';
export { defineCheckPlugin, type CheckPlugin, type CheckPluginContext, type PluginLogger } from './plugin.js';

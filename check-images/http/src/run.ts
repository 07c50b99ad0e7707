/**
 * The HTTP check's one entry for the image's main and the in-process plugin: a watching
 * run when the configuration has a `duration`, else one round of probes.
 */
import type { CheckResult } from '../../sdk/src/index.js';
import { runHttpCheck, type RunHttpCheckOptions } from './check.js';
import type { HttpCheckConfig } from './config.js';
import { runHttpWatch } from './watch.js';

export function runHttp(config: HttpCheckConfig, opts: RunHttpCheckOptions = {}): Promise<CheckResult> {
  return config.watch ? runHttpWatch(config, opts) : runHttpCheck(config, opts);
}

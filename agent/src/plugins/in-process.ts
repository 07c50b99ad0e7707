/**
 * Runs one workflow container in-process through a plugin, with the same contract as a
 * process: the input is read from the run directory's object.yaml, the config is looked
 * up as a check process would (VIGIL_CHECK_CONFIG in the container's env, then the
 * input, then its spec), and the result is written as output/health-status.yaml by the
 * SDK's writeStatus, so the runtime reads and maps it exactly as an image's output.
 *
 * What a process would print on failure goes to the captured stderr, with the exit code
 * it would have: 1 when the plugin threw or returned an invalid result. On timeout or
 * abort the plugin's signal is aborted and the container ends at once (exit code null,
 * signal SIGKILL, as a killed process), whether or not the plugin has returned yet.
 */
import type { Logger } from 'pino';
import { DEFAULT_MAX_STATUS_BYTES, findCheckConfig, readInput, writeStatus, type CheckPlugin, type CheckResult } from '../../../check-images/sdk/src/index.js';
import type { CapturedOutput } from '../core/interfaces.js';

export interface PluginContainerSpec {
  plugin: CheckPlugin;
  /** The container's environment (the KRATIX_* directories point at the run directory). */
  env: ReadonlyMap<string, string>;
  inputDir: string;
  outputDir: string;
  /** Cancellation of the run: `onCancel` registers what to do on timeout/abort, `clear` unregisters it. */
  cancel: { onCancel(kill: () => void): void; clear(): void };
  logger: Logger;
  /** The runtime's limit of health-status.yaml; the SDK's own (64 KiB), which an image's runCheck applies, is used when lower. */
  maxOutputBytes: number;
  maxCaptureBytes: number;
}

/** How the plugin "container" ended, shaped like a process's exit. */
export interface PluginExit {
  exitCode: number | null;
  signal: string | null;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
}

const EMPTY: CapturedOutput = { text: '', bytes: 0, truncated: false };

export async function runPluginContainer(spec: PluginContainerSpec): Promise<PluginExit> {
  const controller = new AbortController();
  const cancelledPromise = new Promise<'cancelled'>((resolve) => {
    spec.cancel.onCancel(() => {
      controller.abort(new Error('the run was cancelled (timeout or shutdown)'));
      resolve('cancelled');
    });
  });
  const logger = spec.logger.child({ plugin: spec.plugin.type });
  try {
    const work = (async (): Promise<CheckResult> => {
      const env = Object.fromEntries(spec.env);
      const input = await readInput({ dir: spec.inputDir, missingOk: true });
      const config = findCheckConfig(spec.plugin.configKey, input, env);
      return spec.plugin.run(config, { signal: controller.signal, logger, input, env });
    })();
    const outcome = await Promise.race([work.then((result) => ({ result }), (error: unknown) => ({ error })), cancelledPromise]);
    if (outcome === 'cancelled') {
      // The plugin may go on until it notices its signal; its late result is dropped.
      work.catch(() => undefined);
      return { exitCode: null, signal: 'SIGKILL', stdout: EMPTY, stderr: EMPTY };
    }
    if ('error' in outcome) return failed(outcome.error, spec.maxCaptureBytes);
    try {
      await writeStatus(outcome.result, { dir: spec.outputDir, maxBytes: Math.min(DEFAULT_MAX_STATUS_BYTES, spec.maxOutputBytes) });
    } catch (err) {
      return failed(err, spec.maxCaptureBytes);
    }
    return { exitCode: 0, signal: null, stdout: EMPTY, stderr: EMPTY };
  } finally {
    spec.cancel.clear();
  }
}

/** Exit code 1 with the error message on stderr, as the SDK's runCheck does in a process. */
function failed(err: unknown, maxCaptureBytes: number): PluginExit {
  const message = `${err instanceof Error ? err.message : String(err)}\n`;
  const bytes = Buffer.byteLength(message, 'utf8');
  const text = bytes > maxCaptureBytes ? Buffer.from(message, 'utf8').subarray(0, maxCaptureBytes).toString('utf8') : message;
  return { exitCode: 1, signal: null, stdout: EMPTY, stderr: { text, bytes, truncated: bytes > maxCaptureBytes } };
}

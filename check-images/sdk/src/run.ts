/**
 * The `main` of a check: run the check function, write health-status.yaml, exit.
 */
import { writeStatus, type CheckResult, type WriteStatusOptions } from './status.js';

export interface CheckContext {
  /** Aborted when the process receives SIGTERM or SIGINT. */
  signal: AbortSignal;
}

export type CheckFunction = (ctx: CheckContext) => CheckResult | Promise<CheckResult>;

export interface RunCheckOptions extends WriteStatusOptions {
  /** Ends the process (default process.exit); injectable for tests. */
  exit?: (code: number) => void;
  /** Where failures are reported (default process.stderr). */
  stderr?: { write(text: string): unknown };
}

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGTERM: 143, SIGINT: 130 };

/**
 * Runs `fn` and writes its result. Exit codes: 0 after the status was written; 1 when
 * `fn` threw or the result was invalid (nothing is written, the error message goes to
 * stderr, and vigil records `unknown` with reason ExitCode); 143/130 on SIGTERM/SIGINT,
 * at once, without writing.
 */
export async function runCheck(fn: CheckFunction, opts: RunCheckOptions = {}): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const stderr = opts.stderr ?? process.stderr;
  const controller = new AbortController();
  const stoppedBySignal = (): boolean => controller.signal.aborted;
  const finish = (code: number): void => {
    for (const name of Object.keys(SIGNAL_EXIT_CODES)) process.removeListener(name, onSignal);
    exit(code);
  };
  const onSignal = (name: NodeJS.Signals): void => {
    controller.abort(new Error(`check stopped by ${name}`));
    stderr.write(`check stopped by ${name}\n`);
    finish(SIGNAL_EXIT_CODES[name] ?? 1);
  };
  for (const name of Object.keys(SIGNAL_EXIT_CODES)) process.on(name, onSignal);

  try {
    const result = await fn({ signal: controller.signal });
    if (stoppedBySignal()) return;
    await writeStatus(result, opts);
  } catch (err) {
    if (stoppedBySignal()) return;
    stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    finish(1);
    return;
  }
  if (!stoppedBySignal()) finish(0);
}

/**
 * Result mapping: what a run produced (exit codes, health-status.yaml, timeout, start
 * failure) becomes a state plus details. A check that broke is never confused with a
 * target that is down: it yields state `unknown` and `details.error.reason` from the
 * reason vocabulary. Pure.
 */
import type { ContainerOutcome, RunOutcome } from './interfaces.js';
import type { ExitCodeMode, HealthState } from './model.js';
import { REASONS, type ReasonCode } from './reasons.js';
import { parseHealthStatus, HEALTH_STATUS_FILE } from './health-status.js';
import { nagiosState, parsePluginOutput } from './nagios.js';

export interface RunResult {
  state: HealthState;
  details: Record<string, unknown>;
  /** Set when the check itself failed; mirrors details.error.reason. */
  reason?: ReasonCode;
  /** One-line summary for logs and status. */
  message?: string;
  /** Where the state came from. */
  source: 'file' | 'exitCode' | 'report' | 'error';
}

/** A Kuberhealthy-style report (`{OK, Errors}`) the check posted to KH_REPORTING_URL during its run. */
export interface CheckReport {
  ok: boolean;
  errors: string[];
}

export interface MapOptions {
  exitCodeMode?: ExitCodeMode;
  /** The run's time limit, for the Timeout message. */
  timeoutSeconds?: number;
  /** Limit for health-status.yaml (the runtime refuses bigger files before this is reached). */
  maxOutputBytes?: number;
  /** The report the check posted during the run, if any: it wins over exit codes and timeouts when no file was written. */
  report?: CheckReport;
  /** The check is Kuberhealthy-style: without a report or a file the run is `NoReport` rather than `MissingOutput`/`Timeout`. */
  expectReport?: boolean;
}

const MAX_MESSAGE = 1024;

/**
 * Maps a finished run to a result. Precondition: the run was not aborted (an aborted run,
 * e.g. on agent shutdown, produces no record at all).
 */
export function mapOutcome(outcome: RunOutcome, options: MapOptions = {}): RunResult {
  const mode = options.exitCodeMode ?? 'Error';
  const last = outcome.containers.at(-1);

  if (outcome.startFailure) {
    const reason = outcome.startFailure.reason ?? REASONS.StartFailed;
    return failure(reason, outcome.startFailure.message, { ...(outcome.startFailure.container ? { container: outcome.startFailure.container } : {}) });
  }
  if (options.report && outcome.output.kind !== 'present') return fromReport(options.report);
  if (options.expectReport === true && outcome.output.kind === 'missing' && (outcome.timedOut || (last !== undefined && outcome.containers.every((c) => c.exitCode === 0)))) {
    const why = outcome.timedOut ? `before its deadline (timeout${options.timeoutSeconds !== undefined ? ` of ${options.timeoutSeconds}s` : ''})` : `and container "${last?.name ?? '?'}" exited 0`;
    return failure(REASONS.NoReport, `the Kuberhealthy-style check did not report to KH_REPORTING_URL ${why}, and wrote no ${HEALTH_STATUS_FILE}`, last ? { container: last.name } : {});
  }
  if (outcome.timedOut) {
    const limit = options.timeoutSeconds !== undefined ? ` of ${options.timeoutSeconds}s` : '';
    const running = last ? ` while container "${last.name}" was running` : '';
    return failure(REASONS.Timeout, `run exceeded its timeout${limit}${running}; its processes were killed`, last ? { container: last.name } : {});
  }
  if (!last) {
    return failure(REASONS.StartFailed, 'the workflow has no containers to run (spec.workflow.spec.containers)', {});
  }

  const failed = outcome.containers.find((c) => c.exitCode !== 0);
  const file = outcome.output;

  if (mode === 'Nagios') {
    if (file.kind === 'present') return fromFile(file.content, options);
    if (file.kind === 'refused') return failure(REASONS.InvalidOutput, file.message, { container: last.name });
    const decisive = failed ?? last;
    if (decisive.exitCode === null) return exitFailure(decisive);
    const { message, perfdata } = parsePluginOutput(decisive.stdout.text);
    const state = nagiosState(decisive.exitCode);
    if (decisive.exitCode > 3) {
      return failure(REASONS.ExitCode, `container "${decisive.name}" exited with code ${decisive.exitCode}, which is not a Nagios state (0-3)${tail(decisive)}`, {
        container: decisive.name,
        exitCode: decisive.exitCode,
      });
    }
    const details: Record<string, unknown> = { exitCode: decisive.exitCode };
    if (message) details.message = truncate(message);
    if (perfdata.length > 0) details.perfdata = perfdata;
    return { state, details, source: 'exitCode', ...(message ? { message: truncate(message) } : {}) };
  }

  if (failed) return exitFailure(failed);
  if (file.kind === 'present') return fromFile(file.content, options);
  if (file.kind === 'refused') return failure(REASONS.InvalidOutput, file.message, { container: last.name });
  return failure(
    REASONS.MissingOutput,
    `container "${last.name}" exited 0 but wrote no ${HEALTH_STATUS_FILE} to the output directory (/kratix/output)`,
    { container: last.name },
  );
}

function fromFile(content: string, options: MapOptions): RunResult {
  const parsed = parseHealthStatus(content, options.maxOutputBytes);
  if (!parsed.ok) return failure(REASONS.InvalidOutput, parsed.message, {});
  return { state: parsed.status.state, details: { ...(parsed.status.details ?? {}) }, source: 'file' };
}

function fromReport(report: CheckReport): RunResult {
  if (report.ok) return { state: 'healthy', details: {}, source: 'report' };
  const errors = report.errors.map(truncate);
  return { state: 'unhealthy', details: { errors }, message: truncate(errors.join('; ')), source: 'report' };
}

function exitFailure(c: ContainerOutcome): RunResult {
  if (c.exitCode === null) {
    return failure(REASONS.ExitCode, `container "${c.name}" was killed by signal ${c.signal ?? 'unknown'}${tail(c)}`, {
      container: c.name,
      ...(c.signal ? { signal: c.signal } : {}),
    });
  }
  return failure(REASONS.ExitCode, `container "${c.name}" exited with code ${c.exitCode}${tail(c)}`, { container: c.name, exitCode: c.exitCode });
}

function failure(reason: ReasonCode, message: string, extra: Record<string, unknown>): RunResult {
  const msg = truncate(message);
  return { state: 'unknown', details: { error: { reason, message: msg, ...extra } }, reason, message: msg, source: 'error' };
}

/** The last non-empty lines of stderr (or stdout), to explain a failure. */
function tail(c: ContainerOutcome): string {
  const text = c.stderr.text.trim() || c.stdout.text.trim();
  if (!text) return '';
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return `: ${lines.slice(-3).join(' | ')}`;
}

function truncate(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s;
}

/**
 * The watching run of the HTTP check, for chaos experiments: every target is probed
 * every `interval` for `duration`, and each target's history is kept as Krkn-style
 * windows `{url, status, status_code, start_timestamp, end_timestamp, duration}`: a
 * window closes, and the next opens, whenever the target's status or status code
 * changes. Downtime per target is the total duration of its failed windows.
 *
 * `watchTargets` is the reusable core (no file I/O); `runHttpWatch` turns its report
 * into a check result that fits health-status.yaml.
 */
import { serializeStatus, type CheckResult, type HealthState } from '../../sdk/src/index.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_STATUS_BYTES, evaluateTarget, type TargetReport } from './check.js';
import type { HttpCheckConfig, HttpTarget } from './config.js';
import { probe } from './probe.js';

/**
 * One period during which a target answered the same way. `status_code` is always a
 * string: the HTTP status code, or "000" (as curl prints) when no response arrived.
 * Timestamps are ISO 8601 in UTC; `duration` is in seconds (millisecond precision).
 */
export interface StatusWindow {
  url: string;
  status: boolean;
  status_code: string;
  start_timestamp: string;
  end_timestamp: string;
  duration: number;
}

/** The watch's summary of one target. */
export interface TargetWatch {
  url: string;
  probes: number;
  failed_probes: number;
  /** Seconds spent in failed windows. */
  downtime_seconds: number;
  /** Every window of this target, in order. */
  windows: StatusWindow[];
  /** The last probe's report. */
  last?: TargetReport;
}

export interface WatchReport {
  start_timestamp: string;
  end_timestamp: string;
  /** Every target, in configuration order. */
  targets: TargetWatch[];
  /** All windows of all targets, ordered by start then target order. */
  windows: StatusWindow[];
  /** True when the watch was stopped by its signal before the duration was over. */
  stopped: boolean;
}

export interface WatchOptions {
  intervalMs: number;
  durationMs: number;
  /** Ends the watch early; open windows are closed at that moment and the report is returned (not rejected). */
  signal?: AbortSignal;
  /** Called as each window closes (on a change, and at the end for the open ones). */
  onWindow?: (window: StatusWindow) => void;
  /** Called after every probe. */
  onProbe?: (report: TargetReport) => void;
  /** Wall clock for timestamps and certificate expiry (default Date). */
  clock?: { now(): number };
  maxBodyBytes?: number;
}

/** "000": the status code of a probe that got no response. */
export const NO_RESPONSE_CODE = '000';

/**
 * Probes every target every `intervalMs` until `durationMs` has passed (or `signal`
 * aborts). Each target has its own cadence: a probe slower than the interval delays
 * only its own target, and missed ticks are skipped, not bunched.
 */
export async function watchTargets(targets: readonly HttpTarget[], opts: WatchOptions): Promise<WatchReport> {
  if (!(opts.intervalMs > 0) || !(opts.durationMs > 0)) throw new Error('watchTargets: intervalMs and durationMs must be above 0');
  const clock = opts.clock ?? Date;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const startedAt = clock.now();
  const endAt = startedAt + opts.durationMs;
  const stop = new AbortController();
  const onAbort = (): void => {
    stop.abort();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const timer = setTimeout(onAbort, opts.durationMs);

  const tracks = targets.map((target) => new Track(target.displayUrl, opts.onWindow));
  try {
    await Promise.all(
      targets.map(async (target, i) => {
        const track = tracks[i]!;
        let next = startedAt;
        while (!stop.signal.aborted && clock.now() < endAt) {
          const at = clock.now();
          const result = await probe(target, { maxBodyBytes, signal: stop.signal });
          // A probe cut short by the end of the watch says nothing about the target.
          if (isAborted(stop.signal) && result.error === 'aborted') break;
          const report = evaluateTarget(target, result, clock.now());
          track.observe(at, report);
          opts.onProbe?.(report);
          next += opts.intervalMs;
          const now = clock.now();
          if (next <= now) next += Math.ceil((now - next + 1) / opts.intervalMs) * opts.intervalMs;
          if (next >= endAt) break;
          await sleep(next - now, stop.signal);
        }
      }),
    );
    // The last probe may come well before the end: the windows still run to the end.
    if (!stop.signal.aborted) await sleep(endAt - clock.now(), stop.signal);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const stopped = opts.signal?.aborted === true;
  // Timers run on the monotonic clock and may fire a millisecond before the wall clock reaches endAt.
  const finishedAt = stopped ? clock.now() : Math.max(clock.now(), endAt);
  for (const track of tracks) track.close(finishedAt);
  const windows = tracks
    .flatMap((track, order) => track.windows.map((w) => ({ w, order })))
    .sort((a, b) => a.w.start_timestamp.localeCompare(b.w.start_timestamp) || a.order - b.order)
    .map(({ w }) => w);
  return {
    start_timestamp: iso(startedAt),
    end_timestamp: iso(finishedAt),
    targets: tracks.map((t) => t.summary()),
    windows,
    stopped,
  };
}

/** The open window and history of one target. */
class Track {
  readonly windows: StatusWindow[] = [];
  private open: { status: boolean; code: string; start: number } | undefined;
  private probes = 0;
  private failed = 0;
  private downtimeMs = 0;
  private last: TargetReport | undefined;

  constructor(
    private readonly url: string,
    private readonly onWindow?: (window: StatusWindow) => void,
  ) {}

  observe(at: number, report: TargetReport): void {
    this.probes += 1;
    if (!report.ok) this.failed += 1;
    this.last = report;
    const code = report.status_code === null ? NO_RESPONSE_CODE : String(report.status_code);
    if (this.open && this.open.status === report.ok && this.open.code === code) return;
    this.close(at);
    this.open = { status: report.ok, code, start: at };
  }

  close(at: number): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const end = Math.max(at, open.start);
    if (!open.status) this.downtimeMs += end - open.start;
    const window: StatusWindow = {
      url: this.url,
      status: open.status,
      status_code: open.code,
      start_timestamp: iso(open.start),
      end_timestamp: iso(end),
      duration: (end - open.start) / 1000,
    };
    this.windows.push(window);
    this.onWindow?.(window);
  }

  summary(): TargetWatch {
    return {
      url: this.url,
      probes: this.probes,
      failed_probes: this.failed,
      downtime_seconds: this.downtimeMs / 1000,
      windows: this.windows,
      ...(this.last ? { last: this.last } : {}),
    };
  }
}

export interface RunHttpWatchOptions {
  /** Aborting stops the watch; runHttpWatch then rejects with the abort reason (the run was cancelled). */
  signal?: AbortSignal;
  clock?: { now(): number };
  maxBodyBytes?: number;
  maxStatusBytes?: number;
}

/**
 * A watching run as a check result. State: no target ever failed → healthy; every target
 * failed every probe → unhealthy; otherwise degraded. Details: per target its probes,
 * failed probes, downtime and windows; when they would not fit, the oldest windows are
 * left out first (`windows_omitted` counts them per target).
 */
export async function runHttpWatch(config: HttpCheckConfig, opts: RunHttpWatchOptions = {}): Promise<CheckResult> {
  if (!config.watch) throw new Error('runHttpWatch: the configuration has no duration');
  const report = await watchTargets(config.targets, {
    ...config.watch,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  opts.signal?.throwIfAborted();
  return watchResult(report, config.watch, opts.maxStatusBytes ?? DEFAULT_MAX_STATUS_BYTES);
}

/** Turns a watch report into a result within `maxBytes` of health-status.yaml. Pure. */
export function watchResult(report: WatchReport, watch: { intervalMs: number; durationMs: number }, maxBytes: number): CheckResult {
  const neverFailed = report.targets.every((t) => t.failed_probes === 0);
  const alwaysFailed = report.targets.every((t) => t.probes > 0 && t.failed_probes === t.probes);
  const state: HealthState = neverFailed ? 'healthy' : alwaysFailed ? 'unhealthy' : 'degraded';
  const summary = {
    total: report.targets.length,
    with_downtime: report.targets.filter((t) => t.failed_probes > 0).length,
    interval_seconds: watch.intervalMs / 1000,
    duration_seconds: watch.durationMs / 1000,
    start_timestamp: report.start_timestamp,
    end_timestamp: report.end_timestamp,
    ...(report.stopped ? { stopped: true } : {}),
  };
  const build = (keep: number): Record<string, unknown> => ({
    targets: report.targets.map((t) => {
      const windows = t.windows.slice(Math.max(0, t.windows.length - keep));
      return {
        url: t.url,
        ok: t.failed_probes === 0,
        probes: t.probes,
        failed_probes: t.failed_probes,
        downtime_seconds: t.downtime_seconds,
        windows: windows.map(({ url: _url, ...w }) => w),
        ...(windows.length < t.windows.length ? { windows_omitted: t.windows.length - windows.length } : {}),
      };
    }),
    summary,
  });
  const fits = (details: Record<string, unknown>): boolean =>
    Buffer.byteLength(serializeStatus({ state, details }, Number.POSITIVE_INFINITY), 'utf8') <= maxBytes;
  const most = Math.max(0, ...report.targets.map((t) => t.windows.length));
  if (fits(build(most))) return { state, details: build(most) };
  let low = 0;
  let high = most;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(build(mid))) low = mid;
    else high = mid - 1;
  }
  return { state, details: build(low) };
}

/** Read through a call so that the compiler does not narrow it across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

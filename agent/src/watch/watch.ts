/**
 * The chaos watch (`vigil watch`): the HTTP check's watching run (check-images/http
 * watchTargets: windows and downtime per target) and, with kubevirt_checks, the VM watch
 * (vmi.ts, on the VMI check), with Krkn's signal server up, until the
 * duration elapses, a STOP signal arrives or the caller aborts (SIGINT/SIGTERM). Returns
 * the telemetry report with its exit code (report.ts).
 *
 * Signals follow Krkn's meaning in a chaos run: PAUSE and RUN steer the chaos scenarios
 * (which read `GET /`); the health watch keeps probing through a PAUSE, because downtime
 * during a pause still counts. STOP ends the watch.
 */
import type { Logger } from 'pino';
import { watchTargets, type StatusWindow } from '../../../check-images/http/src/watch.js';
import { SignalControl, type SignalState } from '../control/signals.js';
import { SignalServer } from '../control/signal-server.js';
import type { TokenAuth } from '../server/auth.js';
import type { WatchConfig } from './config.js';
import { buildTelemetry, type WatchTelemetry } from './report.js';
import { watchVmis, type VirtWatchReport } from './vmi.js';

/** The longest duration a timer can wait (about 24.8 days): "until STOP". */
export const UNTIL_STOPPED_MS = 2 ** 31 - 1;

export interface WatchRunOptions {
  config: WatchConfig;
  /** Undefined: until STOP (or the caller aborts). */
  durationMs?: number;
  intervalMs: number;
  /** Between VM rounds; default kubevirt_checks.interval. */
  vmIntervalMs?: number;
  criticalDowntimeSeconds?: number;
  /** The Krkn signal listener; undefined: none. */
  signalServer?: { host: string; port: number; auth?: TokenAuth; requireTokenForReads?: boolean };
  initialSignal: SignalState;
  logger: Logger;
  /** Aborted with 'SIGINT' or 'SIGTERM' as its reason by the CLI. */
  abort?: AbortSignal;
  /** Told the signal server's URL once it listens. */
  onListening?: (url: string) => void;
}

export async function runWatch(o: WatchRunOptions): Promise<WatchTelemetry> {
  const signals = new SignalControl(o.initialSignal);
  const stop = new AbortController();
  let endedBy: WatchTelemetry['summary']['ended_by'] = 'duration';
  const end = (why: 'STOP' | 'SIGINT' | 'SIGTERM'): void => {
    if (stop.signal.aborted) return;
    endedBy = why;
    stop.abort(why);
  };
  signals.onChange((state, previous, by) => {
    o.logger.info({ state, previous, by }, `signal ${state}`);
    if (state === 'STOP') end('STOP');
  });
  if (o.initialSignal === 'STOP') end('STOP');
  const onAbort = (): void => {
    end(o.abort?.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
  };
  o.abort?.addEventListener('abort', onAbort, { once: true });
  if (o.abort?.aborted) onAbort();

  let server: SignalServer | undefined;
  if (o.signalServer) {
    server = new SignalServer({
      host: o.signalServer.host,
      port: o.signalServer.port,
      signals,
      logger: o.logger,
      ...(o.signalServer.auth ? { auth: o.signalServer.auth } : {}),
      ...(o.signalServer.requireTokenForReads !== undefined ? { requireTokenForReads: o.signalServer.requireTokenForReads } : {}),
    });
    const bound = await server.start();
    o.logger.info({ url: bound.url, state: signals.state }, 'signal listener up (GET /, POST /RUN, /PAUSE, /STOP)');
    o.onListening?.(bound.url);
  }
  const targets = o.config.http?.targets ?? [];
  const kv = o.config.kubevirt;
  const durationMs = Math.min(o.durationMs ?? UNTIL_STOPPED_MS, UNTIL_STOPPED_MS);
  o.logger.info(
    {
      targets: targets.map((t) => t.displayUrl),
      ...(kv ? { vmNamespace: kv.config.namespace, vmIntervalSeconds: kv.intervalSeconds } : {}),
      intervalSeconds: o.intervalMs / 1000,
      durationSeconds: o.durationMs === undefined ? 'until STOP' : o.durationMs / 1000,
    },
    'watch started',
  );
  try {
    const [report, virt] = await Promise.all([
      watchTargets(targets, {
        intervalMs: o.intervalMs,
        durationMs,
        signal: stop.signal,
        onWindow: (w: StatusWindow) => {
          o.logger.info({ url: w.url, status: w.status, status_code: w.status_code, duration: w.duration }, w.status ? 'window closed: up' : 'window closed: DOWN');
        },
      }),
      kv
        ? watchVmis(kv.config, {
            intervalMs: o.vmIntervalMs ?? kv.intervalSeconds * 1000,
            durationMs,
            signal: stop.signal,
            onlyFailures: kv.onlyFailures,
            onRoundError: (message) => { o.logger.warn({ namespace: kv.config.namespace, error: message }, 'VM round judged no VMI'); },
          })
        : Promise.resolve<VirtWatchReport | undefined>(undefined),
    ]);
    return buildTelemetry(report, {
      exitOnFailure: o.config.exitOnFailure,
      intervalSeconds: o.intervalMs / 1000,
      ...(o.criticalDowntimeSeconds !== undefined ? { criticalDowntimeSeconds: o.criticalDowntimeSeconds } : {}),
      endedBy,
      ...(virt && kv ? { virt: { report: virt, exitOnFailure: kv.exitOnFailure } } : {}),
    });
  } finally {
    o.abort?.removeEventListener('abort', onAbort);
    await server?.stop();
  }
}

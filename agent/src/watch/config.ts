/**
 * `vigil watch --config <file>`: reading a Krkn config file (peers.md §4). Only the keys
 * the watch uses are read; the rest of a Krkn config (scenarios, tunings, ...) is ignored:
 * - `health_checks: {interval, config: [{url, bearer_token, auth, verify_url, exit_on_failure}]}`,
 *   validated by the HTTP check's own parser (check-images/http), which also accepts its
 *   extensions (expected_status, timeout, body_contains, ...; `duration` is the default of
 *   --duration);
 * - `kubevirt_checks: {namespace, name, label_selector, interval, only_failures, exit_on_failure, ...}`,
 *   validated by the VMI check's own parser (check-images/vmi); an empty namespace is
 *   skipped, as Krkn does;
 * - `kraken.signal_state`, `kraken.signal_address`, `kraken.port`: the signal server's
 *   initial state and address, overridden by the command line.
 * Pure: a parsed YAML value in, a config or one WatchConfigError listing every problem out.
 */
import { CheckConfigError, isPlainObject } from '../../../check-images/sdk/src/index.js';
import { parseHttpCheckConfig, type HttpCheckConfig } from '../../../check-images/http/src/config.js';
import { parseVmiCheckConfig, type VmiCheckConfig } from '../../../check-images/vmi/src/config.js';
import { isSignalState, type SignalState } from '../control/signals.js';

export const DEFAULT_INTERVAL_SECONDS = 2;
export const DEFAULT_SIGNAL_PORT = 8081;

export interface WatchConfig {
  /** Absent when only kubevirt_checks are watched. */
  http?: HttpCheckConfig;
  /** `exit_on_failure` of each target, in `http.targets` order. */
  exitOnFailure: boolean[];
  /** Seconds between probes of a target (`health_checks.interval`, default 2). */
  intervalSeconds: number;
  /** `health_checks.duration` in seconds, when given. */
  durationSeconds?: number;
  signal: { state?: SignalState; address?: string; port?: number };
  /** Krkn's kubevirt_checks, when given with a namespace. */
  kubevirt?: { config: VmiCheckConfig; intervalSeconds: number; exitOnFailure: boolean; onlyFailures: boolean };
  /** Why a section was skipped, when it was. */
  notes: string[];
}

export class WatchConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'WatchConfigError';
  }
}

/** Validates the Krkn config document; throws WatchConfigError naming every bad field. */
export function parseWatchConfig(doc: unknown): WatchConfig {
  const problems: string[] = [];
  if (!isPlainObject(doc)) throw new WatchConfigError(['the config must be a YAML mapping (a Krkn config file)']);
  const notes: string[] = [];

  let http: HttpCheckConfig | undefined;
  let exitOnFailure: boolean[] = [];
  let intervalSeconds = DEFAULT_INTERVAL_SECONDS;
  const kv = doc.kubevirt_checks;
  let kubevirt: WatchConfig['kubevirt'];
  if (kv !== undefined && kv !== null) {
    if (!isPlainObject(kv)) problems.push('kubevirt_checks: must be a mapping');
    else if (kv.namespace === undefined || kv.namespace === '' || kv.namespace === null) {
      notes.push('kubevirt_checks: no namespace; skipped (as Krkn does)');
    } else {
      try {
        const config = parseVmiCheckConfig(kv, 'kubevirt_checks');
        const interval = typeof kv.interval === 'number' && kv.interval > 0 ? kv.interval : DEFAULT_INTERVAL_SECONDS;
        if (kv.interval !== undefined && !(typeof kv.interval === 'number' && kv.interval > 0)) problems.push('kubevirt_checks.interval: must be a number of seconds above 0');
        if (kv.exit_on_failure !== undefined && typeof kv.exit_on_failure !== 'boolean') problems.push('kubevirt_checks.exit_on_failure: must be true or false');
        kubevirt = { config, intervalSeconds: interval, exitOnFailure: kv.exit_on_failure === true, onlyFailures: config.onlyFailures };
      } catch (err) {
        if (!(err instanceof CheckConfigError)) throw err;
        problems.push(...err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)));
      }
    }
  }

  const hc = doc.health_checks;
  if (hc === undefined || hc === null) {
    if (!kubevirt && !(isPlainObject(kv) && problems.length > 0)) problems.push('health_checks: is required (the URLs to watch), unless kubevirt_checks are given');
  } else {
    try {
      http = parseHttpCheckConfig(hc, 'health_checks');
    } catch (err) {
      if (!(err instanceof CheckConfigError)) throw err;
      problems.push(...err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)));
    }
    const list = isPlainObject(hc) ? hc.config : hc;
    if (Array.isArray(list)) exitOnFailure = list.map((t: unknown) => isPlainObject(t) && t.exit_on_failure === true);
    if (isPlainObject(hc) && typeof hc.interval === 'number' && hc.interval > 0) intervalSeconds = hc.interval;
  }

  const signal: WatchConfig['signal'] = {};
  const kraken = doc.kraken;
  if (kraken !== undefined && kraken !== null) {
    if (!isPlainObject(kraken)) problems.push('kraken: must be a mapping');
    else {
      if (kraken.signal_state !== undefined) {
        if (typeof kraken.signal_state === 'string' && isSignalState(kraken.signal_state.toUpperCase())) {
          signal.state = kraken.signal_state.toUpperCase() as SignalState;
        } else problems.push(`kraken.signal_state: must be RUN, PAUSE or STOP, got ${JSON.stringify(kraken.signal_state)}`);
      }
      if (kraken.signal_address !== undefined) {
        if (typeof kraken.signal_address === 'string' && kraken.signal_address !== '') signal.address = kraken.signal_address;
        else problems.push('kraken.signal_address: must be a host name or address');
      }
      if (kraken.port !== undefined) {
        if (typeof kraken.port === 'number' && Number.isInteger(kraken.port) && kraken.port >= 0 && kraken.port <= 65535) signal.port = kraken.port;
        else problems.push(`kraken.port: must be a port number (0-65535), got ${JSON.stringify(kraken.port)}`);
      }
    }
  }

  if (problems.length > 0 || (!http && !kubevirt)) throw new WatchConfigError(problems);
  return {
    ...(http ? { http } : {}),
    ...(kubevirt ? { kubevirt } : {}),
    exitOnFailure,
    intervalSeconds,
    ...(http?.watch ? { durationSeconds: http.watch.durationMs / 1000 } : {}),
    signal,
    notes,
  };
}

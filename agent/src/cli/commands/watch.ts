/**
 * `vigil watch --config <krkn-config.yaml>`: Krkn's chaos watch mode. Probes the
 * `health_checks` URLs (and `kubevirt_checks` VMs) until --duration elapses or a STOP signal arrives (Krkn's signal
 * server is up meanwhile), then prints the JSON telemetry report (windows and downtime per
 * target) on stdout. Exit 0: all passed; 3: a failure on a target with exit_on_failure;
 * 2: a target was down longer than --critical-downtime; 1: bad config or arguments.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseListen } from '../../config/config.js';
import { parseYamlDocument } from '../../core/yaml.js';
import { parseGoDuration } from '../../khcheck/duration.js';
import { createLogger } from '../../logging/logger.js';
import { TokenAuth, loadToken } from '../../server/auth.js';
import type { SignalState } from '../../control/signals.js';
import { DEFAULT_SIGNAL_PORT, WatchConfigError, parseWatchConfig, type WatchConfig } from '../../watch/config.js';
import { runWatch } from '../../watch/watch.js';
import { fail } from '../util.js';

interface WatchFlags {
  config: string;
  duration?: number;
  interval?: number;
  criticalDowntime?: number;
  signalListen?: string;
  initialSignal?: SignalState;
  tokenFile?: string;
  output?: string;
  logLevel?: string;
}

/** commander parser: seconds (`90`, `2.5`) or a Go duration (`90s`, `5m`, `1h30m`); in seconds. */
export function seconds(value: string): number {
  let s: number;
  if (/^\d+(\.\d+)?$/.test(value)) s = Number(value);
  else {
    try {
      s = parseGoDuration(value) / 1000;
    } catch {
      throw new InvalidArgumentError('must be seconds (e.g. 90) or a duration (e.g. 90s, 5m, 1h)');
    }
  }
  if (!(s > 0)) throw new InvalidArgumentError('must be above 0');
  return s;
}

/** commander parser like `seconds` but 0 is allowed. */
function secondsOrZero(value: string): number {
  return /^0+(\.0+)?$/.test(value) ? 0 : seconds(value);
}

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description("Krkn chaos watch mode: probe health_checks URLs and kubevirt_checks VMs until --duration or a STOP signal, then print the telemetry report")
    .requiredOption('-c, --config <file>', 'Krkn config file (health_checks, kubevirt_checks, kraken.signal_*)')
    .option('--duration <time>', 'how long to watch (seconds or 90s/5m/1h); default: health_checks.duration, else until STOP', seconds)
    .option('--interval <time>', 'between probes of a target or VM (default: health_checks.interval / kubevirt_checks.interval, else 2s)', seconds)
    .option('--critical-downtime <time>', 'exit 2 when any target is down longer than this (continuous)', secondsOrZero)
    .option('--signal-listen <host:port|off>', `Krkn signal server (default: kraken.signal_address:kraken.port, else 127.0.0.1:${DEFAULT_SIGNAL_PORT})`)
    .addOption(new Option('--initial-signal <state>', 'signal state at start (default: kraken.signal_state, else RUN)').choices(['RUN', 'PAUSE']))
    .option('--token-file <file>', 'bearer token for POST /RUN|/PAUSE|/STOP (env VIGIL_TOKEN); required off loopback')
    .option('-o, --output <file>', 'also write the telemetry report to this file')
    .addOption(new Option('--log-level <level>', 'log level of the progress lines on stderr').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .addHelpText(
      'after',
      `
The report (stdout, JSON): health_checks (Krkn's list of windows {url, status, status_code,
start_timestamp, end_timestamp, duration}), targets (per URL: probes, downtime, longest
outage, windows), with kubevirt_checks also virt_checks, post_virt_checks (Krkn's VirtCheck
records) and vms, and summary (exit_code and exit_reason). VMs are found through KUBECONFIG
(or in-cluster credentials).

Exit status: 0 all checks passed; 3 a failure on a target with exit_on_failure: true;
2 critical: a target was down longer than --critical-downtime; 1 bad config or arguments.
SIGINT or SIGTERM ends the watch early and still prints the report.`,
    )
    .action(async (flags: WatchFlags) => {
      process.exitCode = await watch(flags);
    });
}

async function watch(flags: WatchFlags): Promise<number> {
  let config: WatchConfig;
  try {
    config = parseWatchConfig(parseYamlDocument(readFileSync(flags.config, 'utf8')));
  } catch (err) {
    if (err instanceof WatchConfigError) fail(`${flags.config}:\n${err.problems.map((p) => `  ${p}`).join('\n')}`, 1);
    fail(`${flags.config}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 1);
  }
  const logger = createLogger({ destination: process.stderr, ...(flags.logLevel ? { level: flags.logLevel } : {}) });
  for (const n of config.notes) logger.warn(n);

  let signalServer: { host: string; port: number; auth: TokenAuth } | undefined;
  const listen = flags.signalListen ?? `${config.signal.address ?? '127.0.0.1'}:${config.signal.port ?? DEFAULT_SIGNAL_PORT}`;
  if (listen !== 'off') {
    const parsed = parseListen(listen);
    if (!parsed) fail(`--signal-listen: ${JSON.stringify(listen)} is not host:port, [ipv6]:port or off`, 1);
    let auth: TokenAuth;
    try {
      auth = new TokenAuth(loadToken(flags.tokenFile));
    } catch (err) {
      fail(`--token-file: ${(err as Error).message}`, 1);
    }
    signalServer = { ...parsed, auth };
  }

  const abort = new AbortController();
  process.once('SIGINT', () => { abort.abort('SIGINT'); });
  process.once('SIGTERM', () => { abort.abort('SIGTERM'); });
  const durationSeconds = flags.duration ?? config.durationSeconds;
  let telemetry;
  try {
    telemetry = await runWatch({
      config,
      ...(durationSeconds !== undefined ? { durationMs: Math.round(durationSeconds * 1000) } : {}),
      intervalMs: Math.round((flags.interval ?? config.intervalSeconds) * 1000),
      ...(flags.interval !== undefined ? { vmIntervalMs: Math.round(flags.interval * 1000) } : {}),
      ...(flags.criticalDowntime !== undefined ? { criticalDowntimeSeconds: flags.criticalDowntime } : {}),
      ...(signalServer ? { signalServer } : {}),
      initialSignal: flags.initialSignal ?? config.signal.state ?? 'RUN',
      logger,
      abort: abort.signal,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/^(EADDRINUSE|EADDRNOTAVAIL|EACCES)$/.test(code)) fail(`--signal-listen ${listen}: cannot listen (${code}); choose another host:port, or off`, 1);
    fail(`watch failed: ${(err as Error).message}`, 1);
  }
  const text = `${JSON.stringify(telemetry, null, 2)}\n`;
  if (flags.output !== undefined) {
    try {
      writeFileSync(flags.output, text);
    } catch (err) {
      logger.error({ err: (err as Error).message, file: flags.output }, 'cannot write the telemetry report');
    }
  }
  process.stdout.write(text);
  logger.info({ exitCode: telemetry.summary.exit_code, reason: telemetry.summary.exit_reason }, 'watch ended');
  return telemetry.summary.exit_code;
}

/** `vigil agent`: the long-running local agent. */
import { Option, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseListen, type ConfigOverrides } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import { Agent } from '../../agent/Agent.js';
import { Outbox } from '../../records/Outbox.js';
import { buildRuntime, buildSource, buildStore } from '../../agent/build.js';
import { startServerOrExit } from '../../server/start.js';
import { registerDashboard } from '../../server/dashboard/index.js';
import { TokenAuth, loadToken } from '../../server/auth.js';
import { AgentMetrics } from '../../metrics/metrics.js';
import { RunRegistry } from '../../control/runs.js';
import { SignalControl } from '../../control/signals.js';
import { SignalServer } from '../../control/signal-server.js';
import { ReportRegistry } from '../../reporting/ReportRegistry.js';
import { integer, fail } from '../util.js';
import { runKubernetesAgent } from '../../kubernetes/serve.js';

interface AgentFlags {
  config?: string;
  definitions?: string[];
  stateDir?: string;
  dataDir?: string;
  listen?: string;
  destination?: string;
  concurrency?: number;
  spreadSeconds?: number;
  runOnStart?: 'missing' | 'always' | 'never';
  logLevel?: string;
  signalsListen?: string;
  initialSignal?: 'RUN' | 'PAUSE';
  readOnly?: boolean;
  source?: 'directory' | 'kubernetes';
  runtime?: 'local' | 'kubernetes';
  kubeconfig?: string;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the agent: schedule every HealthDefinition found, run checks, write HealthRecords')
    .option('-c, --config <file>', 'agent config file (YAML); env VIGIL_CONFIG')
    .option('-d, --definitions <paths...>', 'directories or files of HealthDefinitions (overrides definitions.paths)')
    .option('-s, --state-dir <dir>', 'fs state store root (overrides store.root)')
    .option('--data-dir <dir>', 'the agent\'s own state, e.g. the outbox of undelivered records (overrides dataDir)')
    .option('-l, --listen <host:port|off>', 'HTTP server address (overrides server.listen)')
    .option('--destination <name>', 'destination name used in record names; env VIGIL_DESTINATION')
    .option('--concurrency <n>', 'maximum runs at once', integer)
    .option('--spread-seconds <n>', 'per-definition spread bound, 0 for exact cron times', integer)
    .addOption(new Option('--run-on-start <policy>', 'run definitions once at start').choices(['missing', 'always', 'never']))
    .addOption(new Option('--log-level <level>', 'log level; env LOG_LEVEL').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .option('--signals-listen <host:port|off>', 'Krkn-compatible signal listener (overrides signals.listen)')
    .addOption(new Option('--initial-signal <state>', 'run signal at start (overrides signals.initialState)').choices(['RUN', 'PAUSE']))
    .option('--read-only', 'no mutating HTTP endpoints (overrides server.readOnly)')
    .addOption(new Option('--source <kind>', 'where definitions come from (overrides definitions.kind)').choices(['directory', 'kubernetes']))
    .addOption(new Option('--runtime <kind>', 'how checks run; kubernetes makes the agent a controller (overrides runtime.kind)').choices(['local', 'kubernetes']))
    .option('--kubeconfig <file>', 'kubeconfig for --source kubernetes (overrides definitions.kubeconfig)')
    .addHelpText('after', '\nSIGTERM or SIGINT drains running checks (up to shutdownGraceSeconds) and exits 0; a second signal exits at once.')
    .action(async (flags: AgentFlags) => {
      await runAgent(flags);
    });
}

async function runAgent(flags: AgentFlags): Promise<void> {
  const overrides: ConfigOverrides = {
    ...(flags.destination ? { destination: flags.destination } : {}),
    ...(flags.definitions ? { definitions: flags.definitions } : {}),
    ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    ...(flags.listen ? { listen: flags.listen } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.spreadSeconds !== undefined ? { spreadSeconds: flags.spreadSeconds } : {}),
    ...(flags.runOnStart ? { runOnStart: flags.runOnStart } : {}),
    ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
    ...(flags.signalsListen ? { signalsListen: flags.signalsListen } : {}),
    ...(flags.initialSignal ? { initialSignal: flags.initialSignal } : {}),
    ...(flags.readOnly === true ? { readOnly: true } : {}),
    ...(flags.source ? { source: flags.source } : {}),
    ...(flags.runtime ? { runtime: flags.runtime } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
  };
  let loaded;
  try {
    loaded = loadConfig(flags.config, overrides);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  const { config, warnings } = loaded;
  const logger = createLogger(config.log.level ? { level: config.log.level } : {});
  for (const w of warnings) logger.warn(w);

  let store;
  try {
    store = buildStore(config, logger);
  } catch (err) {
    fail(`${config.source}: ${(err as Error).message}`, 2);
  }
  let auth: TokenAuth;
  try {
    auth = new TokenAuth(loadToken(config.server.tokenFile));
  } catch (err) {
    fail(`${config.source}: ${(err as Error).message}`, 2);
  }
  if (config.runtime.kind === 'kubernetes') {
    await runKubernetesAgent(config, logger, store, auth);
    return;
  }
  const signals = new SignalControl(config.signals.initialState);
  const runs = new RunRegistry();
  const reports = new ReportRegistry();
  const agent = new Agent({
    source: buildSource(config, logger),
    runtime: buildRuntime(config.runtime, logger),
    store,
    logger,
    destination: config.destination,
    concurrency: config.scheduler.concurrency,
    spreadSeconds: config.scheduler.spreadSeconds,
    runOnStart: config.scheduler.runOnStart,
    defaultTimeZone: config.scheduler.defaultTimeZone,
    defaultTimeoutSeconds: config.runtime.defaultTimeoutSeconds,
    outbox: new Outbox({ dir: join(config.dataDir, 'outbox'), logger }),
    runs,
    reports,
    signals,
    observer: {
      // Runs finish only after start(), when `metrics` below exists.
      runFinished: (ns, name, run) => { metrics.runFinished(ns, name, run); },
      definitionRemoved: (ns, name) => { metrics.definitionRemoved(ns, name); },
    },
  });
  const metrics = new AgentMetrics({ provider: agent, signalState: () => signals.state });

  const started = await startServerOrExit(
    config,
    logger,
    { provider: agent, auth, metrics, reports, signals, dashboard: (app) => { registerDashboard(app); } },
    '/healthz, /readyz, /api/v1/status',
  );
  const server = started?.server;
  if (started) agent.setAgentUrl(started.url);
  let signalServer: SignalServer | undefined;
  const signalsListen = config.signals.listen === 'off' ? undefined : parseListen(config.signals.listen);
  if (signalsListen) {
    signalServer = new SignalServer({ ...signalsListen, signals, logger, auth, requireTokenForReads: config.server.requireTokenForReads });
    try {
      const bound = await signalServer.start();
      logger.info({ url: bound.url, state: signals.state }, 'signal listener up (GET /, POST /RUN, /PAUSE, /STOP)');
    } catch (err) {
      logger.fatal({ err: (err as Error).message, listen: config.signals.listen }, 'cannot start the signal listener; set signals.listen (or "off")');
      logger.flush();
      process.exit(2);
    }
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down: waiting for running checks');
    void (async () => {
      await agent.stop(config.shutdownGraceSeconds * 1000);
      if (signal === 'STOP') writeFinalReport(config.dataDir, agent.summary(), logger);
      await signalServer?.stop();
      await server?.stop();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    })();
  };
  signals.onChange((state) => { if (state === 'STOP') shutdown('STOP'); });
  process.on('SIGTERM', () => { shutdown('SIGTERM'); });
  process.on('SIGINT', () => { shutdown('SIGINT'); });

  logger.info({ config: config.source, destination: config.destination, definitions: config.definitions.paths }, 'starting vigil agent');
  await agent.start();
  logger.info({ records: join(store.describe(), '<namespace>', '<definition>-' + config.destination + '.yaml') }, `HealthRecords are written to ${store.describe()}`);
}

/** The STOP signal's final report: the agent's summary after draining, as JSON in the data dir and in the log. */
function writeFinalReport(dataDir: string, summary: unknown, logger: ReturnType<typeof createLogger>): void {
  const report = { stoppedAt: new Date().toISOString(), reason: 'STOP signal', summary };
  const file = join(dataDir, 'final-report.json');
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  } catch (err) {
    logger.error({ err: (err as Error).message, file }, 'cannot write the final report');
  }
  logger.info({ finalReport: report, file }, 'final report');
}

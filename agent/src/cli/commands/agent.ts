/** `vigil agent`: the long-running local agent. */
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { loadConfig, parseListen, type ConfigOverrides } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import { Agent } from '../../agent/Agent.js';
import { Outbox } from '../../agent/Outbox.js';
import { buildRuntime, buildSource, buildStore } from '../../agent/build.js';
import { AgentServer } from '../../server/server.js';
import { integer, fail } from '../util.js';

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
  });

  let server: AgentServer | undefined;
  const listen = config.server.listen === 'off' ? undefined : parseListen(config.server.listen);
  if (listen) {
    server = new AgentServer({ ...listen, provider: agent, logger });
    try {
      const bound = await server.start();
      agent.setAgentUrl(bound.url);
      logger.info({ url: bound.url }, 'HTTP server listening (/healthz, /readyz, /api/v1/status)');
    } catch (err) {
      logger.fatal({ err: (err as Error).message, listen: config.server.listen }, 'cannot start the HTTP server; set server.listen or --listen (or "off")');
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
      await server?.stop();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => { shutdown('SIGTERM'); });
  process.on('SIGINT', () => { shutdown('SIGINT'); });

  logger.info({ config: config.source, destination: config.destination, definitions: config.definitions.paths }, 'starting vigil agent');
  await agent.start();
  logger.info({ records: join(store.describe(), '<namespace>', '<definition>-' + config.destination + '.yaml') }, `HealthRecords are written to ${store.describe()}`);
}

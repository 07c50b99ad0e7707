/**
 * `vigil run <file>`: runs one definition now and prints its HealthRecord. Every container
 * gets the KH_* environment and a loopback reporting URL served for the run's duration, so an
 * unmodified Kuberhealthy check runs here as it does under the agent.
 */
import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadConfig, type AgentConfig } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import { getDefinitionValidator } from '../../crds.js';
import { definitionsFromText } from '../../core/documents.js';
import { formatIssue } from '../../core/issues.js';
import { mapOutcome } from '../../core/result.js';
import { buildHealthRecord } from '../../core/record.js';
import { toYaml } from '../../core/yaml.js';
import type { HealthState } from '../../core/model.js';
import { buildRuntime } from '../../agent/build.js';
import { ReportRegistry } from '../../reporting/ReportRegistry.js';
import { khEnv, startReportListener, type ReportListener } from '../../reporting/listener.js';
import { expectsReport } from '../../reporting/protocol.js';
import { fail, integer } from '../util.js';

interface RunFlags {
  name?: string;
  namespace: string;
  config?: string;
  destination?: string;
  output: 'yaml' | 'json';
  timeout?: number;
  env: string[];
  logLevel?: string;
}

/** Exit status by state: 0 healthy/ready, 1 degraded, 2 unhealthy, 3 unknown (as Nagios). */
export const EXIT_BY_STATE: Record<HealthState, number> = { healthy: 0, ready: 0, degraded: 1, unhealthy: 2, unknown: 3 };

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one HealthDefinition now and print the resulting HealthRecord')
    .argument('<file>', 'a manifest file holding the definition')
    .option('--name <name>', 'which definition to run when the file holds several')
    .option('-n, --namespace <ns>', 'namespace assumed for definitions that set none', 'default')
    .option('-c, --config <file>', 'agent config file whose runtime section to use (image mappings, engine...)')
    .option('--destination <name>', 'destination name in the record name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--timeout <seconds>', 'override the run time limit', integer)
    .option('-e, --env <NAME=VALUE>', 'extra environment offered to the containers (repeatable), e.g. VIGIL_AGENT_URL=http://127.0.0.1:7723', collect, [])
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('warn'))
    .addHelpText(
      'after',
      '\nKuberhealthy-style checks get KH_REPORTING_URL, KH_RUN_UUID, KH_CHECK_RUN_DEADLINE and KH_POD_NAMESPACE; their reports go to a loopback port open for the run.' +
        '\nExit status: 0 healthy or ready, 1 degraded, 2 unhealthy, 3 unknown or invalid input (Nagios convention).',
    )
    .action(async (file: string, flags: RunFlags) => {
      process.exitCode = await run(file, flags);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function run(file: string, flags: RunFlags): Promise<number> {
  let config: AgentConfig;
  try {
    config = loadConfig(flags.config, flags.destination ? { destination: flags.destination } : {}).config;
  } catch (err) {
    fail((err as Error).message, 3);
  }
  const extraEnv: Record<string, string> = {};
  for (const pair of flags.env) {
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`--env ${pair}: expected NAME=VALUE`, 3);
    extraEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    fail(`${file}: ${(err as Error).message}`, 3);
  }
  const contents = definitionsFromText(text, { validator: getDefinitionValidator(), defaultNamespace: flags.namespace });
  const candidates = contents.accepted.filter((a) => flags.name === undefined || a.definition.metadata.name === flags.name);
  const broken = contents.problems.filter((p) => flags.name === undefined || p.key?.endsWith(`/${flags.name}`));
  if (candidates.length !== 1) {
    for (const p of broken) for (const i of p.issues) process.stderr.write(`${file}: ${formatIssue(p.object, i)}\n`);
    if (candidates.length === 0) fail(flags.name ? `${file}: no valid definition named "${flags.name}"` : `${file}: no valid HealthDefinition found`, 3);
    fail(`${file} holds ${candidates.length} definitions (${candidates.map((c) => c.definition.metadata.name).join(', ')}); choose one with --name`, 3);
  }
  const { definition, warnings, key } = candidates[0]!;
  for (const w of warnings) process.stderr.write(`${file}: ${formatIssue(key, w)}\n`);

  const logger = createLogger({ level: flags.logLevel ?? 'warn', destination: process.stderr });
  const runtime = buildRuntime(config.runtime, logger);
  const abort = new AbortController();
  process.once('SIGINT', () => { abort.abort(); });
  process.once('SIGTERM', () => { abort.abort(); });
  const timeoutSeconds = flags.timeout ?? definition.spec.timeoutSeconds ?? config.runtime.defaultTimeoutSeconds;
  const runId = randomUUID();
  // Kuberhealthy-style checks report to KH_REPORTING_URL: the agent's report routes, on a loopback port for this run only.
  const reports = new ReportRegistry();
  let listener: ReportListener;
  try {
    listener = await startReportListener({ reports, logger });
  } catch (err) {
    fail(`cannot open the loopback reporting endpoint for Kuberhealthy-style checks: ${(err as Error).message}`, 3);
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  reports.openRun({ runId, namespace: definition.metadata.namespace, name: definition.metadata.name, deadline });
  let outcome;
  let report;
  try {
    outcome = await runtime.run({
      runId,
      definition,
      timeoutMs: timeoutSeconds * 1000,
      env: { ...khEnv(listener.url, { runId, namespace: definition.metadata.namespace, deadline }), ...extraEnv },
      signal: abort.signal,
      logger,
    });
  } finally {
    await runtime.close?.();
    report = reports.closeRun(runId);
    await listener.close();
  }
  if (outcome.aborted) fail('interrupted', 130);
  const result = mapOutcome(outcome, {
    exitCodeMode: definition.spec.exitCodeMode ?? 'Error',
    timeoutSeconds,
    ...(report ? { report } : {}),
    expectReport: expectsReport(definition.metadata.annotations),
  });
  const record = buildHealthRecord({ definition, destination: config.destination, state: result.state, details: result.details, finishedAt: outcome.finishedAt });
  process.stdout.write(flags.output === 'json' ? `${JSON.stringify(record, null, 2)}\n` : toYaml(record));
  return EXIT_BY_STATE[result.state];
}

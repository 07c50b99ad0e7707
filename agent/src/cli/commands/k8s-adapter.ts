/**
 * `vigil k8s-adapter`: runs inside a check pod as its last container (Kubernetes mode). Reads
 * /kratix/output/health-status.yaml and carries the result out of the pod: the container's
 * termination message, then a HealthState object named after the Job (ADR 0013). Who it
 * reports for comes from the environment the CronJob's pod template sets (downward API).
 */
import type { Command } from 'commander';
import { ADAPTER_ENV } from '../../kubernetes/resources/pod.js';
import { runAdapter, type AdapterIdentity } from '../../kubernetes/transport/adapter.js';
import { startKhReporter } from '../../kubernetes/transport/kh-reporter.js';
import { parseListen } from '../../config/config.js';
import { loadKubeConfig } from '../../kubernetes/client.js';
import { createLogger } from '../../logging/logger.js';
import { fail, integer } from '../util.js';

interface AdapterFlags {
  outputDir: string;
  terminationLog: string;
  maxOutputBytes?: number;
  maxDetailsBytes?: number;
  kubeconfig?: string;
  api: boolean;
  logLevel?: string;
  khListen?: string;
  khReportFile?: string;
  khTimeoutSeconds?: number;
}

/** The adapter's identity from its environment; throws naming the missing variables. */
export function identityFromEnv(env: NodeJS.ProcessEnv): AdapterIdentity {
  const required = [ADAPTER_ENV.namespace, ADAPTER_ENV.jobName, ADAPTER_ENV.jobUid, ADAPTER_ENV.podName, ADAPTER_ENV.podUid, ADAPTER_ENV.definition, ADAPTER_ENV.promiseName];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing environment variables: ${missing.join(', ')} (they are set by the CronJob vigil creates)`);
  const resourceName = env[ADAPTER_ENV.resourceName];
  const resourceNamespace = env[ADAPTER_ENV.resourceNamespace];
  return {
    namespace: env[ADAPTER_ENV.namespace]!,
    jobName: env[ADAPTER_ENV.jobName]!,
    jobUid: env[ADAPTER_ENV.jobUid]!,
    podName: env[ADAPTER_ENV.podName]!,
    podUid: env[ADAPTER_ENV.podUid]!,
    definition: env[ADAPTER_ENV.definition]!,
    definitionUid: env[ADAPTER_ENV.definitionUid] ?? '',
    promiseRef: { name: env[ADAPTER_ENV.promiseName]! },
    ...(resourceName && resourceNamespace ? { resourceRef: { name: resourceName, namespace: resourceNamespace } } : {}),
  };
}

export function registerK8sAdapter(program: Command): void {
  program
    .command('k8s-adapter')
    .description('(inside a check pod) carry health-status.yaml out as a HealthState and the termination message')
    .option('--output-dir <dir>', 'the Kratix output directory', '/kratix/output')
    .option('--termination-log <file>', "the container's termination message file", '/dev/termination-log')
    .option('--max-output-bytes <n>', 'limit of health-status.yaml', integer)
    .option('--max-details-bytes <n>', 'budget of details in the HealthState (truncated with a marker beyond it)', integer)
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, then the in-cluster service account)')
    .option('--no-api', 'write the termination message only')
    .option('--log-level <level>', 'log level', 'info')
    .option('--kh-report-file <file>', 'Kuberhealthy-style check: the report stored by the pod-local reporter')
    .option('--kh-listen <host:port>', 'run as the pod-local Kuberhealthy reporting endpoint (a sidecar) until SIGTERM')
    .option('--kh-timeout-seconds <n>', 'with --kh-listen: reports are refused (410) this long after start', integer)
    .addHelpText('after', '\nExit status: 0 when the result left the pod by at least one transport, 1 otherwise.\nWith --kh-listen: 0 on SIGTERM, 2 when it cannot listen.')
    .action(async (flags: AdapterFlags) => {
      const logger = createLogger({ level: flags.logLevel ?? 'info', pretty: false });
      if (flags.khListen !== undefined) {
        await runKhReporter(flags, logger);
        return;
      }
      let identity: AdapterIdentity;
      try {
        identity = identityFromEnv(process.env);
      } catch (err) {
        fail(`k8s-adapter: ${(err as Error).message}`, 2);
      }
      let kubeConfig;
      if (flags.api) {
        try {
          kubeConfig = loadKubeConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}, '--kubeconfig');
        } catch (err) {
          logger.error(`${(err as Error).message}; the result goes out in the termination message only`);
        }
      }
      const result = await runAdapter({
        outputDir: flags.outputDir,
        terminationLogPath: flags.terminationLog,
        identity,
        logger,
        ...(kubeConfig ? { kubeConfig } : {}),
        ...(flags.maxOutputBytes !== undefined ? { maxOutputBytes: flags.maxOutputBytes } : {}),
        ...(flags.maxDetailsBytes !== undefined ? { maxDetailsBytes: flags.maxDetailsBytes } : {}),
        ...(flags.khReportFile !== undefined ? { khReportFile: flags.khReportFile } : {}),
      });
      const delivered = result.terminationMessage === 'written' || result.healthState === 'created' || result.healthState === 'exists';
      process.exitCode = delivered ? 0 : 1;
    });
}

/** `--kh-listen`: the pod-local Kuberhealthy reporting endpoint, until the kubelet stops the sidecar. */
async function runKhReporter(flags: AdapterFlags, logger: ReturnType<typeof createLogger>): Promise<void> {
  const runUuid = process.env[ADAPTER_ENV.podUid];
  if (!runUuid) fail(`k8s-adapter --kh-listen: missing environment variable ${ADAPTER_ENV.podUid} (set by the CronJob vigil creates)`, 2);
  if (flags.khReportFile === undefined) fail('k8s-adapter --kh-listen: --kh-report-file is required', 2);
  const address = parseListen(flags.khListen ?? '');
  if (!address) fail(`k8s-adapter: --kh-listen: "${flags.khListen ?? ''}" must be host:port`, 2);
  const timeoutSeconds = flags.khTimeoutSeconds ?? 300;
  let reporter;
  try {
    reporter = await startKhReporter({
      host: address.host,
      port: address.port,
      runUuid,
      reportFile: flags.khReportFile,
      terminationLogPath: flags.terminationLog,
      deadline: Date.now() + timeoutSeconds * 1000,
      logger,
    });
  } catch (err) {
    fail(`k8s-adapter: cannot listen on ${flags.khListen ?? ''}: ${(err as Error).message}`, 2);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve(); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await reporter.close();
  logger.info({ reported: reporter.report !== undefined }, 'Kuberhealthy reporting endpoint stopped');
}

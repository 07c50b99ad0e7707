/**
 * The long-running process of Kubernetes mode (`vigil agent --source kubernetes --runtime
 * kubernetes`): the controller plus the HTTP server (healthz, readyz, status API, metrics),
 * stopped cleanly on SIGTERM/SIGINT (the lease is released so a standby takes over at once).
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/config.js';
import type { StateStore } from '../core/interfaces.js';
import { startServerOrExit } from '../server/start.js';
import type { TokenAuth } from '../server/auth.js';
import { AgentMetrics } from '../metrics/metrics.js';
import { buildController } from './mode.js';

export async function runKubernetesAgent(config: AgentConfig, logger: Logger, store: StateStore, auth: TokenAuth): Promise<void> {
  let controller;
  try {
    controller = buildController(config, logger, store);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'cannot start Kubernetes mode');
    logger.flush();
    process.exit(2);
  }
  const metrics = new AgentMetrics({ provider: controller });
  const server = (await startServerOrExit(config, logger, { provider: controller, auth, metrics }, '/healthz, /readyz, /metrics, /api/v1/status'))?.server;

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down the controller');
    void (async () => {
      await controller.stop();
      await server?.stop();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => { shutdown('SIGTERM'); });
  process.on('SIGINT', () => { shutdown('SIGINT'); });

  const k = config.runtime.kubernetes;
  logger.info(
    {
      config: config.source,
      destination: config.destination,
      namespaces: config.definitions.namespaces ?? 'all',
      agentImage: k.agentImage ?? process.env.VIGIL_AGENT_IMAGE,
      leaderElection: k.leaderElection.enabled,
      store: store.describe(),
    },
    'starting vigil in Kubernetes mode (HealthDefinitions become CronJobs)',
  );
  try {
    await controller.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'the controller failed to start');
    logger.flush();
    process.exit(1);
  }
}

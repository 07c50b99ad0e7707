/**
 * Starting the agent's HTTP server from the configuration, shared by the local agent and
 * Kubernetes mode: `server.listen` (or "off"), the token and read settings, and a fatal exit
 * (code 2) naming the setting when the address cannot be bound.
 */
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/config.js';
import { parseListen } from '../config/config.js';
import { AgentServer, type AgentServerOptions } from './server.js';

export type ServerParts = Omit<AgentServerOptions, 'host' | 'port' | 'logger' | 'requireTokenForReads' | 'readOnly' | 'agentName'>;

/** The started server and its URL, or undefined when server.listen is "off". Exits 2 if it cannot listen. */
export async function startServerOrExit(config: AgentConfig, logger: Logger, parts: ServerParts, endpoints: string): Promise<{ server: AgentServer; url: string } | undefined> {
  const listen = config.server.listen === 'off' ? undefined : parseListen(config.server.listen);
  if (!listen) return undefined;
  const server = new AgentServer({
    ...listen,
    ...parts,
    logger,
    requireTokenForReads: config.server.requireTokenForReads,
    readOnly: config.server.readOnly,
    agentName: config.destination,
  });
  try {
    const bound = await server.start();
    logger.info({ url: bound.url }, `HTTP server listening (${endpoints})`);
    return { server, url: bound.url };
  } catch (err) {
    logger.fatal({ err: (err as Error).message, listen: config.server.listen }, 'cannot start the HTTP server; set server.listen or --listen (or "off")');
    logger.flush();
    process.exit(2);
  }
}

/**
 * TCP forwarders that stand in for VMs: each listens on its own loopback address
 * (127.0.0.2, 127.0.0.3, ...: all of 127/8 is local on Linux) on one shared port and pipes to
 * the real sshd, so several "VMIs" with distinct IPs and the same ssh_port reach one sshd.
 * They count connections open at once (for batch-size tests) and can hold each new
 * connection for a while before piping, so concurrent probes really overlap.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface VmProxies {
  port: number;
  /** Connections open at the same time, at most, since the last reset. */
  maxConcurrent: number;
  /** Connections accepted since the last reset. */
  accepted: number;
  reset(): void;
  /** Stops the forwarder of one address (the "VM" goes down). */
  stop(ip: string): Promise<void>;
  close(): Promise<void>;
}

export async function startVmProxies(ips: readonly string[], targetPort: number, opts: { holdMs?: number } = {}): Promise<VmProxies> {
  const servers = new Map<string, Server>();
  const sockets = new Set<Socket>();
  let open = 0;
  const state = { maxConcurrent: 0, accepted: 0 };
  const onConnection = (client: Socket): void => {
    sockets.add(client);
    state.accepted++;
    open++;
    state.maxConcurrent = Math.max(state.maxConcurrent, open);
    // A connection stops counting when the prober closes its side (end) or it is gone (close).
    let counted = true;
    const done = (): void => {
      if (counted) open--;
      counted = false;
    };
    client.on('end', done);
    client.on('close', () => {
      done();
      sockets.delete(client);
    });
    client.on('error', () => undefined);
    client.pause();
    const pipe = (): void => {
      if (client.destroyed) return;
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    if (opts.holdMs) setTimeout(pipe, opts.holdMs);
    else pipe();
  };
  let port = 0;
  for (const ip of ips) {
    const server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, ip, () => { resolve(); });
    });
    if (port === 0) port = (server.address() as { port: number }).port;
    servers.set(ip, server);
  }
  const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return {
    port,
    get maxConcurrent() { return state.maxConcurrent; },
    get accepted() { return state.accepted; },
    reset() {
      state.maxConcurrent = open;
      state.accepted = 0;
    },
    async stop(ip) {
      const server = servers.get(ip);
      servers.delete(ip);
      if (server) await closeServer(server);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([...servers.values()].map(closeServer));
      servers.clear();
    },
  };
}

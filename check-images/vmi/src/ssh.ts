/**
 * One SSH reachability probe with ssh2. With a private key, the probe succeeds when the
 * login succeeds. Without one it offers no credentials ("none" authentication) and
 * succeeds when sshd answers with an authentication refusal: the VM is up and its sshd
 * speaks, which is what Krkn's `virtctl ssh ... | grep denied` probe tests (peers.md §4.3).
 *
 * Host keys are not verified: VM host keys are not known in advance, and the probe sends
 * nothing secret (public-key authentication signs a session-bound challenge).
 */
import { Client, type ConnectConfig } from 'ssh2';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  passphrase?: string;
  timeoutMs: number;
}

export interface SshProbeResult {
  ok: boolean;
  /** `login` (authenticated), `auth-refused` (sshd answered, no key given), `failed`. */
  outcome: 'login' | 'auth-refused' | 'failed';
  latencyMs: number;
  error?: string;
}

export type SshProber = (target: SshTarget, signal?: AbortSignal) => Promise<SshProbeResult>;

/** Probes one host; never rejects. */
export const probeSsh: SshProber = (target, signal) =>
  new Promise((resolve) => {
    const started = performance.now();
    const client = new Client();
    let settled = false;
    let closed = false;
    /**
     * Resolves once the connection is closed, so at most `batch_size` connections are ever
     * open (a probe's socket is not left closing behind the next one); 1 s at most.
     */
    const finish = (outcome: SshProbeResult['outcome'], error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const result: SshProbeResult = {
        ok: outcome !== 'failed',
        outcome,
        latencyMs: Math.round(performance.now() - started),
        ...(error !== undefined ? { error } : {}),
      };
      client.removeAllListeners('ready');
      client.on('error', () => undefined); // late socket errors after end()
      if (closed) {
        resolve(result);
        return;
      }
      const force = setTimeout(() => {
        client.destroy();
        resolve(result);
      }, 1_000);
      client.once('close', () => {
        clearTimeout(force);
        resolve(result);
      });
      client.end();
    };
    const onAbort = (): void => {
      finish('failed', 'aborted');
    };
    // ssh2's readyTimeout covers the handshake; this covers everything, including DNS and auth.
    const timer = setTimeout(() => {
      finish('failed', `no SSH answer within ${target.timeoutMs} ms`);
    }, target.timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('ready', () => {
      finish('login');
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') {
        if (target.privateKey === undefined) finish('auth-refused');
        else finish('failed', 'authentication with the private key was refused');
        return;
      }
      finish('failed', shortError(err));
    });
    client.on('close', () => {
      closed = true;
      finish('failed', 'connection closed before authentication');
    });
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.timeoutMs,
      hostVerifier: () => true,
      keepaliveInterval: 0,
      ...(target.privateKey !== undefined ? { privateKey: target.privateKey } : { authHandler: ['none'] }),
      ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
    };
    try {
      client.connect(config);
    } catch (err) {
      // A key ssh2 cannot parse, for example: a configuration problem, reported per VMI.
      finish('failed', shortError(err as Error));
    }
  });

function shortError(err: Error & { code?: string }): string {
  const first = (err.message || String(err)).split('\n', 1)[0] ?? '';
  return (err.code && !first.includes(err.code) ? `${err.code}: ${first}` : first).slice(0, 160);
}

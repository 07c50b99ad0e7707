/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D -e` on a free 127.0.0.1 port, running
 * as the current user with a throwaway host key and a throwaway client key, `UsePAM no`,
 * `StrictModes no`, `PidFile none`, public-key authentication only.
 *
 * The login user is the current user (sshd started by a non-root user can only log that
 * user in); sessions run the user's login shell, so `git-upload-pack`/`git-receive-pack`
 * and any other command on the default PATH work over `ssh://`.
 *
 * Password authentication is not offered: without PAM, sshd checks the system password
 * database, and tests must not change system passwords.
 *
 * As root, sshd needs its privilege-separation directory `/run/sshd` (Debian's service unit
 * creates it at boot); the helper creates it (empty, 0755) when it is missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './git.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /**
   * Extra `authorized_keys` lines (public keys, optionally with options such as
   * `command="..."`). The generated client key (`userKeyPath`) is always authorized.
   */
  authorizedKeys?: string[];
  /** Extra sshd_config lines (e.g. `ForceCommand ...`, `SetEnv ...`). */
  extraConfig?: string[];
  /** How long to wait for "Server listening". Default 10 s. */
  startTimeoutMs?: number;
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** The login user: the current user. */
  user: string;
  /** `ssh-ed25519 AAAA...` (no comment). */
  hostKeyPublic: string;
  /** A known_hosts line for this server: `[127.0.0.1]:<port> ssh-ed25519 AAAA...`. */
  knownHostsLine: string;
  /** A known_hosts file holding `knownHostsLine`. */
  knownHostsPath: string;
  /** A 0600 OpenSSH private key file (ed25519, no passphrase) that may log in. */
  userKeyPath: string;
  /** The same private key, as text (what a Kubernetes Secret's `sshPrivateKey` holds). */
  userKey: string;
  /** Its public key line. */
  userKeyPublic: string;
  /** `ssh://<user>@127.0.0.1:<port><absolutePath>`. */
  url(absolutePath: string): string;
  /** argv for `ssh` to reach this server with the client key and strict host checking (append the remote command). */
  sshArgs(): string[];
  /** sshd's log so far (it runs with -e: everything on stderr). */
  log(): string;
  /** Stops the listening sshd (SIGTERM, then SIGKILL after 5 s) and removes its files. */
  stop(): Promise<void>;
}

/** Why a real sshd cannot run here, or undefined when it can. */
export function sshdUnavailableReason(): string | undefined {
  try {
    accessSync(SSHD, constants.X_OK);
  } catch {
    return `${SSHD} is not installed (Debian package openssh-server)`;
  }
  for (const tool of ['ssh', 'ssh-keygen']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${tool} is not installed (Debian package openssh-client)`;
    }
  }
  if (process.getuid?.() === 0) {
    try {
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    } catch (err) {
      return `running as root, sshd needs /run/sshd and it cannot be created: ${(err as Error).message}`;
    }
  }
  return undefined;
}

function keygen(path: string, comment: string): { privateKey: string; publicKey: string } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
  return { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** Starts sshd; throws with sshd's output when it does not come up. */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const reason = sshdUnavailableReason();
  if (reason) throw new Error(`cannot start sshd: ${reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sshd-'));
  const user = userInfo().username;
  const host = keygen(join(dir, 'host_ed25519'), 'vigil-test-host');
  const client = keygen(join(dir, 'user_ed25519'), 'vigil-test-user');
  const hostKeyPublic = host.publicKey.split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'authorized_keys'), [client.publicKey, ...(options.authorizedKeys ?? [])].join('\n') + '\n', { mode: 0o600 });

  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const knownHostsLine = `[127.0.0.1]:${port} ${hostKeyPublic}`;
    const knownHostsPath = join(dir, 'known_hosts');
    writeFileSync(knownHostsPath, `${knownHostsLine}\n`, { mode: 0o600 });
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'LogLevel VERBOSE',
      'MaxStartups 100:30:200',
      'MaxSessions 50',
      ...(options.extraConfig ?? []),
    ];
    const configPath = join(dir, 'sshd_config');
    writeFileSync(configPath, config.join('\n') + '\n', { mode: 0o600 });
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve(); }); });
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    while (!log.includes('Server listening') && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (log.includes('Server listening')) {
      const userKeyPath = join(dir, 'user_ed25519');
      return {
        host: '127.0.0.1',
        port,
        user,
        hostKeyPublic,
        knownHostsLine,
        knownHostsPath,
        userKeyPath,
        userKey: client.privateKey,
        userKeyPublic: client.publicKey,
        url: (absolutePath) => `ssh://${user}@127.0.0.1:${port}${absolutePath.startsWith('/') ? '' : '/'}${absolutePath}`,
        sshArgs: () => ['-p', String(port), '-i', userKeyPath, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `${user}@127.0.0.1`],
        log: () => log,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const force = setTimeout(() => { child.kill('SIGKILL'); }, 5_000);
            await exited;
            clearTimeout(force);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    lastError = log.trim() || 'no output';
    if (!/Address already in use|Bind to port/.test(log)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start: ${lastError}`);
}

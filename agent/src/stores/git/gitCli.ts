/**
 * Running the `git` CLI for the Git state store: argv only (never a shell string), a time
 * limit and an output limit on every call, no terminal prompts, no user or system git
 * config, and credentials passed only through files and environment variables prepared by
 * `prepareGitAuth` (never argv, never logs).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/** Credentials for the remote. */
export type GitAuth =
  | { kind: 'basicAuth'; username: string; password: string }
  | { kind: 'ssh'; privateKey: string; knownHosts: string };

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GitRunnerOptions {
  /** Environment added to every git call (auth helpers, identity). */
  env: Record<string, string>;
  /** Wall-clock limit of one git call. */
  timeoutMs: number;
  /** Strings (secrets) replaced by `***` in any text this runner returns. */
  secrets: readonly string[];
}

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Runs git commands in one repository with a fixed, sanitised environment. */
export class GitRunner {
  constructor(private readonly options: GitRunnerOptions) {}

  /** Runs `git <args>` in `cwd`; never throws for a non-zero exit (see `exitCode`). */
  async run(cwd: string, args: readonly string[]): Promise<GitResult> {
    const result = await execa('git', args, {
      cwd,
      env: {
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        LC_ALL: 'C',
        ...this.options.env,
      },
      extendEnv: true,
      reject: false,
      stdin: 'ignore',
      timeout: this.options.timeoutMs,
      maxBuffer: MAX_OUTPUT_BYTES,
      stripFinalNewline: true,
    });
    const stderr = result.timedOut ? `git ${args[0] ?? ''} timed out after ${this.options.timeoutMs} ms` : result.stderr;
    return {
      exitCode: result.exitCode ?? -1,
      stdout: this.redact(result.stdout),
      stderr: this.redact(stderr),
    };
  }

  /** Like `run`, but throws `git <command>: <first error line>` on a non-zero exit. */
  async ok(cwd: string, args: readonly string[]): Promise<string> {
    const result = await this.run(cwd, args);
    if (result.exitCode !== 0) throw new Error(`git ${args[0] ?? ''}: ${firstErrorLine(result)}`);
    return result.stdout;
  }

  /** Replaces every secret in `text` by `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.options.secrets) if (secret.length > 0) out = out.split(secret).join('***');
    return out;
  }
}

/**
 * The first meaningful line git printed (stderr preferred; hints, `To <url>` and ssh's
 * `@@@@` banner lines skipped), for error messages.
 */
export function firstErrorLine(result: GitResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^(hint:|To )/.test(l) && !/^[@\s]+$/.test(l));
  return lines[0] ?? `exit code ${result.exitCode}`;
}

/**
 * Writes the helper files for `auth` into `dir` (created 0700) and returns the environment
 * that makes git use them: basicAuth through a GIT_ASKPASS script reading environment
 * variables, ssh through GIT_SSH_COMMAND with a 0600 key file and strict host key checking.
 */
export async function prepareGitAuth(dir: string, auth: GitAuth | undefined): Promise<Record<string, string>> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  if (auth === undefined) return {};
  if (auth.kind === 'basicAuth') {
    const script = join(dir, 'askpass.sh');
    const body = '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$VIGIL_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$VIGIL_GIT_PASSWORD" ;;\nesac\n';
    await writePrivate(script, body, 0o700);
    return { GIT_ASKPASS: script, SSH_ASKPASS: script, VIGIL_GIT_USERNAME: auth.username, VIGIL_GIT_PASSWORD: auth.password };
  }
  const key = join(dir, 'id_key');
  const knownHosts = join(dir, 'known_hosts');
  await writePrivate(key, auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`, 0o600);
  await writePrivate(knownHosts, auth.knownHosts, 0o600);
  const command = ['ssh', '-i', shellQuote(key), '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${shellQuote(knownHosts)}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  return { GIT_SSH_COMMAND: command.join(' ') };
}

async function writePrivate(path: string, content: string, mode: number): Promise<void> {
  await fs.rm(path, { force: true });
  await fs.writeFile(path, content, { mode, flag: 'wx' });
  await fs.chmod(path, mode);
}

/** Single-quotes `value` for the POSIX shell git runs GIT_SSH_COMMAND with. */
function shellQuote(value: string): string {
  return `'${value.split("'").join("'\\''")}'`;
}

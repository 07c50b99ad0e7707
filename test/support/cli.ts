/** Running the compiled `vigil` CLI as a real process. `npm test` builds dist/ first (pretest). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/agent/src/cli/main.js', import.meta.url));

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does it)`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vigil <args>` to completion. */
export function vigil(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, VIGIL_LOG_PRETTY: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `vigil agent` whose JSON log lines are collected. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    assertBuilt();
    this.child = spawn(process.execPath, [CLI, 'agent', ...args], {
      cwd: REPO,
      env: { ...process.env, VIGIL_LOG_PRETTY: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.lines.push({ stderr: d.toString() }); });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  find(predicate: (line: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(predicate);
  }

  async waitForLine(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.find(predicate);
      if (line) return line;
      if (!this.running) throw new Error(`agent exited (${String(this.exitCode)}) before ${what}:\n${this.dump()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.dump()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The agent's base URL, from its "HTTP server listening" log line. */
  async url(): Promise<string> {
    const line = await this.waitForLine((l) => typeof l.url === 'string' && String(l.msg).startsWith('HTTP server listening'), 'the HTTP server');
    return line.url as string;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return await this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  dump(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

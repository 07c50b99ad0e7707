/**
 * Real podman for container tests: detects whether podman can run containers on this
 * machine, and builds a tiny `FROM scratch` image holding a static busybox (the shell and
 * tools of an SKE-style check) without any registry access.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerEngine } from '../../agent/src/runtimes/engine.js';

const run = promisify(execFile);

export const BUSYBOX = '/bin/busybox';
export const RUNC = '/usr/sbin/runc';
export const TEST_IMAGE = 'localhost/vigil-test-busybox:latest';

/** The flags this kind of machine needs (rootful podman with runc, low ulimits). */
export const PODMAN: ContainerEngine = {
  command: 'podman',
  globalArgs: ['--runtime', RUNC],
  runArgs: ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
};

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Undefined when podman can run a container here, otherwise why not. The probe runs
 * busybox from a bare root file system, so it needs no image.
 */
export async function podmanUnavailableReason(): Promise<string | undefined> {
  if (!which('podman')) return 'podman is not on PATH';
  if (!existsSync(RUNC)) return `${RUNC} is missing (apt-get install runc)`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  const rootfs = mkdtempSync(join(tmpdir(), 'vigil-podman-probe-'));
  try {
    mkdirSync(join(rootfs, 'bin'));
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    await run(PODMAN.command, [...PODMAN.globalArgs!, 'run', '--rm', ...PODMAN.runArgs!, '--rootfs', rootfs, '/bin/busybox', 'true'], { timeout: 60_000 });
    return undefined;
  } catch (err) {
    return `a probe "podman run" failed: ${(err as Error).message.split('\n')[0]!}`;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** Builds `tag` from scratch plus busybox with its applets installed in /bin. */
export async function buildBusyboxImage(tag: string = TEST_IMAGE): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'vigil-image-'));
  try {
    copyFileSync(BUSYBOX, join(context, 'busybox'));
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n');
    await run(PODMAN.command, [...PODMAN.globalArgs!, 'build', '-q', '-t', tag, context], { timeout: 300_000 });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

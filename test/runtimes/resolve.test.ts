import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Container } from '../../agent/src/core/model.js';
import type { ContainerEngine } from '../../agent/src/runtimes/engine.js';
import { ImageTable } from '../../agent/src/runtimes/images.js';
import { findExecutable, isExecutableFile, processCommand, resolveContainer, type ProcessPlan, type ResolveContext } from '../../agent/src/runtimes/resolve.js';

const bin = mkdtempSync(join(tmpdir(), 'vigil-resolve-'));
afterAll(() => {
  rmSync(bin, { recursive: true, force: true });
});
writeFileSync(join(bin, 'probe'), '#!/bin/sh\n');
chmodSync(join(bin, 'probe'), 0o755);
writeFileSync(join(bin, 'plain'), 'not executable\n');
chmodSync(join(bin, 'plain'), 0o644);

const mapping = { image: 'example.org/check', command: ['/opt/check', '--fixed'], args: ['--default'] };
const podman: ContainerEngine = { command: '/usr/bin/podman' };

function context(engine?: ContainerEngine): ResolveContext {
  return { images: new ImageTable([mapping]), findExecutable: (c) => findExecutable(c, [bin]), engine: () => engine };
}

function container(extra: Partial<Container>): Container {
  return { name: 'c', image: 'example.org/check:v1', ...extra };
}

describe('resolveContainer', () => {
  it('uses the image mapping when the container sets no command', () => {
    expect(resolveContainer(container({ args: ['x'] }), context(podman))).toEqual({ via: 'process', from: 'mapping', mapping });
  });

  it('uses a local command before the mapping and the engine', () => {
    expect(resolveContainer(container({ command: ['probe'] }), context(podman))).toEqual({ via: 'process', from: 'command', executable: join(bin, 'probe') });
    expect(resolveContainer(container({ command: [join(bin, 'probe')] }), context())).toEqual({ via: 'process', from: 'command', executable: join(bin, 'probe') });
  });

  it('falls back to the container engine, then fails with advice', () => {
    const unmapped = container({ image: 'example.org/other:v1', command: ['/usr/local/bin/in-image-only'] });
    expect(resolveContainer(unmapped, context(podman))).toEqual({ via: 'container', engine: podman });
    // A mapped image whose command is replaced by one that is not local goes to the engine too.
    expect(resolveContainer(container({ command: ['in-image-only'] }), context(podman))).toEqual({ via: 'container', engine: podman });
    expect(resolveContainer(unmapped, context())).toEqual({
      via: 'none',
      message: 'no way to run image "example.org/other:v1" locally (container "c"): map it to a command in the runtime config or install podman/docker',
    });
  });
});

describe('processCommand (Kubernetes command/args semantics)', () => {
  const mapped: ProcessPlan = { via: 'process', from: 'mapping', mapping };
  const local: ProcessPlan = { via: 'process', from: 'command', executable: '/usr/bin/env' };

  it('runs the mapping with its default args, or the container args instead', () => {
    expect(processCommand(mapped, {})).toEqual({ file: '/opt/check', args: ['--fixed', '--default'] });
    expect(processCommand(mapped, { args: ['--mine'] })).toEqual({ file: '/opt/check', args: ['--fixed', '--mine'] });
    expect(processCommand(mapped, { args: [] })).toEqual({ file: '/opt/check', args: ['--fixed'] });
  });

  it('runs a local command with its own arguments then args', () => {
    expect(processCommand(local, { command: ['env', '-i'], args: ['true'] })).toEqual({ file: '/usr/bin/env', args: ['-i', 'true'] });
    expect(processCommand(local, { command: ['env'] })).toEqual({ file: '/usr/bin/env', args: [] });
  });
});

describe('findExecutable', () => {
  it('finds bare names on the given PATH only', () => {
    expect(findExecutable('probe', [bin])).toBe(join(bin, 'probe'));
    expect(findExecutable('probe', ['/nonexistent', bin])).toBe(join(bin, 'probe'));
    expect(findExecutable('probe', [])).toBeUndefined();
    expect(findExecutable('probe', ['relative/dir'])).toBeUndefined();
  });

  it('accepts absolute paths to executable files only', () => {
    expect(findExecutable(join(bin, 'probe'), [])).toBe(join(bin, 'probe'));
    expect(findExecutable(bin, [])).toBeUndefined();
    expect(findExecutable('./probe', [bin])).toBeUndefined();
    expect(findExecutable('', [bin])).toBeUndefined();
    expect(findExecutable('/bad\0path', [])).toBeUndefined();
  });

  it('does not treat a file without execute permission as executable', () => {
    expect(isExecutableFile(join(bin, 'plain'))).toBe(false);
  });
});

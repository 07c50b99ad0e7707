import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Container } from '../../agent/src/core/model.js';
import { engineRunArgs, selectEngine, writeEnvFile, type ContainerEngine, type EngineRunSpec } from '../../agent/src/runtimes/engine.js';
import type { RunDirectory } from '../../agent/src/runtimes/run-dir.js';

const engine: ContainerEngine = { command: 'podman', globalArgs: ['--runtime', '/usr/sbin/runc'], runArgs: ['--ulimit', 'nofile=1024:1024'] };
const dir: RunDirectory = { root: '/runs/r1', input: '/runs/r1/input', output: '/runs/r1/output', metadata: '/runs/r1/metadata', tmp: '/runs/r1/tmp' };
const PATH = 'spec.workflow.spec.containers[0]';

function spec(container: Partial<Container>, extra: Partial<EngineRunSpec> = {}): EngineRunSpec {
  return { name: 'vigil-r1-0', container: { name: 'check', image: 'ghcr.io/org/check:v1', ...container }, path: PATH, dir, envFile: '/runs/r1/env-0', ...extra };
}

describe('engineRunArgs', () => {
  it('builds the run command with config flags, mounts and the env file', () => {
    const result = engineRunArgs(engine, spec({}));
    expect(result).toEqual({
      ok: true,
      argv: [
        '--runtime', '/usr/sbin/runc',
        'run', '--rm', '--name', 'vigil-r1-0', '--pull', 'never',
        '--ulimit', 'nofile=1024:1024',
        '--network', 'host',
        '-v', '/runs/r1/input:/kratix/input:ro',
        '-v', '/runs/r1/output:/kratix/output',
        '-v', '/runs/r1/metadata:/kratix/metadata',
        '--env-file', '/runs/r1/env-0',
        'ghcr.io/org/check:v1',
      ],
    });
  });

  it('maps command to --entrypoint and the rest of command plus args after the image', () => {
    const result = engineRunArgs(engine, spec({ workingDir: '/work' }, { command: ['/bin/sh', '-c'], args: ['echo hi'] }));
    expect(result.ok && result.argv.slice(result.argv.indexOf('--env-file') + 2)).toEqual(['--entrypoint', '/bin/sh', '--workdir', '/work', 'ghcr.io/org/check:v1', '-c', 'echo hi']);
    const argsOnly = engineRunArgs(engine, spec({}, { args: ['--verbose'] }));
    expect(argsOnly.ok && argsOnly.argv.slice(-2)).toEqual(['ghcr.io/org/check:v1', '--verbose']);
    expect(argsOnly.ok && argsOnly.argv.includes('--entrypoint')).toBe(false);
  });

  it('turns securityContext and limits into flags, never --privileged unless asked', () => {
    const result = engineRunArgs(
      engine,
      spec({
        securityContext: {
          runAsUser: 65534,
          runAsGroup: 65534,
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
        resources: { limits: { memory: '256Mi', cpu: '500m' }, requests: { cpu: '100m' } },
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const flags = result.argv.slice(result.argv.indexOf('/runs/r1/env-0') + 1, -1);
    expect(flags).toEqual([
      '--user', '65534:65534',
      '--read-only',
      '--security-opt', 'no-new-privileges',
      '--cap-drop', 'ALL',
      '--cap-add', 'NET_RAW',
      '--memory', String(256 * 2 ** 20),
      '--cpus', '0.5',
    ]);
    expect(result.argv).not.toContain('--privileged');
    const privileged = engineRunArgs(engine, spec({ securityContext: { privileged: true, seccompProfile: { type: 'Unconfined' } } }));
    expect(privileged.ok && privileged.argv).toEqual(expect.arrayContaining(['--privileged', 'seccomp=unconfined']));
  });

  it.each<[Partial<Container>, string, string]>([
    [{ securityContext: { runAsUser: -1 } }, 'securityContext.runAsUser', 'must be a non-negative integer'],
    [{ securityContext: { runAsGroup: 10 } }, 'securityContext.runAsGroup', 'is only supported locally together with runAsUser'],
    [{ securityContext: { runAsUser: 0, runAsNonRoot: true } }, 'securityContext.runAsUser', 'is 0 but runAsNonRoot is true'],
    [{ securityContext: { capabilities: { add: ['NET_RAW', 'bad cap'] } } }, 'securityContext.capabilities.add[1]', '"bad cap" is not a capability name'],
    [{ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } } }, 'securityContext.seccompProfile.type', '"Localhost" is not supported locally'],
    [{ resources: { limits: { memory: 'lots' } } }, 'resources.limits.memory', '"lots" is not a positive quantity'],
    [{ resources: { limits: { cpu: '0' } } }, 'resources.limits.cpu', '"0" is not a positive quantity'],
  ])('rejects %j naming the field', (container, field, message) => {
    const result = engineRunArgs(engine, spec(container));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.path).toBe(`${PATH}.${field}`);
    expect(result.message).toContain(message);
  });

  it('refuses run directories that cannot be bind-mounted', () => {
    const bad = { ...dir, input: '/runs/a:b/input' };
    expect(engineRunArgs(engine, spec({}, { dir: bad }))).toMatchObject({ ok: false, path: 'workDir' });
  });
});

describe('selectEngine', () => {
  it('honours none, an explicit engine, and auto-detection order', () => {
    const found = (names: string[]) => (name: string) => (names.includes(name) ? `/usr/bin/${name}` : undefined);
    expect(selectEngine('none', found(['podman']))).toBeUndefined();
    expect(selectEngine(engine, found([]))).toBe(engine);
    expect(selectEngine('auto', found(['docker', 'podman']))).toEqual({ command: '/usr/bin/podman' });
    expect(selectEngine('auto', found(['docker']))).toEqual({ command: '/usr/bin/docker' });
    expect(selectEngine('auto', found([]))).toBeUndefined();
  });
});

describe('writeEnvFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-envfile-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const runDir: RunDirectory = { ...dir, root };

  it('writes NAME=value lines readable by the owner only', () => {
    const result = writeEnvFile(runDir, 2, new Map([['A', 'x y'], ['B', 'a=b'], ['EMPTY', '']]));
    expect(result).toEqual({ ok: true, file: join(root, 'env-2') });
    expect(readFileSync(join(root, 'env-2'), 'utf8')).toBe('A=x y\nB=a=b\nEMPTY=\n');
    expect(statSync(join(root, 'env-2')).mode & 0o777).toBe(0o600);
  });

  it('refuses values an env file cannot carry, naming the variable', () => {
    expect(writeEnvFile(runDir, 3, new Map([['OK', '1'], ['PEM', 'line1\nline2']]))).toEqual({ ok: false, name: 'PEM' });
  });
});

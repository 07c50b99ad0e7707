/**
 * LocalRuntime with real processes: every check here is a /bin/sh script run as the
 * container's command, in a private work directory per test.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../../agent/src/core/interfaces.js';
import { LocalRuntime, type LocalRuntimeOptions } from '../../agent/src/runtimes/LocalRuntime.js';
import { checkDefinition, runRequest, shell } from '../support/check-definition.js';
import { isAlive, pidsIn } from '../support/processes.js';
import { waitFor } from '../support/tmp.js';

const scratch = mkdtempSync(join(tmpdir(), 'vigil-local-runtime-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let counter = 0;
/** A runtime with its own empty work directory and no container engine. */
function runtime(options: LocalRuntimeOptions = {}): { rt: LocalRuntime; workDir: string } {
  const workDir = join(scratch, `work-${++counter}`);
  return { rt: new LocalRuntime({ containerEngine: 'none', workDir, ...options }), workDir };
}

const HEALTHY = 'echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"';

/** Shell: a process in its own session that signals (by a file) once it has left the check's process group. */
function detached(name: string): string {
  return `setsid sh -c 'touch "$KRATIX_METADATA_DIR/${name}.ready"; exec sleep 1000'`;
}

/** Shell: waits for detached(name) to have left the group. */
function awaitReady(name: string): string {
  return `while [ ! -f "$KRATIX_METADATA_DIR/${name}.ready" ]; do sleep 0.01; done`;
}

describe('LocalRuntime: running processes', () => {
  it('runs a check that writes healthy and reports the file as is', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', `${HEALTHY}; echo done`)])));
    expect(out.startFailure).toBeUndefined();
    expect(out.timedOut).toBe(false);
    expect(out.aborted).toBe(false);
    expect(out.output).toEqual({ kind: 'present', content: 'state: healthy\n' });
    expect(out.containers).toHaveLength(1);
    expect(out.containers[0]).toMatchObject({ name: 'check', via: 'process', exitCode: 0, signal: null, stdout: { text: 'done\n', bytes: 5, truncated: false } });
    expect(out.finishedAt).toBeGreaterThanOrEqual(out.startedAt);
  });

  it('gives the Kratix environment, not the agent environment, and user env wins', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'agent-secret-do-not-leak';
    process.env.VIGIL_TEST_PASSED = 'passed-through';
    try {
      const { rt } = runtime({ passEnv: ['VIGIL_TEST_PASSED'] });
      const def = checkDefinition(
        [
          shell('check', 'env', {
            env: [
              { name: 'KRATIX_PIPELINE_NAME', value: 'overridden' },
              { name: 'STATUS_FILE', value: '$(KRATIX_OUTPUT_DIR)/health-status.yaml' },
            ],
          }),
        ],
        { resourceRef: { name: 'db1', namespace: 'team-a' }, input: 'apiVersion: example.org/v1\nkind: Database\n' },
      );
      const out = await rt.run(runRequest(def, { runId: 'env-run', scheduledAt: 1_700_000_000_000, env: { VIGIL_AGENT_URL: 'http://127.0.0.1:9' } }));
      const env = Object.fromEntries(out.containers[0]!.stdout.text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      const runDir = env.HOME!.replace(/\/tmp$/, '');
      expect(env).toMatchObject({
        KRATIX_WORKFLOW_ACTION: 'healthcheck',
        KRATIX_WORKFLOW_TYPE: 'resource',
        KRATIX_PROMISE_NAME: 'web',
        KRATIX_PIPELINE_NAME: 'overridden',
        KRATIX_OBJECT_NAME: 'db1',
        KRATIX_OBJECT_NAMESPACE: 'team-a',
        KRATIX_OBJECT_KIND: 'Database',
        KRATIX_OBJECT_GROUP: 'example.org',
        KRATIX_OBJECT_VERSION: 'v1',
        KRATIX_CLUSTER_SCOPED: 'false',
        KRATIX_INPUT_DIR: `${runDir}/input`,
        KRATIX_OUTPUT_DIR: `${runDir}/output`,
        KRATIX_METADATA_DIR: `${runDir}/metadata`,
        STATUS_FILE: `${runDir}/output/health-status.yaml`,
        VIGIL_RUN_ID: 'env-run',
        VIGIL_DEFINITION: 'default/web-check',
        VIGIL_SCHEDULED_TIME: '1700000000',
        VIGIL_AGENT_URL: 'http://127.0.0.1:9',
        VIGIL_TEST_PASSED: 'passed-through',
        TMPDIR: `${runDir}/tmp`,
        PATH: process.env.PATH,
      });
      expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
      expect(JSON.stringify(out)).not.toContain('agent-secret-do-not-leak');
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.VIGIL_TEST_PASSED;
    }
  });

  it('expands $(VAR) in command and args', async () => {
    const { rt } = runtime();
    const def = checkDefinition([
      { name: 'check', image: 'x', command: ['/bin/sh', '-c', 'echo "$@"', '$(NAME)'], args: ['$(KRATIX_PROMISE_NAME)', '$$(KRATIX_PROMISE_NAME)', '$(MISSING)'], env: [{ name: 'NAME', value: 'n' }] },
    ]);
    const out = await rt.run(runRequest(def));
    expect(out.containers[0]!.stdout.text).toBe('web $(KRATIX_PROMISE_NAME) $(MISSING)\n');
  });

  it('writes spec.input to input/object.yaml, or an empty file without input', async () => {
    const { rt } = runtime();
    const input = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "quoted: yes"\n';
    const cat = shell('check', 'cat "$KRATIX_INPUT_DIR/object.yaml"');
    const withInput = await rt.run(runRequest(checkDefinition([cat], { input })));
    expect(withInput.containers[0]!.stdout.text).toBe(input);
    const withoutInput = await rt.run(runRequest(checkDefinition([shell('check', 'test -f "$KRATIX_INPUT_DIR/object.yaml" && wc -c < "$KRATIX_INPUT_DIR/object.yaml"')])));
    expect(withoutInput.containers[0]!.stdout.text.trim()).toBe('0');
  });

  it('stops at the first container that exits non-zero and keeps its stderr', async () => {
    const { rt } = runtime();
    const def = checkDefinition([
      shell('first', 'echo "cannot reach the target" >&2; exit 3'),
      shell('second', HEALTHY),
    ]);
    const out = await rt.run(runRequest(def));
    expect(out.containers.map((c) => c.name)).toEqual(['first']);
    expect(out.containers[0]).toMatchObject({ exitCode: 3, signal: null, stderr: { text: 'cannot reach the target\n' } });
    expect(out.output).toEqual({ kind: 'missing' });
    expect(out.startFailure).toBeUndefined();
  });

  it('runs containers in order, sharing the run directories', async () => {
    const { rt } = runtime();
    const def = checkDefinition([
      shell('collect', 'echo collected > "$KRATIX_METADATA_DIR/facts"; echo "  step: 1" > "$KRATIX_OUTPUT_DIR/partial"'),
      shell('report', 'printf "state: degraded\\ndetails:\\n  facts: %s\\n" "$(cat "$KRATIX_METADATA_DIR/facts")" > "$KRATIX_OUTPUT_DIR/health-status.yaml"'),
    ]);
    const out = await rt.run(runRequest(def));
    expect(out.containers.map((c) => [c.name, c.exitCode])).toEqual([
      ['collect', 0],
      ['report', 0],
    ]);
    expect(out.output).toEqual({ kind: 'present', content: 'state: degraded\ndetails:\n  facts: collected\n' });
  });

  it('reports a missing health-status.yaml', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', 'true')])));
    expect(out.containers[0]!.exitCode).toBe(0);
    expect(out.output).toEqual({ kind: 'missing' });
  });

  it('bounds the capture of a check printing 100 MB, counting every byte', async () => {
    const { rt } = runtime({ maxCaptureBytes: 4096 });
    const out = await rt.run(runRequest(checkDefinition([shell('check', 'echo start; head -c 104857600 /dev/zero | tr "\\0" a; echo; echo end')])));
    const stdout = out.containers[0]!.stdout;
    expect(stdout.bytes).toBe('start\n'.length + 104_857_600 + '\nend\n'.length);
    expect(stdout.truncated).toBe(true);
    expect(stdout.text.startsWith('start\naaaa')).toBe(true);
    expect(stdout.text.endsWith('aaaa\nend\n')).toBe(true);
    expect(stdout.text).toContain('bytes omitted');
    expect(stdout.text.length).toBeLessThan(4096 + 100);
  });
});

describe('LocalRuntime: killing what a check leaves behind', () => {
  it('kills the whole tree on timeout, including setsid and double-forked grandchildren', async () => {
    const { rt } = runtime();
    const script = [
      'sleep 1000 & echo "bg=$!"',
      `${detached('sid')} & echo "sid=$!"`,
      `( ${detached('daemon')} & echo "daemon=$!" )`,
      `${awaitReady('sid')}; ${awaitReady('daemon')}`,
      'sleep 1000',
    ].join('\n');
    const def = checkDefinition([shell('hang', script), shell('never', HEALTHY)]);
    const out = await rt.run(runRequest(def, { timeoutMs: 1500 }));
    expect(out.timedOut).toBe(true);
    expect(out.aborted).toBe(false);
    expect(out.containers.map((c) => c.name)).toEqual(['hang']);
    expect(out.containers[0]).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    const pids = pidsIn(out.containers[0]!.stdout.text);
    expect(Object.keys(pids).sort()).toEqual(['bg', 'daemon', 'sid']);
    // SIGKILL is delivered asynchronously: on a loaded machine a killed process may take a moment to go.
    for (const [name, pid] of Object.entries(pids)) await waitFor(() => !isAlive(pid), `${name} (${pid}) to be killed`, 5_000);
    expect(out.output).toEqual({ kind: 'missing' });
  });

  it('kills a background process leaked by a successful check', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', `sleep 1000 & echo "bg=$!"; ${HEALTHY}`)])));
    expect(out.containers[0]!.exitCode).toBe(0);
    expect(out.output.kind).toBe('present');
    const { bg } = pidsIn(out.containers[0]!.stdout.text);
    expect(bg).toBeDefined();
    await waitFor(() => !isAlive(bg!), `the leaked background process ${bg!} to be killed`, 5_000);
  });

  it('kills a process that left the group and still holds the output pipes', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', `${detached('sid')} & echo "sid=$!"; ${awaitReady('sid')}; ${HEALTHY}`)])));
    expect(out.containers[0]!.exitCode).toBe(0);
    const { sid } = pidsIn(out.containers[0]!.stdout.text);
    expect(sid).toBeDefined();
    await waitFor(() => !isAlive(sid!), `the process that left the group (${sid!}) to be killed`, 5_000);
  });

  it('aborts a running check and starts no further container', async () => {
    const { rt, workDir } = runtime({ keepRunDirs: 'always' });
    const controller = new AbortController();
    const def = checkDefinition([shell('wait', 'echo started > "$KRATIX_METADATA_DIR/started"; sleep 1000'), shell('never', HEALTHY)]);
    const running = rt.run(runRequest(def, { signal: controller.signal }));
    await waitFor(() => existsSync(workDir) && readdirSync(workDir).some((d) => existsSync(join(workDir, d, 'metadata', 'started'))), 'the check to start');
    controller.abort();
    const out = await running;
    expect(out.aborted).toBe(true);
    expect(out.timedOut).toBe(false);
    expect(out.containers.map((c) => [c.name, c.signal])).toEqual([['wait', 'SIGKILL']]);
  });

  it('does not start anything when the signal is already aborted', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', HEALTHY)]), { signal: AbortSignal.abort() }));
    expect(out.aborted).toBe(true);
    expect(out.containers).toEqual([]);
  });
});

describe('LocalRuntime: reading health-status.yaml safely', () => {
  it('refuses a symbolic link to /etc/passwd without reading it', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', 'ln -s /etc/passwd "$KRATIX_OUTPUT_DIR/health-status.yaml"')])));
    expect(out.output).toEqual({ kind: 'refused', message: 'health-status.yaml is a symbolic link; vigil does not follow links' });
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    expect(passwd.length).toBeGreaterThan(0);
    expect(JSON.stringify(out)).not.toContain(passwd);
  });

  it('refuses an output directory replaced by a symbolic link, and removes the link only', async () => {
    const { rt, workDir } = runtime();
    const outside = join(scratch, `outside-${++counter}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'health-status.yaml'), 'state: healthy\n');
    const def = checkDefinition([shell('check', `rmdir "$KRATIX_OUTPUT_DIR" && ln -s "${outside}" "$KRATIX_OUTPUT_DIR"`)]);
    const out = await rt.run(runRequest(def));
    expect(out.containers[0]!.exitCode).toBe(0);
    expect(out.output).toEqual({ kind: 'refused', message: 'the output directory was replaced by a symbolic link; vigil does not follow links' });
    await rt.close();
    expect(readFileSync(join(outside, 'health-status.yaml'), 'utf8')).toBe('state: healthy\n');
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses a file over the size limit', async () => {
    const { rt } = runtime({ maxOutputFileBytes: 100 });
    const out = await rt.run(runRequest(checkDefinition([shell('check', 'head -c 101 /dev/zero | tr "\\0" a > "$KRATIX_OUTPUT_DIR/health-status.yaml"')])));
    expect(out.output).toEqual({ kind: 'refused', message: 'health-status.yaml is 101 bytes, over the limit of 100 bytes' });
  });

  it('refuses a FIFO without blocking on it', async () => {
    const { rt } = runtime();
    const out = await rt.run(runRequest(checkDefinition([shell('check', 'mkfifo "$KRATIX_OUTPUT_DIR/health-status.yaml"')])));
    expect(out.output).toEqual({ kind: 'refused', message: 'health-status.yaml is not a regular file' });
  });
});

describe('LocalRuntime: choosing how a container runs', () => {
  const mapped = { image: 'example.org/tools/check', command: ['/bin/sh', '-c', 'echo "$0|$*"', 'entry'], args: ['default-arg'] };

  it('runs a mapped image with its default args, or the container args instead', async () => {
    const { rt } = runtime({ images: [mapped] });
    const run = async (extra: object): Promise<RunOutcome> => rt.run(runRequest(checkDefinition([{ name: 'check', image: 'example.org/tools/check:v1.2', ...extra }])));
    const byDefault = await run({});
    expect(byDefault.containers[0]).toMatchObject({ via: 'process', stdout: { text: 'entry|default-arg\n' } });
    expect((await run({ args: ['own', '$(KRATIX_PROMISE_NAME)'] })).containers[0]!.stdout.text).toBe('entry|own web\n');
    expect((await run({ args: [] })).containers[0]!.stdout.text).toBe('entry|\n');
    // `command` replaces the entrypoint and drops the mapping's default args.
    expect((await run({ command: ['/bin/echo', 'replaced'] })).containers[0]!.stdout.text).toBe('replaced\n');
  });

  it('fails to start, naming the container and command, when a mapped executable is missing', async () => {
    const { rt } = runtime({ images: [{ image: 'example.org/broken', command: ['/nonexistent/vigil-check'] }] });
    const out = await rt.run(runRequest(checkDefinition([{ name: 'check', image: 'example.org/broken:1' }])));
    expect(out.containers).toEqual([]);
    expect(out.startFailure).toEqual({ container: 'check', reason: 'StartFailed', message: 'container "check": cannot run "/nonexistent/vigil-check": ENOENT' });
  });

  it('fails to start an image it has no way to run', async () => {
    const { rt } = runtime();
    const def = checkDefinition([{ name: 'check', image: 'ghcr.io/example/rds-health-check:v0.1.0', command: ['/usr/local/bin/check-rds'] }]);
    const out = await rt.run(runRequest(def));
    expect(out.startFailure).toEqual({
      container: 'check',
      reason: 'StartFailed',
      message:
        'no way to run image "ghcr.io/example/rds-health-check:v0.1.0" locally (container "check"): map it to a command in the runtime config or install podman/docker',
    });
  });

  it('rejects malformed image mappings naming the field', () => {
    expect(() => new LocalRuntime({ images: [mapped, { image: 'x', command: [] }] })).toThrow('images[1].command: must be a non-empty list of strings');
  });
});

describe('LocalRuntime: secrets and run directories', () => {
  it('resolves secretKeyRef from secretsDir', async () => {
    const secretsDir = join(scratch, `secrets-${++counter}`);
    mkdirSync(join(secretsDir, 'default', 'db-creds'), { recursive: true });
    writeFileSync(join(secretsDir, 'default', 'db-creds', 'password'), 's3cret');
    const { rt } = runtime({ secretsDir });
    const env = [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }];
    const out = await rt.run(runRequest(checkDefinition([shell('check', `test "$PASSWORD" = s3cret && ${HEALTHY}`, { env })])));
    expect(out.containers[0]!.exitCode).toBe(0);
    expect(out.output.kind).toBe('present');

    const missing = [{ name: 'X', value: 'x' }, { name: 'Y', value: 'y' }, { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'token' } } }];
    const failed = await rt.run(runRequest(checkDefinition([shell('check', HEALTHY, { env: missing })])));
    expect(failed.containers).toEqual([]);
    expect(failed.startFailure).toEqual({
      container: 'check',
      reason: 'StartFailed',
      message: `spec.workflow.spec.containers[0].env[2].valueFrom.secretKeyRef: secret "db-creds" key "token" not found in ${join(secretsDir, 'default', 'db-creds')}`,
    });
  });

  it('refuses secret names that would escape secretsDir', async () => {
    const { rt } = runtime({ secretsDir: join(scratch, 'no-secrets') });
    const env = [{ name: 'P', valueFrom: { secretKeyRef: { name: '../../etc', key: 'passwd' } } }];
    const out = await rt.run(runRequest(checkDefinition([shell('check', HEALTHY, { env })])));
    expect(out.startFailure?.message).toBe(
      'spec.workflow.spec.containers[0].env[0].valueFrom.secretKeyRef: secret "../../etc" key "passwd": name "../../etc" is not a valid DNS-1123 subdomain',
    );
  });

  it('removes the run directory in the background, and close() waits for it', async () => {
    const { rt, workDir } = runtime();
    await rt.run(runRequest(checkDefinition([shell('check', `${HEALTHY}; echo x > "$KRATIX_METADATA_DIR/m"; mkdir -p "$HOME/.cache/deep"`)])));
    await rt.run(runRequest(checkDefinition([shell('check', 'exit 1')])));
    await rt.close();
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('keeps the directory of a failed run with keepRunDirs: failed', async () => {
    const { rt, workDir } = runtime({ keepRunDirs: 'failed' });
    await rt.run(runRequest(checkDefinition([shell('check', HEALTHY)])));
    await rt.close();
    expect(readdirSync(workDir)).toEqual([]);
    await rt.run(runRequest(checkDefinition([shell('check', 'echo partial > "$KRATIX_OUTPUT_DIR/notes"; exit 2')])));
    await rt.close();
    const kept = readdirSync(workDir);
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(workDir, kept[0]!, 'output', 'notes'), 'utf8')).toBe('partial\n');
  });
});

describe('LocalRuntime: container engine failures before a container starts', () => {
  const image = 'example.org/only-in-a-container:v1';

  it('fails to start when the engine cannot be run', async () => {
    const { rt } = runtime({ containerEngine: { command: '/nonexistent/podman' } });
    const out = await rt.run(runRequest(checkDefinition([{ name: 'check', image }])));
    expect(out.containers).toEqual([]);
    expect(out.startFailure).toMatchObject({ container: 'check', reason: 'StartFailed' });
    expect(out.startFailure?.message).toContain('container "check": container engine "/nonexistent/podman" could not be run');
  });

  it('refuses a multi-line value, which an env file cannot carry, naming the variable', async () => {
    const { rt } = runtime({ containerEngine: { command: '/nonexistent/podman' } });
    const env = [{ name: 'CERT', value: '-----BEGIN-----\nabc\n-----END-----' }];
    const out = await rt.run(runRequest(checkDefinition([{ name: 'check', image, env }])));
    expect(out.startFailure).toEqual({
      container: 'check',
      reason: 'StartFailed',
      message: 'spec.workflow.spec.containers[0].env: the value of CERT spans several lines, which a container engine env file cannot carry',
    });
  });

  it('refuses a run id that cannot name a container', async () => {
    const { rt } = runtime({ containerEngine: { command: '/nonexistent/podman' } });
    const out = await rt.run(runRequest(checkDefinition([{ name: 'check', image }]), { runId: '../x' }));
    expect(out.startFailure?.message).toBe('runId "../x" cannot be part of a container name');
  });
});

/**
 * LocalRuntime with a real container engine: podman runs SKE-style shell checks in a
 * `FROM scratch` busybox image built by the suite. Skipped, with the reason printed,
 * only when podman, runc or busybox is missing or podman cannot run a container here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime, type LocalRuntimeOptions } from '../../agent/src/runtimes/LocalRuntime.js';
import { findExecutable } from '../../agent/src/runtimes/resolve.js';
import { checkDefinition, runRequest } from '../support/check-definition.js';
import { buildBusyboxImage, PODMAN, podmanUnavailableReason, TEST_IMAGE } from '../support/podman.js';

const unavailable = await podmanUnavailableReason();
if (unavailable !== undefined) console.warn(`skipping the podman runtime suite: ${unavailable}`);

const scratch = mkdtempSync(join(tmpdir(), 'vigil-podman-runtime-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let counter = 0;
function runtime(options: LocalRuntimeOptions = {}): { rt: LocalRuntime; workDir: string } {
  const workDir = join(scratch, `work-${++counter}`);
  return { rt: new LocalRuntime({ containerEngine: PODMAN, workDir, ...options }), workDir };
}

/** An SKE-style check: reads the input literally, writes the status with details. */
const SKE_CHECK = [
  'set -eu',
  'grep -q "name: db1" /kratix/input/object.yaml',
  'if touch /kratix/input/x 2>/dev/null; then ro=no; else ro=yes; fi',
  'cat > /kratix/output/health-status.yaml <<EOF',
  'state: healthy',
  'details:',
  '  object: $KRATIX_OBJECT_NAMESPACE/$KRATIX_OBJECT_NAME',
  '  kind: $KRATIX_OBJECT_KIND',
  '  target: $TARGET',
  '  passwordLength: ${#PASSWORD}',
  '  inputReadOnly: $ro',
  '  user: $(id -u)',
  'EOF',
  'echo checked',
].join('\n');

describe.skipIf(unavailable !== undefined)('LocalRuntime with podman', () => {
  beforeAll(async () => {
    await buildBusyboxImage(TEST_IMAGE);
  }, 300_000);

  it('runs an SKE-style shell check in a container with the Kratix mounts and environment', async () => {
    const secretsDir = join(scratch, 'secrets');
    mkdirSync(join(secretsDir, 'default', 'db-creds'), { recursive: true });
    writeFileSync(join(secretsDir, 'default', 'db-creds', 'password'), 'p@ss word');
    const { rt, workDir } = runtime({ secretsDir });
    const def = checkDefinition(
      [
        {
          name: 'check-db',
          image: TEST_IMAGE,
          args: ['sh', '-c', SKE_CHECK],
          env: [
            { name: 'HOST', value: 'db1.$(KRATIX_OBJECT_NAMESPACE).svc' },
            { name: 'TARGET', value: 'tcp://$(HOST):3306' },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
          ],
        },
      ],
      { resourceRef: { name: 'db1', namespace: 'default' }, input: 'apiVersion: example.org/v1\nkind: Database\nmetadata:\n  name: db1\n' },
    );
    const out = await rt.run(runRequest(def));
    expect(out.startFailure).toBeUndefined();
    expect(out.containers[0]).toMatchObject({ name: 'check-db', via: 'container', exitCode: 0, stdout: { text: 'checked\n' } });
    expect(out.output).toEqual({
      kind: 'present',
      content:
        'state: healthy\ndetails:\n  object: default/db1\n  kind: Database\n  target: tcp://db1.default.svc:3306\n  passwordLength: 9\n  inputReadOnly: yes\n  user: 0\n',
    });
    await rt.close();
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('runs the container command as the entrypoint, followed by args', async () => {
    expect(findExecutable('ash', (process.env.PATH ?? '').split(':')), 'this test needs a host without "ash" on PATH').toBeUndefined();
    const { rt } = runtime();
    const def = checkDefinition([{ name: 'check', image: TEST_IMAGE, command: ['ash', '-c'], args: ['echo "state: ready" > "$KRATIX_OUTPUT_DIR/health-status.yaml"'] }]);
    const out = await rt.run(runRequest(def));
    expect(out.containers[0]).toMatchObject({ via: 'container', exitCode: 0 });
    expect(out.output).toEqual({ kind: 'present', content: 'state: ready\n' });
  });

  it('lets a non-root container user write the output', async () => {
    const { rt } = runtime();
    const script = 'id -u > /kratix/metadata/uid && printf "state: healthy\\ndetails:\\n  uid: %s\\n" "$(cat /kratix/metadata/uid)" > /kratix/output/health-status.yaml';
    const def = checkDefinition([
      { name: 'check', image: TEST_IMAGE, args: ['sh', '-c', script], securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ]);
    const out = await rt.run(runRequest(def));
    expect(out.containers[0]).toMatchObject({ exitCode: 0, stderr: { text: '' } });
    expect(out.output).toEqual({ kind: 'present', content: 'state: healthy\ndetails:\n  uid: 65534\n' });
  });

  it('reports a missing image as ImagePull without pulling', async () => {
    const { rt } = runtime();
    const image = 'localhost/vigil-test-absent:never';
    const out = await rt.run(runRequest(checkDefinition([{ name: 'check', image, args: ['true'] }])));
    expect(out.containers).toEqual([]);
    expect(out.startFailure).toMatchObject({ container: 'check', reason: 'ImagePull' });
    expect(out.startFailure?.message).toContain(`image "${image}" is not present locally and vigil does not pull images`);
  });

  it('stops at a failing container and keeps its stderr', async () => {
    const { rt } = runtime();
    const def = checkDefinition([
      { name: 'first', image: TEST_IMAGE, args: ['sh', '-c', 'echo broken >&2; exit 4'] },
      { name: 'second', image: TEST_IMAGE, args: ['sh', '-c', 'echo "state: healthy" > /kratix/output/health-status.yaml'] },
    ]);
    const out = await rt.run(runRequest(def));
    expect(out.containers.map((c) => [c.name, c.exitCode, c.stderr.text])).toEqual([['first', 4, 'broken\n']]);
    expect(out.output).toEqual({ kind: 'missing' });
  });

  it('kills and removes the container on timeout', async () => {
    const { rt } = runtime();
    const request = runRequest(checkDefinition([{ name: 'hang', image: TEST_IMAGE, args: ['sleep', '1000'] }]), { timeoutMs: 4000 });
    const out = await rt.run(request);
    expect(out.timedOut).toBe(true);
    expect(out.containers[0]).toMatchObject({ name: 'hang', via: 'container', signal: 'SIGKILL' });
    const left = execFileSync(PODMAN.command, [...PODMAN.globalArgs!, 'ps', '-a', '--filter', `name=vigil-${request.runId}`, '--format', '{{.Names}}'], { encoding: 'utf8' });
    expect(left.trim()).toBe('');
  });
});

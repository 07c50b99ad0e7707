/**
 * End to end with a real container engine: `vigil agent`, configured with this machine's podman
 * flags, runs an SKE-style shell check inside a FROM-scratch busybox image. The check reads
 * /kratix/input/object.yaml and writes /kratix/output/health-status.yaml at their in-pod paths.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { PODMAN, TEST_IMAGE, buildBusyboxImage, podmanUnavailableReason } from '../support/podman.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { parseYamlDocument, toYaml } from '../../agent/src/core/yaml.js';
import type { HealthRecord } from '../../agent/src/core/model.js';

const unavailable = await podmanUnavailableReason();
if (unavailable !== undefined) console.warn(`skipping the podman end-to-end suite: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('vigil agent with podman', () => {
  let agent: AgentProcess | undefined;
  beforeAll(async () => {
    await buildBusyboxImage();
  }, 300_000);
  afterAll(async () => {
    await agent?.stop('SIGKILL');
  });

  it('runs an SKE-style check in a container and writes its record', async () => {
    const root = tempDir();
    const defs = join(root, 'definitions');
    mkdirSync(defs);
    // `ash` exists in the image but not on this host, so the container engine is the only way to run it.
    const script = [
      'set -eu',
      'replicas=$(sed -n "s/^ *replicas: *//p" /kratix/input/object.yaml)',
      'if [ "$replicas" -ge 1 ]; then state=healthy; else state=unhealthy; fi',
      'printf "state: %s\\ndetails:\\n  replicas: %s\\n  object: %s\\n  uid: \\"%s\\"\\n" "$state" "$replicas" "$KRATIX_OBJECT_NAME" "$(id -u)" > /kratix/output/health-status.yaml',
    ].join('\n');
    writeFileSync(join(defs, 'redis.yaml'), toYaml({
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'HealthDefinition',
      metadata: { name: 'redis-example', namespace: 'default' },
      spec: {
        promiseRef: { name: 'redis' },
        resourceRef: { name: 'example', namespace: 'default' },
        schedule: '@hourly',
        input: 'kind: redis\nspec:\n  replicas: 2\n',
        workflow: {
          apiVersion: 'platform.kratix.io/v1alpha1',
          kind: 'Pipeline',
          metadata: { name: 'healthcheck' },
          spec: { containers: [{ name: 'check', image: TEST_IMAGE, command: ['ash', '-c', script], securityContext: { runAsUser: 65534 } }] },
        },
      },
    }));
    const config = join(root, 'vigil.yaml');
    writeFileSync(config, toYaml({
      destination: 'podman',
      definitions: { paths: ['./definitions'] },
      store: { root: './state' },
      server: { listen: 'off' },
      scheduler: { runOnStart: 'always' },
      runtime: { containerEngine: { command: PODMAN.command, globalArgs: PODMAN.globalArgs, runArgs: PODMAN.runArgs } },
    }));
    agent = new AgentProcess(['--config', config]);
    const path = join(root, 'state', 'default', 'redis-example-podman.yaml');
    await waitFor(() => existsSync(path), 'the record', 120_000);
    const record = parseYamlDocument(readFileSync(path, 'utf8')) as HealthRecord;
    expect(record.data).toMatchObject({
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'example', namespace: 'default' },
      state: 'healthy',
      details: { replicas: 2, object: 'example', uid: '65534' },
    });
  }, 180_000);
});

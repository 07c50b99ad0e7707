import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapOutcome } from '../../agent/src/core/result.js';
import type { Container } from '../../agent/src/core/model.js';
import { discoverPlugins, type PluginRegistry } from '../../agent/src/plugins/discovery.js';
import { LocalRuntime } from '../../agent/src/runtimes/LocalRuntime.js';
import { distMissing, makeTempDir, removeTempDir } from '../check-images/helpers.js';
import { startServer, type TestServer } from '../check-images/http/servers.js';
import { checkDefinition, runRequest } from '../support/check-definition.js';
import { startFakeRds, type FakeRds } from '../support/fake-rds.js';

let dir: string;
let registry: PluginRegistry;
let web: TestServer;
let rds: FakeRds;
const runtimes: LocalRuntime[] = [];

beforeAll(async () => {
  dir = await makeTempDir('vigil-inprocess-');
  await writeFile(
    join(dir, 'probe.check-plugin.js'),
    `export default {
  type: 'probe', configKey: 'probe', images: ['example.org/probe'],
  run: (config, { input, env }) => {
    if (config && config.fail) throw new Error('probe: config.fail is set');
    if (config && config.huge) return { state: 'healthy', details: { blob: 'x'.repeat(70000) } };
    if (config && config.badState) return { state: 'fine' };
    return { state: 'healthy', details: { pid: process.pid, config: config ?? null, name: input.name ?? null, greeting: env.GREETING ?? null, inputDir: env.KRATIX_INPUT_DIR ?? null } };
  },
};
`,
  );
  await writeFile(
    join(dir, 'stuck.check-plugin.js'),
    `export default {
  type: 'stuck', configKey: 'stuck', images: ['example.org/stuck'],
  run: (_config, { signal }) => new Promise(() => { signal.addEventListener('abort', () => { globalThis.__stuckAborted = true; }); }),
};
`,
  );
  registry = await discoverPlugins({ dirs: [dir] });
  expect(registry.failed).toEqual([]);
  web = await startServer((req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
  });
  rds = await startFakeRds();
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await web.close();
  await rds.close();
  await removeTempDir(dir);
});
afterEach(() => {
  rds.requests.length = 0;
});

function runtime(withPlugins: boolean): LocalRuntime {
  const r = new LocalRuntime({ workDir: join(dir, 'runs'), containerEngine: 'none', ...(withPlugins ? { plugins: () => Promise.resolve(registry) } : {}) });
  runtimes.push(r);
  return r;
}

async function runBoth(containers: Container[], input: string) {
  const definition = checkDefinition(containers, { input });
  const viaPlugin = await runtime(true).run(runRequest(definition));
  const viaImage = await runtime(false).run(runRequest(definition));
  return { viaPlugin, viaImage, plugin: mapOutcome(viaPlugin), image: mapOutcome(viaImage) };
}

/** Latencies differ from run to run; everything else must be identical. */
function withoutLatency(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v: unknown) => (k === 'latency_ms' ? 0 : v))) as unknown;
}

describe('a container whose image a plugin serves runs in-process', () => {
  it('runs a user plugin in this process with the container env, input and config', async () => {
    const definition = checkDefinition(
      [{ name: 'check', image: 'example.org/probe:1', env: [{ name: 'GREETING', value: 'hello $(KRATIX_PROMISE_NAME)' }] }],
      { input: 'name: db-1\nprobe: {level: 2}\n' },
    );
    const outcome = await runtime(true).run(runRequest(definition));
    expect(outcome.containers).toMatchObject([{ name: 'check', image: 'example.org/probe:1', via: 'plugin', exitCode: 0, signal: null }]);
    const result = mapOutcome(outcome);
    expect(result.state).toBe('healthy');
    expect(result.details).toMatchObject({ pid: process.pid, config: { level: 2 }, name: 'db-1', greeting: 'hello web' });
    expect(result.details.inputDir).toMatch(/input$/);
  });

  it('takes the config from VIGIL_CHECK_CONFIG in the container env first', async () => {
    const definition = checkDefinition([{ name: 'check', image: 'example.org/probe', env: [{ name: 'VIGIL_CHECK_CONFIG', value: '{level: 9}' }] }], { input: 'probe: {level: 2}\n' });
    expect(mapOutcome(await runtime(true).run(runRequest(definition))).details).toMatchObject({ config: { level: 9 } });
  });

  it('records a plugin that throws as a broken check (ExitCode with its message), not as a down target', async () => {
    const definition = checkDefinition([{ name: 'check', image: 'example.org/probe' }], { input: 'probe: {fail: true}\n' });
    const outcome = await runtime(true).run(runRequest(definition));
    expect(outcome.containers[0]).toMatchObject({ via: 'plugin', exitCode: 1, stderr: { text: 'probe: config.fail is set\n' } });
    expect(mapOutcome(outcome)).toMatchObject({ state: 'unknown', details: { error: { reason: 'ExitCode', message: expect.stringContaining('probe: config.fail is set') } } });
  });

  it('refuses an invalid or oversized result as the SDK does in a process (exit 1, nothing written)', async () => {
    for (const [config, message] of [
      ['{huge: true}', /health-status\.yaml would be \d+ bytes, over the limit of 65536 bytes/],
      ['{badState: true}', /state: "fine" is not one of unknown, ready, unhealthy, healthy, degraded/],
    ] as const) {
      const definition = checkDefinition([{ name: 'check', image: 'example.org/probe' }], { input: `probe: ${config}\n` });
      const outcome = await runtime(true).run(runRequest(definition));
      expect(outcome.containers[0]).toMatchObject({ via: 'plugin', exitCode: 1, stderr: { text: expect.stringMatching(message) } });
      expect(outcome.output).toEqual({ kind: 'missing' });
      expect(mapOutcome(outcome).details).toMatchObject({ error: { reason: 'ExitCode' } });
    }
  });

  it('ends a plugin that ignores its deadline at the run timeout, after aborting its signal', async () => {
    const definition = checkDefinition([{ name: 'check', image: 'example.org/stuck' }]);
    const outcome = await runtime(true).run(runRequest(definition, { timeoutMs: 200 }));
    expect(outcome.timedOut).toBe(true);
    expect(outcome.containers[0]).toMatchObject({ via: 'plugin', exitCode: null, signal: 'SIGKILL' });
    expect(mapOutcome(outcome, { timeoutSeconds: 0.2 })).toMatchObject({ state: 'unknown', details: { error: { reason: 'Timeout' } } });
    expect((globalThis as { __stuckAborted?: boolean }).__stuckAborted).toBe(true);
  });

  it('leaves a container that sets its own command to the process path', async () => {
    const definition = checkDefinition([{ name: 'check', image: 'example.org/probe', command: ['/bin/sh', '-c', 'echo "state: degraded" > "$KRATIX_OUTPUT_DIR/health-status.yaml"'] }]);
    const outcome = await runtime(true).run(runRequest(definition));
    expect(outcome.containers[0]!.via).toBe('process');
    expect(mapOutcome(outcome).state).toBe('degraded');
  });
});

describe.skipIf(distMissing('check-images/http/src/main.js') ?? distMissing('check-images/rds/src/main.js'))(
  'the built-in checks give the same result in-process as through the image mapping',
  () => {
    it('http: a degraded run, one target 404', async () => {
      const input = `health_checks:\n  config:\n  - url: ${web.url}/up\n    json_path: status\n    json_equals: UP\n  - url: ${web.url}/missing\n`;
      const { viaPlugin, viaImage, plugin, image } = await runBoth([{ name: 'http', image: 'ghcr.io/vigil-health/check-http:v0.1.0' }], input);
      expect(viaPlugin.containers[0]!.via).toBe('plugin');
      expect(viaImage.containers[0]!.via).toBe('process');
      expect(plugin.state).toBe('degraded');
      expect(withoutLatency(plugin)).toEqual(withoutLatency(image));
    });

    it('http: the same broken-config error', async () => {
      const input = 'health_checks:\n  config:\n  - url: ftp://nope\n    bearer_token: tok-secret\n';
      const { viaPlugin, plugin, image } = await runBoth([{ name: 'http', image: 'ghcr.io/vigil-health/check-http' }], input);
      expect(viaPlugin.containers[0]).toMatchObject({ via: 'plugin', exitCode: 1 });
      expect(plugin).toEqual(image);
      expect(plugin.details).toMatchObject({ error: { reason: 'ExitCode', message: expect.stringContaining('health_checks.config[0].url: must be an http(s) URL') } });
      expect(JSON.stringify(plugin)).not.toContain('tok-secret');
    });

    it('rds: credentials, region and endpoint from the container env', async () => {
      rds.put({ identifier: 'example-default-mysql', status: 'modifying', endpoint: { address: 'db.local', port: 3306 }, pendingModifications: { AllocatedStorage: 40 } });
      const env = [
        { name: 'AWS_REGION', value: 'eu-west-1' },
        { name: 'AWS_ENDPOINT_URL_RDS', value: rds.url },
        { name: 'AWS_ACCESS_KEY_ID', value: rds.credentials.accessKeyId },
        { name: 'AWS_SECRET_ACCESS_KEY', value: rds.credentials.secretAccessKey },
        { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
      ];
      const input = 'apiVersion: aws.marketplace.kratix.io/v1alpha1\nkind: RDS\nmetadata: {name: example, namespace: default}\nspec: {engine: mysql}\n';
      const { viaPlugin, plugin, image } = await runBoth([{ name: 'check-rds-status', image: 'ghcr.io/vigil-health/check-rds:v0.1.0', env }], input);
      expect(viaPlugin.containers[0]!.via).toBe('plugin');
      expect(plugin).toEqual(image);
      expect(plugin).toMatchObject({ state: 'degraded', details: { identifier: 'example-default-mysql', instanceStatus: 'modifying', pendingModifications: { AllocatedStorage: 40 } } });
      expect(rds.requests.map((r) => r.status)).toEqual([200, 200]);
    });
  },
);

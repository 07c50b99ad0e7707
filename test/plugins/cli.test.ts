import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distMissing, makeTempDir, removeTempDir } from '../check-images/helpers.js';
import { startServer, type TestServer } from '../check-images/http/servers.js';
import { vigil } from '../support/cli.js';

describe.skipIf(distMissing('agent/src/cli/main.js'))('vigil plugins and in-process runs through the compiled CLI', () => {
  let dir: string;
  let web: TestServer;
  beforeAll(async () => {
    dir = await makeTempDir('vigil-plugins-cli-');
    await writeFile(join(dir, 'hello.check-plugin.mjs'), "export default { type: 'hello', configKey: 'hello', description: 'says hello', run: () => ({ state: 'healthy', details: { pid: process.pid } }) };\n");
    await writeFile(join(dir, 'broken.check-plugin.js'), 'export default {{\n');
    await writeFile(join(dir, 'misnamed.checkplugin.js'), 'export default {};\n');
    web = await startServer((_req, res) => {
      res.writeHead(200).end('ok');
    });
  });
  afterAll(async () => {
    await web.close();
    await removeTempDir(dir);
  });

  it('--json lists loaded and failed plugins with module and reason, exit 1 when any failed', async () => {
    const result = await vigil(['plugins', '--json', '--dir', dir]);
    expect(result.code).toBe(1);
    const listing = JSON.parse(result.stdout) as { loaded: Record<string, unknown>[]; failed: Record<string, unknown>[] };
    expect(listing.loaded.filter((p) => p.builtin).map((p) => p.type)).toEqual(expect.arrayContaining(['http', 'rds', 'vmi']));
    expect(listing.loaded.filter((p) => !p.builtin)).toEqual([
      { type: 'hello', configKey: 'hello', images: [], description: 'says hello', builtin: false, module: join(dir, 'hello.check-plugin.mjs') },
    ]);
    expect(listing.loaded[0]).toMatchObject({ configKey: 'health_checks', images: ['ghcr.io/vigil-health/check-http'] });
    expect(listing.failed).toEqual([
      { module: join(dir, 'broken.check-plugin.js'), reason: 'import', message: expect.stringMatching(/^import failed: SyntaxError/) },
      { module: join(dir, 'misnamed.checkplugin.js'), reason: 'naming', message: expect.stringContaining('<type>.check-plugin.js') },
    ]);
  });

  it('prints both lists as text, exit 0 when every plugin loaded', async () => {
    const result = await vigil(['plugins']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^loaded \(\d+\):\n {2}http {2}key health_checks {2}images ghcr\.io\/vigil-health\/check-http {2}\(built-in\)\n/);
    expect(result.stdout).toContain('failed (0):');
  });

  it('vigil run executes the HTTP check image in-process (via plugin) and prints the record', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(
      file,
      `apiVersion: platform.kratix.io/v1alpha1
kind: HealthDefinition
metadata: {name: web, namespace: default}
spec:
  promiseRef: {name: website}
  schedule: "@hourly"
  input: |
    health_checks:
      config:
      - url: ${web.url}/healthz
        body_contains: ok
  workflow:
    apiVersion: platform.kratix.io/v1alpha1
    kind: Pipeline
    metadata: {name: healthcheck}
    spec:
      containers:
      - {name: http, image: "ghcr.io/vigil-health/check-http:v0.1.0"}
`,
    );
    const result = await vigil(['run', file, '--output', 'json', '--log-level', 'debug']);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as { data: { state: string; details: { targets: { url: string; ok: boolean }[] } } };
    expect(record.data.state).toBe('healthy');
    expect(record.data.details.targets[0]).toMatchObject({ url: `${web.url}/healthz`, ok: true });
    expect(result.stderr).toMatch(/"via":"plugin"/);
  });
});

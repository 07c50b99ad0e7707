import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { distFile, distMissing, makeTempDir, removeTempDir, spawnNode } from '../helpers.js';
import { closedPort, reply, startServer, type TestServer } from './servers.js';

const MAIN = 'check-images/http/src/main.js';

describe.skipIf(distMissing(MAIN))('the HTTP check image entry point (compiled, real process)', () => {
  let dir: string;
  let env: Record<string, string>;
  const servers: TestServer[] = [];
  beforeEach(async () => {
    dir = await makeTempDir();
    for (const sub of ['input', 'output', 'metadata']) await mkdir(join(dir, sub));
    env = {
      KRATIX_INPUT_DIR: join(dir, 'input'),
      KRATIX_OUTPUT_DIR: join(dir, 'output'),
      KRATIX_METADATA_DIR: join(dir, 'metadata'),
    };
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await removeTempDir(dir);
  });

  const server = async (handler: Parameters<typeof startServer>[0]) => {
    const s = await startServer(handler);
    servers.push(s);
    return s;
  };
  const input = (text: string) => writeFile(join(dir, 'input', 'object.yaml'), text);
  const run = (extraEnv: Record<string, string> = {}, terminateWhen?: Promise<unknown>) =>
    spawnNode([distFile(MAIN)], { env: { ...env, ...extraEnv }, ...(terminateWhen ? { terminateWhen } : {}) });
  const status = async () => parse(await readFile(join(dir, 'output', 'health-status.yaml'), 'utf8')) as Record<string, any>;

  it('reads health_checks from object.yaml and writes health-status.yaml', async () => {
    const s = await server((req, res) => {
      res.writeHead(req.url === '/down' ? 503 : 200).end('{"status":"UP"}');
    });
    await input(`health_checks:\n  timeout: 5\n  config:\n  - url: ${s.url}/up\n    json_path: status\n    json_equals: UP\n  - url: ${s.url}/down\n`);
    const result = await run();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const file = await status();
    expect(file.state).toBe('degraded');
    expect(file.details.summary).toEqual({ total: 2, ok: 1, failed: 1 });
    expect(file.details.targets[1]).toMatchObject({ url: `${s.url}/down`, ok: false, status_code: 503 });
  });

  it('reads spec.health_checks from a resource request used as input', async () => {
    const s = await server(reply(200));
    await input(`apiVersion: example.org/v1\nkind: Website\nmetadata: {name: web}\nspec:\n  health_checks:\n  - url: ${s.url}/\n`);
    expect((await run()).code).toBe(0);
    expect((await status()).state).toBe('healthy');
  });

  it('prefers VIGIL_CHECK_CONFIG', async () => {
    const s = await server(reply(200));
    await input('health_checks: [{url: "http://127.0.0.1:1/never"}]\n');
    expect((await run({ VIGIL_CHECK_CONFIG: JSON.stringify([{ url: s.url }]) })).code).toBe(0);
    expect((await status()).state).toBe('healthy');
    expect(s.requests).toHaveLength(1);
  });

  it('falls back to HTTP_CHECK_URL when there is no input file', async () => {
    const port = await closedPort();
    const result = await run({ HTTP_CHECK_URL: `http://127.0.0.1:${port}/healthz`, HTTP_CHECK_TIMEOUT: '2' });
    expect(result.code).toBe(0);
    const file = await status();
    expect(file.state).toBe('unhealthy');
    expect(file.details.targets[0].error).toMatch(/ECONNREFUSED/);
  });

  it('runs a watching run when health_checks has a duration', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      n += 1;
      res.writeHead(n === 2 ? 503 : 200).end();
    });
    await input(`health_checks:\n  interval: 0.05\n  duration: 0.4\n  config:\n  - url: ${s.url}/\n`);
    const result = await run();
    expect(result.code).toBe(0);
    const file = await status();
    expect(file.state).toBe('degraded');
    expect(file.details.targets[0].windows.map((w: { status_code: string }) => w.status_code)).toEqual(['200', '503', '200']);
    expect(file.details.targets[0].downtime_seconds).toBeGreaterThan(0);
  });

  it('exits 1 and writes nothing without any configuration', async () => {
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^no HTTP check configuration: /);
    expect(await readdir(join(dir, 'output'))).toEqual([]);
  });

  it('exits 1 naming the field of an invalid config, without its secrets', async () => {
    await input('health_checks:\n  config:\n  - url: https://ok.example/\n  - url: ftp://admin:hunter2@files.example/\n    bearer_token: tok-hunter3\n');
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('health_checks.config[1].url: must be an http(s) URL\n');
    expect(await readdir(join(dir, 'output'))).toEqual([]);
  });

  it('exits 143 promptly on SIGTERM while a target hangs, writing nothing', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const s = await server(() => {
      arrived();
    });
    await input(`health_checks: {timeout: 300, config: [{url: "${s.url}/hang"}]}\n`);
    const result = await run({}, requestArrived);
    expect(result.code).toBe(143);
    expect(result.stderr).toBe('check stopped by SIGTERM\n');
    expect(await readdir(join(dir, 'output'))).toEqual([]);
  });
});

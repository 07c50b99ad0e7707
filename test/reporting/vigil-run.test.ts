/**
 * `vigil run` (one-shot) gives Kuberhealthy-style checks the KH_* environment and a loopback
 * reporting URL served by the agent's report routes for the run's duration: real check
 * processes using the npm `kuberhealthy` client, through the compiled CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Container, HealthRecord } from '../../agent/src/core/model.js';
import { toYaml } from '../../agent/src/core/yaml.js';
import { ANNOTATION_KH_CHECK } from '../../agent/src/reporting/protocol.js';
import { distMissing } from '../check-images/helpers.js';
import { checkDefinition } from '../support/check-definition.js';
import { REPO, vigil } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const CLIENT = join(REPO, 'node_modules', 'kuberhealthy');

function khDefinition(dir: string, name: string, script: string, annotate = true): string {
  const containers: Container[] = [{ name: 'khcheck', image: 'example.org/kh-check:1', command: [process.execPath, '-e', `const kh = require(${JSON.stringify(CLIENT)}); ${script}`] }];
  const definition = checkDefinition(containers, { timeoutSeconds: 60 }, name, 'kh');
  if (annotate) definition.metadata.annotations = { [ANNOTATION_KH_CHECK]: 'true' };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, toYaml(definition));
  return file;
}

const exitOnError = '.catch((e) => { console.error(e.message); process.exit(1); })';

describe.skipIf(distMissing('agent/src/cli/main.js'))('vigil run with a Kuberhealthy check (npm kuberhealthy client)', () => {
  it('gives the KH_* environment with a loopback reporting URL; ReportSuccess -> healthy, exit 0', async () => {
    const dir = tempDir();
    const envFile = join(dir, 'env.json');
    const file = khDefinition(
      dir,
      'ok',
      `require('node:fs').writeFileSync(${JSON.stringify(envFile)}, JSON.stringify({ url: process.env.KH_REPORTING_URL, uuid: process.env.KH_RUN_UUID, deadline: process.env.KH_CHECK_RUN_DEADLINE, ns: process.env.KH_POD_NAMESPACE }));
       kh.ReportSuccess()${exitOnError};`,
    );
    const started = Date.now() / 1000;
    const r = await vigil(['run', file, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as HealthRecord).data).toMatchObject({ state: 'healthy' });
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as { url: string; uuid: string; deadline: string; ns: string };
    expect(env.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/externalCheckStatus/${env.uuid}$`));
    expect(env.ns).toBe('kh');
    expect(Number(env.deadline)).toBeGreaterThanOrEqual(Math.floor(started + 59));
    expect(Number(env.deadline)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000 + 60));
  });

  it('ReportFailure -> unhealthy with details.errors, exit 2', async () => {
    const dir = tempDir();
    const file = khDefinition(dir, 'fail', `kh.ReportFailure(['disk full', 'db down'])${exitOnError};`);
    const r = await vigil(['run', file, '-o', 'json']);
    expect(r.code, r.stderr).toBe(2);
    expect((JSON.parse(r.stdout) as HealthRecord).data).toMatchObject({ state: 'unhealthy', details: { errors: ['disk full', 'db down'] } });
  });

  it('a Kuberhealthy-style check that neither reports nor writes a file -> unknown, NoReport, exit 3', async () => {
    const dir = tempDir();
    const file = khDefinition(dir, 'silent', '/* never reports */');
    const r = await vigil(['run', file, '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    expect((JSON.parse(r.stdout) as HealthRecord).data).toMatchObject({ state: 'unknown', details: { error: { reason: 'NoReport' } } });
  });

  it('refuses a second report and an invalid one with the protocol codes (410, 400), keeping the first', async () => {
    const dir = tempDir();
    const codes = join(dir, 'codes.json');
    const file = khDefinition(
      dir,
      'twice',
      `(async () => {
        const url = process.env.KH_REPORTING_URL;
        const post = (body, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body }).then((r) => r.status);
        const result = [await post('{"OK": true, "Errors": ["x"]}'), await post('nope', 'text/plain'), (await fetch(url)).status, await post('{"ok": false, "errors": ["first"]}'), await post('{"OK": true}')];
        require('node:fs').writeFileSync(${JSON.stringify(codes)}, JSON.stringify(result));
      })()${exitOnError};`,
    );
    const r = await vigil(['run', file, '-o', 'json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(readFileSync(codes, 'utf8'))).toEqual([400, 415, 405, 200, 410]);
    expect((JSON.parse(r.stdout) as HealthRecord).data).toMatchObject({ state: 'unhealthy', details: { errors: ['first'] } });
  });
});

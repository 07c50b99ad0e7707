/**
 * The Kuberhealthy reporting protocol end to end inside a real agent: real check processes
 * using the npm `kuberhealthy` client (which sends no kh-run-uuid header and relies on the run
 * id vigil puts in KH_REPORTING_URL), a check that never reports, and every response code of
 * the report endpoints against a live run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { ANNOTATION_KH_CHECK } from '../../agent/src/reporting/protocol.js';
import { REPO } from '../support/cli.js';
import type { Container } from '../../agent/src/core/model.js';
import { waitFor } from '../support/tmp.js';
import { definitionYaml, getJson, startHarness, type Harness } from '../server/harness.js';

const KH = { [ANNOTATION_KH_CHECK]: 'true' };
const CLIENT = join(REPO, 'node_modules', 'kuberhealthy');

/** A container running a node script with the npm kuberhealthy client bound to `kh`. */
function nodeCheck(script: string): Container[] {
  return [{ name: 'khcheck', image: 'example.org/kh-check:1', command: [process.execPath, '-e', `const kh = require(${JSON.stringify(CLIENT)}); ${script}`] }];
}

describe('Kuberhealthy reporting', () => {
  let h: Harness;
  let envFile: string;
  let release: string;

  beforeAll(async () => {
    h = await startHarness({ runOnStart: 'always' });
    envFile = join(h.root, 'kh-env.json');
    release = join(h.root, 'release');
    const files: Record<string, string> = {
      'ok.yaml': definitionYaml('kh', 'ok', nodeCheck('kh.ReportSuccess().catch((e) => { console.error(e.message); process.exit(1); });'), {}, KH),
      'fail.yaml': definitionYaml('kh', 'fail', nodeCheck("kh.ReportFailure(['disk full', 'db down']).catch((e) => { console.error(e.message); process.exit(1); });"), {}, KH),
      'silent.yaml': definitionYaml('kh', 'silent', nodeCheck('/* never reports */'), {}, KH),
      'waits.yaml': definitionYaml('kh', 'waits', nodeCheck(`
        const fs = require('node:fs');
        fs.writeFileSync(${JSON.stringify(envFile)}, JSON.stringify({ url: process.env.KH_REPORTING_URL, uuid: process.env.KH_RUN_UUID, deadline: process.env.KH_CHECK_RUN_DEADLINE, ns: process.env.KH_POD_NAMESPACE }));
        const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(release)})) { clearInterval(t); } }, 50);`), { timeoutSeconds: 60 }, KH),
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(h.defs, f), text);
    await waitFor(() => ['ok', 'fail', 'silent'].every((n) => (h.agent.check('kh', n)?.history.length ?? 0) > 0), 'the reporting checks', 30_000);
  });
  afterAll(async () => {
    writeFileSync(release, '');
    await h.close();
  });

  const record = (name: string): HealthRecord => parseYamlDocument(readFileSync(join(h.state, 'kh', `${name}-test.yaml`), 'utf8')) as HealthRecord;

  it('maps ReportSuccess to healthy and ReportFailure to unhealthy with details.errors', async () => {
    await waitFor(() => existsSync(join(h.state, 'kh', 'ok-test.yaml')) && existsSync(join(h.state, 'kh', 'fail-test.yaml')), 'records');
    expect(record('ok').data).toMatchObject({ state: 'healthy' });
    expect(record('fail').data).toMatchObject({ state: 'unhealthy', details: { errors: ['disk full', 'db down'] } });
    const v2 = (await getJson<{ CheckDetails: Record<string, { OK: boolean; Errors: string[] }> }>(`${h.url}/kuberhealthy`)).body;
    expect(v2.CheckDetails['kh/fail']).toMatchObject({ OK: false, Errors: ['disk full', 'db down'] });
    expect(v2.CheckDetails['kh/ok']).toMatchObject({ OK: true, Errors: [] });
  });

  it('ends a Kuberhealthy-style check that neither reports nor writes a file as unknown with NoReport', () => {
    const last = h.agent.check('kh', 'silent')!.history[0]!;
    expect(last).toMatchObject({ state: 'unknown', reason: 'NoReport' });
    expect(last.message).toMatch(/did not report to KH_REPORTING_URL/);
  });

  it('gives every container the KH_* environment and answers each report with the right code', async () => {
    await waitFor(() => existsSync(envFile), 'the waiting check to start');
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as { url: string; uuid: string; deadline: string; ns: string };
    expect(env.url).toBe(`${h.url}/externalCheckStatus/${env.uuid}`);
    expect(env.ns).toBe('kh');
    expect(Number(env.deadline)).toBeGreaterThan(Date.now() / 1000 + 30);
    expect(Number(env.deadline)).toBeLessThanOrEqual(Date.now() / 1000 + 61);

    const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      getJson<{ error?: string }>(`${h.url}${path}`, { method: 'POST', headers, body });
    // 405 for a non-POST, 415 for a non-JSON body.
    const get = await getJson(`${h.url}/check`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(`/check/${env.uuid}`, 'OK=true', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post(`/check/${env.uuid}`, '{"OK":true}', { 'content-type': 'text/plain' })).status).toBe(415);
    // 400: unknown run, missing run id, OK:true with errors, OK:false without errors, not JSON.
    expect(await post('/check', '{"OK":true}', { 'content-type': 'application/json', 'kh-run-uuid': 'no-such-run' })).toMatchObject({ status: 400, body: { error: 'run uuid no-such-run is invalid or expired' } });
    expect((await post('/externalCheckStatus', '{"OK":true}')).body.error).toMatch(/missing kh-run-uuid/);
    expect((await post(`/check/${env.uuid}`, '{"OK":true,"Errors":["x"]}')).status).toBe(400);
    expect((await post(`/check/${env.uuid}`, '{"ok":false,"errors":[]}')).status).toBe(400);
    expect((await post(`/check/${env.uuid}`, '{not json')).status).toBe(400);
    expect((await post(`/check/${env.uuid}`, '{"OK":true}', { 'content-type': 'application/json', 'kh-run-uuid': 'another' })).status).toBe(400);
    // 200: the v3 path with the header, keys in lower case.
    const ok = await post('/check', '{"ok":false,"errors":["reported over /check"]}', { 'content-type': 'application/json; charset=utf-8', 'kh-run-uuid': env.uuid });
    expect(ok).toMatchObject({ status: 200, body: { ok: true, runId: env.uuid } });
    // 410: already reported; and after the run ends.
    expect((await post(`/externalCheckStatus/${env.uuid}`, '{"OK":true}')).status).toBe(410);
    writeFileSync(release, '');
    await waitFor(() => h.agent.check('kh', 'waits')!.history.length > 0, 'the waiting check to finish');
    expect(h.agent.check('kh', 'waits')!.history[0]).toMatchObject({ state: 'unhealthy', errors: ['reported over /check'] });
    const late = await post(`/externalCheckStatus/${env.uuid}`, '{"OK":true}');
    expect(late.status).toBe(410);
    expect(late.body.error).toMatch(/has finished/);
  });
});

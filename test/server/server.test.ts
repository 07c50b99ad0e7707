/**
 * The HTTP server against a real in-process agent running real check processes: the JSON
 * API (definitions, run-now, run status), the khealth endpoint, Kuberhealthy status pages,
 * JSON errors, body limits, and bearer-token auth.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../agent/src/logging/logger.js';
import { TokenAuth } from '../../agent/src/server/auth.js';
import { AgentServer, UnsafeListenError } from '../../agent/src/server/server.js';
import { shell } from '../support/check-definition.js';
import { waitFor } from '../support/tmp.js';
import { definitionYaml, getJson, startHarness, type Harness } from './harness.js';

const writes = (state: string) => [shell('check', `echo "state: ${state}" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)];

interface DefinitionItem {
  namespace: string;
  name: string;
  schedule: string;
  nextRun: string | null;
  lastRun: string | null;
  state: string | null;
  reason: string | null;
  history: { runId: string; state: string; reason: string | null; scheduledAt: string | null; startedAt: string; finishedAt: string }[];
}

describe('HTTP API of a running agent', () => {
  let h: Harness;
  let release: string;

  beforeAll(async () => {
    h = await startHarness({
      files: {
        'healthy.yaml': definitionYaml('team', 'healthy', writes('healthy')),
        'degraded.yaml': definitionYaml('team', 'degraded', writes('degraded')),
        'broken.yaml': definitionYaml('team', 'broken', [shell('check', 'echo boom >&2; exit 1')]),
        'pending.yaml': definitionYaml('team', 'pending', writes('healthy'), { suspend: true }),
      },
    });
    release = join(h.root, 'release');
    writeFileSync(
      join(h.defs, 'slow.yaml'),
      definitionYaml('team', 'slow', [shell('check', `while [ ! -f "${release}" ]; do sleep 0.05; done; echo "state: ready" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)]),
    );
    await waitFor(() => h.agent.check('team', 'slow')?.running !== undefined, 'the slow check to run');
    await waitFor(() => ['healthy', 'degraded', 'broken'].every((n) => (h.agent.check('team', n)?.history.length ?? 0) > 0), 'first runs');
  });
  afterAll(async () => {
    writeFileSync(release, '');
    await h.close();
  });

  it('serves liveness and readiness', async () => {
    expect((await getJson(`${h.url}/healthz`)).body).toEqual({ status: 'ok' });
    expect((await getJson(`${h.url}/readyz`)).status).toBe(200);
    const head = await fetch(`${h.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('lists definitions with schedule, next run, last result and a short history', async () => {
    const { status, body } = await getJson<{ items: DefinitionItem[] }>(`${h.url}/api/v1/definitions`);
    expect(status).toBe(200);
    const byName = new Map(body.items.map((d) => [d.name, d]));
    const healthy = byName.get('healthy')!;
    expect(healthy).toMatchObject({ namespace: 'team', schedule: '@yearly', state: 'healthy', reason: null });
    expect(Date.parse(healthy.nextRun!)).toBeGreaterThan(Date.now());
    expect(healthy.lastRun).toBe(healthy.history[0]!.finishedAt);
    expect(healthy.history[0]).toMatchObject({ state: 'healthy', reason: null });
    expect(healthy.history[0]!.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(byName.get('broken')).toMatchObject({ state: 'unknown', reason: 'ExitCode' });
    expect(byName.get('pending')).toMatchObject({ state: null, lastRun: null, history: [] });

    const filtered = await getJson<{ items: DefinitionItem[] }>(`${h.url}/api/v1/definitions?state=pending,degraded&history=0`);
    expect(filtered.body.items.map((d) => [d.name, d.history.length])).toEqual([['degraded', 0], ['pending', 0], ['slow', 0]]);
    expect((await getJson<{ items: DefinitionItem[] }>(`${h.url}/api/v1/definitions?namespace=other`)).body.items).toEqual([]);
    expect((await getJson<{ items: DefinitionItem[] }>(`${h.url}/api/v1/definitions?namespace=team&history=1`)).body.items.every((d) => d.history.length <= 1)).toBe(true);
    expect((await getJson(`${h.url}/api/v1/definitions?history=-1`)).body).toEqual({ error: 'history must be a whole number >= 0, got "-1"' });

    const one = await getJson(`${h.url}/api/v1/definitions/team/degraded`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'degraded', state: 'degraded', details: {} });
    const missing = await getJson(`${h.url}/api/v1/definitions/team/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'definition team/nope not found' });
  });

  it('runs a definition now: 202 with a run id, then the run\'s result by id', async () => {
    const before = h.agent.check('team', 'healthy')!.history.length;
    const res = await getJson<{ runId: string; status: string }>(`${h.url}/api/v1/definitions/team/healthy/run`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/v1/runs/${res.body.runId}`);
    await waitFor(() => h.agent.check('team', 'healthy')!.history.length > before, 'the manual run');
    const run = (await getJson(`${h.url}${res.body.status}`)).body;
    expect(run).toMatchObject({ runId: res.body.runId, trigger: 'manual', phase: 'finished', definition: { namespace: 'team', name: 'healthy' }, result: { state: 'healthy', reason: null } });
    expect(h.agent.check('team', 'healthy')!.history[0]!.runId).toBe(res.body.runId);

    expect((await getJson(`${h.url}/api/v1/definitions/team/nope/run`, { method: 'POST' })).status).toBe(404);
    const kh = await getJson<{ runId: string }>(`${h.url}/api/run?namespace=team&healthcheck=degraded`, { method: 'POST' });
    expect(kh.status).toBe(202);
    await waitFor(() => h.agent.run(kh.body.runId)?.phase === 'finished', 'the run triggered the Kuberhealthy v3 way');
    expect((await getJson(`${h.url}/api/run?namespace=team`, { method: 'POST' })).status).toBe(400);
    const busy = await getJson<{ error: string }>(`${h.url}/api/v1/definitions/team/slow/run`, { method: 'POST' });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/already has a run in progress/);
    const unknownRun = await getJson(`${h.url}/api/v1/runs/00000000-0000-0000-0000-000000000000`);
    expect(unknownRun.status).toBe(404);
    expect((await getJson(`${h.url}/api/v1/definitions/team/healthy/run`)).status).toBe(405);
  });

  it('answers khealth-style: the status code says it, the body is one line', async () => {
    const health = async (name: string) => {
      const res = await fetch(`${h.url}/api/v1/health/team/${name}`);
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
    };
    const healthy = await health('healthy');
    expect(healthy.status).toBe(200);
    expect(healthy.type).toMatch(/^text\/plain/);
    expect(healthy.text).toMatch(/^team\/healthy: healthy at \S+\n$/);
    expect((await health('degraded')).status).toBe(500);
    const broken = await health('broken');
    expect(broken.status).toBe(503);
    expect(broken.text).toMatch(/^team\/broken: unknown at \S+ \(ExitCode: container "check" exited with code 1: boom\)\n$/);
    const pending = await health('pending');
    expect(pending).toMatchObject({ status: 503, text: 'team/pending: not yet run\n' });
    expect((await health('nope')).status).toBe(404);
  });

  it('serves Kuberhealthy v3 (/json) and v2 (/kuberhealthy) status pages keyed namespace/name', async () => {
    const v3 = (await getJson<{ OK: boolean; Errors: string[]; CheckDetails: Record<string, Record<string, unknown>>; CurrentMaster: string; Metadata: unknown }>(`${h.url}/json`)).body;
    expect(v3.OK).toBe(false);
    expect(v3.CurrentMaster).toBe('test');
    expect(Object.keys(v3.CheckDetails).sort()).toEqual(['team/broken', 'team/degraded', 'team/healthy', 'team/pending', 'team/slow']);
    expect(v3.CheckDetails['team/healthy']).toMatchObject({ ok: true, errors: [], namespace: 'team', consecutiveFailures: 0, currentUUID: '', timeoutSeconds: 30 });
    expect(v3.CheckDetails['team/healthy']!.successCount).toBeGreaterThanOrEqual(1);
    expect(v3.CheckDetails['team/healthy']!.lastRunUnix).toBeGreaterThan(1_700_000_000);
    expect(v3.CheckDetails['team/broken']).toMatchObject({ ok: false, consecutiveFailures: 1, failureCount: 1 });
    expect((v3.CheckDetails['team/broken']!.errors as string[])[0]).toMatch(/^Check execution error: team\/broken: ExitCode: /);
    expect(v3.CheckDetails['team/slow']!.currentUUID).toMatch(/^[0-9a-f-]{36}$/);
    for (const field of ['ok', 'errors', 'consecutiveFailures', 'runDuration', 'namespace', 'currentUUID', 'lastRunUnix', 'successCount', 'failureCount', 'lastOKUnix', 'lastFailureUnix', 'additionalMetadata', 'nextRunUnix', 'podName', 'timeoutSeconds', 'runIntervalSeconds']) {
      expect(v3.CheckDetails['team/healthy']).toHaveProperty(field);
    }
    expect(v3.Errors.length).toBe(2);
    const filtered = (await getJson<{ CheckDetails: Record<string, unknown> }>(`${h.url}/json?namespace=other`)).body;
    expect(filtered.CheckDetails).toEqual({});

    const v2 = (await getJson<{ OK: boolean; Errors: string[]; CheckDetails: Record<string, Record<string, unknown>>; CurrentMaster: string; JobDetails: unknown }>(`${h.url}/kuberhealthy`)).body;
    expect(v2.OK).toBe(false);
    expect(v2.JobDetails).toEqual({});
    expect(v2.CheckDetails['team/degraded']).toMatchObject({ OK: false, Errors: ['team/degraded is degraded'], Namespace: 'team', Node: '', AuthoritativePod: 'test', uuid: '' });
    expect(v2.CheckDetails['team/healthy']).toMatchObject({ OK: true, Errors: [] });
    expect(v2.CheckDetails['team/healthy']!.RunDuration).toMatch(/^\d+(\.\d+)?(ms|s)$/);
    expect(Date.parse(v2.CheckDetails['team/healthy']!.LastRun as string)).toBeGreaterThan(0);
  });

  it('answers every error with a JSON body', async () => {
    const notFound = await getJson(`${h.url}/nope`);
    expect(notFound).toMatchObject({ status: 404, body: { error: 'no such endpoint: GET /nope' } });
    const wrongMethod = await getJson(`${h.url}/api/v1/status`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expect(wrongMethod.body).toEqual({ error: 'method DELETE not allowed on /api/v1/status' });
    const big = await getJson<{ error: string }>(`${h.url}/api/v1/signal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'x'.repeat(100_000) }) });
    expect(big.status).toBe(413);
    expect(typeof big.body.error).toBe('string');
    const badJson = await getJson<{ error: string }>(`${h.url}/api/v1/signal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(badJson.status).toBe(400);
    const badState = await getJson(`${h.url}/api/v1/signal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"state":"JUMP"}' });
    expect(badState).toMatchObject({ status: 400, body: { error: 'state must be one of RUN, PAUSE, STOP' } });
    expect((await getJson(`${h.url}/api/v1/signal`)).body).toMatchObject({ state: 'RUN' });
  });

  // Last in this block: it adds an invalid definition file.
  it('serves the agent summary, the last HealthRecord of each definition, and invalid files with field paths', async () => {
    const status = (await getJson<{ ready: boolean; definitions: number; states: Record<string, number>; scheduler: Record<string, number>; store: { kind: string }; signal: { state: string } }>(`${h.url}/api/v1/status`)).body;
    expect(status).toMatchObject({ ready: true, destination: 'test', definitions: 5, invalidFiles: 0, store: { kind: 'fs' }, signal: { state: 'RUN' } });
    expect(status.states).toMatchObject({ healthy: 1, degraded: 1, unknown: 1, pending: 2 });

    const records = (await getJson<{ items: { kind: string; metadata: { name: string; namespace: string }; data: { state: string } }[] }>(`${h.url}/api/v1/records`)).body.items;
    const byName = new Map(records.map((r) => [r.metadata.name, r]));
    expect(byName.get('healthy-test')).toMatchObject({ kind: 'HealthRecord', metadata: { namespace: 'team' }, data: { state: 'healthy' } });
    expect(byName.get('broken-test')?.data.state).toBe('unknown');
    expect(byName.has('pending-test')).toBe(false);

    expect((await getJson(`${h.url}/api/v1/problems`)).body).toEqual({ items: [] });
    writeFileSync(join(h.defs, 'bad.yaml'), definitionYaml('team', 'bad', writes('healthy'), { schedule: 'every minute' }));
    await waitFor(() => h.agent.problems().length > 0, 'the invalid file to be reported');
    const problems = (await getJson<{ items: { file: string; problems: { object: string; errors: string[] }[] }[] }>(`${h.url}/api/v1/problems`)).body.items;
    expect(problems).toEqual([{ file: join(h.defs, 'bad.yaml'), problems: [{ object: 'team/bad', errors: [expect.stringMatching(/^team\/bad: spec\.schedule: /)] }] }]);
  });
});

describe('bearer-token auth', () => {
  const token = 'test-token-0123456789abcdef';
  let h: Harness;
  let logText = '';

  beforeAll(async () => {
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logText += chunk.toString(); cb(); } });
    h = await startHarness({
      token,
      runOnStart: 'never',
      files: { 'a.yaml': definitionYaml('team', 'a', writes('healthy')) },
      server: { logger: createLogger({ level: 'debug', destination: sink, pretty: false }) },
    });
  });
  afterAll(async () => { await h.close(); });

  it('refuses mutating requests without the right token and accepts Bearer or Basic', async () => {
    const url = `${h.url}/api/v1/definitions/team/a/run`;
    const none = await getJson(url, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.body).toEqual({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
    expect((await getJson(url, { method: 'POST', headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await getJson(url, { method: 'POST', headers: { authorization: 'Bearer short' } })).status).toBe(401);
    expect((await getJson(url, { method: 'POST', headers: { authorization: token } })).status).toBe(401);
    const ok = await getJson<{ runId: string }>(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(202);
    await waitFor(() => h.agent.run(ok.body.runId)?.phase === 'finished', 'the run');
    const basic = await getJson(`${h.url}/api/v1/signal/PAUSE`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`krkn:${token}`).toString('base64')}` } });
    expect(basic).toMatchObject({ status: 200, body: { state: 'PAUSE' } });
    expect((await getJson(`${h.url}/api/v1/signal/RUN`, { method: 'POST' })).status).toBe(401);
    expect(h.signals.state).toBe('PAUSE');
    // Reads stay open unless requireTokenForReads.
    expect((await getJson(`${h.url}/api/v1/status`)).status).toBe(200);
    expect(logText).toContain('"msg":"http request"');
    expect(logText).not.toContain(token);
  });

  it('requires the token for reads when asked, except liveness and readiness', async () => {
    const server = new AgentServer({ host: '127.0.0.1', port: 0, provider: h.agent, logger: silentLogger(), auth: new TokenAuth(token), requireTokenForReads: true });
    const { url } = await server.start();
    try {
      expect((await getJson(`${url}/api/v1/status`)).status).toBe(401);
      expect((await getJson(`${url}/json`)).status).toBe(401);
      expect((await getJson(`${url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await getJson(`${url}/healthz`)).status).toBe(200);
      expect((await getJson(`${url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('refuses to start a mutating listener off loopback without a token, naming the setting', async () => {
    const open = new AgentServer({ host: '0.0.0.0', port: 0, provider: h.agent, logger: silentLogger() });
    await expect(open.start()).rejects.toThrow(UnsafeListenError);
    await expect(open.start()).rejects.toThrow(/server\.tokenFile \(or the VIGIL_TOKEN environment variable\)/);

    const readOnly = new AgentServer({ host: '0.0.0.0', port: 0, provider: h.agent, logger: silentLogger(), readOnly: true });
    const { port } = await readOnly.start();
    try {
      const res = await getJson(`http://127.0.0.1:${port}/api/v1/definitions/team/a/run`, { method: 'POST' });
      expect(res).toMatchObject({ status: 403, body: { error: 'mutating endpoints are disabled (server.readOnly: true)' } });
      expect((await getJson(`http://127.0.0.1:${port}/api/v1/status`)).status).toBe(200);
    } finally {
      await readOnly.stop();
    }

    const withToken = new AgentServer({ host: '0.0.0.0', port: 0, provider: h.agent, logger: silentLogger(), auth: new TokenAuth(token) });
    await withToken.start();
    await withToken.stop();
    expect(existsSync(h.state)).toBe(true);
  });
});

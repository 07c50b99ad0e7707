/**
 * End to end: the real `vigil agent` process on a temp directory of definitions, with real
 * check processes, the fs store and the HTTP server.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { parseYamlDocument, toYaml } from '../../agent/src/core/yaml.js';
import type { Container, HealthDefinitionSpec, HealthRecord } from '../../agent/src/core/model.js';
import { checkDefinition, shell } from '../support/check-definition.js';

function definition(name: string, containers: Container[], spec: Partial<HealthDefinitionSpec> = {}): string {
  return toYaml(checkDefinition(containers, { promiseRef: { name: 'demo' }, resourceRef: { name, namespace: 'team-a' }, schedule: '* * * * *', ...spec }, name, 'team-a'));
}

const check = (script: string): Container[] => [shell('check', script)];
const writes = (state: string) => check(`echo "state: ${state}" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`);

const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
});

function setup(): { defs: string; state: string; start: (extra?: string[]) => AgentProcess; record: (name: string) => HealthRecord | undefined } {
  const root = tempDir();
  const defs = join(root, 'definitions');
  const state = join(root, 'state');
  mkdirSync(defs);
  return {
    defs,
    state,
    start: (extra = []) => {
      const agent = new AgentProcess(['--definitions', defs, '--state-dir', state, '--data-dir', join(root, 'data'), '--listen', '127.0.0.1:0', '--destination', 'ci', '--run-on-start', 'always', '--spread-seconds', '0', ...extra]);
      agents.push(agent);
      return agent;
    },
    record: (name) => {
      const path = join(state, 'team-a', `${name}-ci.yaml`);
      return existsSync(path) ? (parseYamlDocument(readFileSync(path, 'utf8')) as HealthRecord) : undefined;
    },
  };
}

describe('vigil agent, end to end', () => {
  it('produces the expected records; a broken file and a broken check do not stop the others', async () => {
    const t = setup();
    writeFileSync(join(t.defs, 'healthy.yaml'), definition('healthy', writes('healthy')));
    writeFileSync(join(t.defs, 'degraded.yaml'), definition('degraded', writes('degraded')));
    writeFileSync(join(t.defs, 'broken-check.yaml'), definition('broken-check', check('echo boom >&2; exit 1')));
    writeFileSync(join(t.defs, 'self-http.yaml'), definition('self-http', [
      { name: 'http', image: 'ghcr.io/vigil-health/check-http:v0.1.0', env: [{ name: 'HTTP_CHECK_URL', value: '$(VIGIL_AGENT_URL)/healthz' }] },
    ]));
    writeFileSync(join(t.defs, 'invalid.yaml'), definition('invalid', writes('healthy'), { timeZone: 'Mars/Olympus' }));
    writeFileSync(join(t.defs, 'garbage.yaml'), ': : : [');
    const agent = t.start();
    const url = await agent.url();

    await waitFor(() => ['healthy', 'degraded', 'broken-check', 'self-http'].every((n) => t.record(n) !== undefined), 'four records');
    expect(t.record('healthy')!.data).toMatchObject({ promiseRef: { name: 'demo' }, resourceRef: { name: 'healthy', namespace: 'team-a' }, state: 'healthy' });
    expect(t.record('degraded')!.data.state).toBe('degraded');
    expect(t.record('broken-check')!.data).toMatchObject({ state: 'unknown', details: { error: { reason: 'ExitCode', message: 'container "check" exited with code 1: boom' } } });
    expect(t.record('self-http')!.data).toMatchObject({ state: 'healthy', details: { targets: [{ url: `${url}/healthz`, status_code: 200 }] } });
    expect(t.record('invalid')).toBeUndefined();

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const status = (await (await fetch(`${url}/api/v1/status`)).json()) as { definitions: number; invalidFiles: number; destination: string };
    expect(status).toMatchObject({ definitions: 4, invalidFiles: 2, destination: 'ci' });
    const problems = (await (await fetch(`${url}/api/v1/problems`)).json()) as { items: { file: string; problems: { errors: string[] }[] }[] };
    const invalid = problems.items.find((p) => p.file.endsWith('invalid.yaml'))!;
    expect(invalid.problems[0]!.errors[0]).toMatch(/^team-a\/invalid: spec\.timeZone: .*Mars\/Olympus/);
    const one = (await (await fetch(`${url}/api/v1/definitions/team-a/healthy`)).json()) as { lastResult: { state: string }; nextRun: string; history: unknown[] };
    expect(one.lastResult.state).toBe('healthy');
    expect(Date.parse(one.nextRun)).toBeGreaterThan(Date.now() - 1000);
    expect((await fetch(`${url}/api/v1/definitions/team-a/nope`)).status).toBe(404);
    expect((await fetch(`${url}/api/v1/status`, { method: 'POST' })).status).toBe(405);
    expect(agent.running).toBe(true);
  });

  it('adds, updates and deletes records as definition files change', async () => {
    const t = setup();
    writeFileSync(join(t.defs, 'a.yaml'), definition('a', writes('healthy')));
    const agent = t.start();
    await waitFor(() => t.record('a') !== undefined, 'record a');
    writeFileSync(join(t.defs, 'b.yaml'), definition('b', writes('unhealthy')));
    await waitFor(() => t.record('b')?.data.state === 'unhealthy', 'record b');
    rmSync(join(t.defs, 'a.yaml'));
    await waitFor(() => t.record('a') === undefined, 'record a to be deleted');
    await agent.waitForLine((l) => l.msg === 'definition removed; deleting its record' && l.definition === 'team-a/a', 'the removal log');
    expect(t.record('b')).toBeDefined();
  });

  it('deletes records of definitions removed while it was down, and keeps other destinations\' records', async () => {
    const t = setup();
    writeFileSync(join(t.defs, 'a.yaml'), definition('a', writes('healthy')));
    const first = t.start();
    await waitFor(() => t.record('a') !== undefined, 'record a');
    expect(await first.stop()).toBe(0);
    const foreign = join(t.state, 'team-a', 'a-elsewhere.yaml');
    writeFileSync(foreign, readFileSync(join(t.state, 'team-a', 'a-ci.yaml'), 'utf8').replace(/a-ci/g, 'a-elsewhere').replace('destination: ci', 'destination: elsewhere'));
    rmSync(join(t.defs, 'a.yaml'));
    t.start();
    await waitFor(() => t.record('a') === undefined, 'the orphaned record to be deleted');
    expect(existsSync(foreign)).toBe(true);
  });

  it('drains a running check on SIGTERM, writes its record and exits 0', async () => {
    const t = setup();
    writeFileSync(join(t.defs, 'slow.yaml'), definition('slow', check('sleep 2; echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"')));
    const agent = t.start();
    await agent.waitForLine((l) => l.msg === 'agent ready', 'ready');
    await new Promise((r) => setTimeout(r, 300));
    expect(t.record('slow')).toBeUndefined();
    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(t.record('slow')?.data.state).toBe('healthy');
  });

  it('loses no record to a store outage: records wait in the outbox, across a SIGKILL, until the store is back', async () => {
    const t = setup();
    const data = join(t.defs, '..', 'data'); // the data dir setup() gives every agent
    writeFileSync(join(t.defs, 'a.yaml'), definition('a', writes('degraded')));
    writeFileSync(t.state, 'a file where the store wants a directory: every write fails');
    const first = t.start();
    const url = await first.url();
    await waitFor(() => existsSync(join(data, 'outbox', 'team-a', 'a-ci.json')), 'the record in the outbox');
    await first.waitForLine((l) => l.msg === 'state store write failed; will retry', 'a failed write');
    const status = (await (await fetch(`${url}/api/v1/status`)).json()) as { store: { pending: number; lastError: { message: string } | null } };
    expect(status.store.pending).toBe(1);
    expect(status.store.lastError?.message).toMatch(/ENOTDIR|EEXIST|not a directory/);
    expect(first.running).toBe(true);
    await first.stop('SIGKILL');

    rmSync(t.state);
    const second = t.start(['--run-on-start', 'never']);
    await waitFor(() => t.record('a') !== undefined, 'the record delivered from the outbox after the restart');
    expect(t.record('a')!.data.state).toBe('degraded');
    await second.waitForLine((l) => l.msg === 'resuming delivery of records left in the outbox', 'the resume log');
    await waitFor(() => !existsSync(join(data, 'outbox', 'team-a', 'a-ci.json')), 'the outbox to empty');
  });

  it('refuses to start with an invalid config, naming the field', async () => {
    const t = setup();
    const cfg = join(t.defs, '..', 'vigil.yaml');
    writeFileSync(cfg, 'scheduler:\n  runOnStart: sometimes\n');
    const agent = new AgentProcess(['--config', cfg]);
    agents.push(agent);
    expect(await agent.wait()).toBe(2);
    expect(agent.dump()).toMatch(/vigil\.yaml: scheduler\.runOnStart: \\"sometimes\\" is not one of: missing, always, never/);
  });
});

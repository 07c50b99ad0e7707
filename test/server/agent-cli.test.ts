/**
 * The HTTP surface through the real `vigil agent` process: the token setting, the refusal to
 * expose mutating endpoints off loopback without it, a Kuberhealthy client check wired through
 * the CLI, and STOP through the Krkn-compatible signal listener (drain, final report, exit 0).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { ANNOTATION_KH_CHECK } from '../../agent/src/reporting/protocol.js';
import { AgentProcess, REPO, vigil } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { definitionYaml, getJson } from './harness.js';

const TOKEN = 'cli-token-0123456789abcdef';
const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
});

describe('vigil agent HTTP surface', () => {
  it('refuses to listen off loopback without a token, naming the setting', async () => {
    const root = tempDir();
    const r = await vigil(['agent', '--definitions', root, '--state-dir', join(root, 'state'), '--data-dir', join(root, 'data'), '--listen', '0.0.0.0:0'], { env: { VIGIL_TOKEN: '' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/server\.listen: 0\.0\.0\.0 is not a loopback address and no token is set: set server\.tokenFile \(or the VIGIL_TOKEN environment variable\)/);
  });

  it('refuses a token file that cannot be read, naming it', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'vigil.yaml'), 'server:\n  tokenFile: ./missing-token\n');
    const r = await vigil(['agent', '--config', join(root, 'vigil.yaml'), '--definitions', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/server\.tokenFile \(.*missing-token\): cannot read the token: ENOENT/);
  });

  it('runs a Kuberhealthy client check, takes STOP only with the token, drains, writes a final report and exits 0', async () => {
    const root = tempDir();
    const defs = join(root, 'definitions');
    const data = join(root, 'data');
    mkdirSync(defs);
    const client = join(REPO, 'node_modules', 'kuberhealthy');
    writeFileSync(
      join(defs, 'kh.yaml'),
      definitionYaml('team', 'kh', [{ name: 'kh', image: 'example.org/kh:1', command: [process.execPath, '-e', `require(${JSON.stringify(client)}).ReportFailure(['queue stuck']).catch((e) => { console.error(e.message); process.exit(1); })`] }], {}, { [ANNOTATION_KH_CHECK]: 'true' }),
    );
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    writeFileSync(join(root, 'vigil.yaml'), `server:\n  tokenFile: ./token\nsignals:\n  listen: 127.0.0.1:0\n`);
    const agent = new AgentProcess(['--config', join(root, 'vigil.yaml'), '--definitions', defs, '--state-dir', join(root, 'state'), '--data-dir', data, '--listen', '127.0.0.1:0', '--destination', 'ci', '--run-on-start', 'always']);
    agents.push(agent);
    const url = await agent.url();
    const record = join(root, 'state', 'team', 'kh-ci.yaml');
    await waitFor(() => existsSync(record), 'the record of the reporting check', 20_000);
    expect((parseYamlDocument(readFileSync(record, 'utf8')) as HealthRecord).data).toMatchObject({ state: 'unhealthy', details: { errors: ['queue stuck'] } });

    // Run-now needs the token even on loopback once one is set.
    expect((await getJson(`${url}/api/v1/definitions/team/kh/run`, { method: 'POST' })).status).toBe(401);
    const signalLine = await agent.waitForLine((l) => l.msg === 'signal listener up (GET /, POST /RUN, /PAUSE, /STOP)', 'the signal listener');
    const signalUrl = signalLine.url as string;
    expect(await (await fetch(`${signalUrl}/`)).text()).toBe('RUN');
    expect((await fetch(`${signalUrl}/STOP`, { method: 'POST' })).status).toBe(401);
    expect(agent.running).toBe(true);
    expect((await fetch(`${signalUrl}/STOP`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(await agent.wait()).toBe(0);
    const report = JSON.parse(readFileSync(join(data, 'final-report.json'), 'utf8')) as { reason: string; summary: { definitions: number; signal: { state: string }; runs: { total: number } } };
    expect(report).toMatchObject({ reason: 'STOP signal', summary: { definitions: 1, signal: { state: 'STOP' } } });
    expect(report.summary.runs.total).toBeGreaterThanOrEqual(1);
    expect(agent.find((l) => l.msg === 'final report')).toBeDefined();
    expect(agent.dump()).not.toContain(TOKEN);
  });
  it('STOP with a run in flight: no new run starts, the run finishes and is recorded, then the final report and exit 0', async () => {
    const root = tempDir();
    const defs = join(root, 'definitions');
    const data = join(root, 'data');
    mkdirSync(defs);
    const started = join(root, 'started');
    const release = join(root, 'release');
    writeFileSync(
      join(defs, 'slow.yaml'),
      definitionYaml('team', 'slow', [{ name: 'check', image: 'example.org/unmapped:1', command: ['/bin/sh', '-c', `touch "${started}"; while [ ! -f "${release}" ]; do sleep 0.05; done; echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`] }], { timeoutSeconds: 120 }),
    );
    writeFileSync(join(root, 'vigil.yaml'), 'signals:\n  listen: 127.0.0.1:0\nshutdownGraceSeconds: 120\n');
    const agent = new AgentProcess(['--config', join(root, 'vigil.yaml'), '--definitions', defs, '--state-dir', join(root, 'state'), '--data-dir', data, '--listen', '127.0.0.1:0', '--destination', 'ci', '--run-on-start', 'always']);
    agents.push(agent);
    const url = await agent.url();
    const signalLine = await agent.waitForLine((l) => l.msg === 'signal listener up (GET /, POST /RUN, /PAUSE, /STOP)', 'the signal listener');
    await waitFor(() => existsSync(started), 'the slow run to start', 30_000);

    expect((await fetch(`${signalLine.url as string}/STOP`, { method: 'POST' })).status).toBe(200);
    await agent.waitForLine((l) => l.msg === 'run signal STOP', 'the STOP log line');
    // Draining: the agent waits for the run, its server still answers, and no new run starts.
    expect(agent.running).toBe(true);
    const refused = await getJson<{ error: string }>(`${url}/api/v1/definitions/team/slow/run`, { method: 'POST' });
    expect(refused).toMatchObject({ status: 503, body: { error: 'the agent is starting or stopping' } });
    writeFileSync(release, '');
    expect(await agent.wait()).toBe(0);

    const record = parseYamlDocument(readFileSync(join(root, 'state', 'team', 'slow-ci.yaml'), 'utf8')) as HealthRecord;
    expect(record.data.state).toBe('healthy');
    const report = JSON.parse(readFileSync(join(data, 'final-report.json'), 'utf8')) as { reason: string; summary: { runs: { total: number } } };
    expect(report).toMatchObject({ reason: 'STOP signal' });
    expect(report.summary.runs.total).toBe(1);
  });
});

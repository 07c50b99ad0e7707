import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vigil } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { parseYamlDocument, toYaml } from '../../agent/src/core/yaml.js';
import type { HealthDefinitionSpec, HealthRecord } from '../../agent/src/core/model.js';
import { checkDefinition, shell } from '../support/check-definition.js';

function shellDefinition(name: string, script: string, spec: Partial<HealthDefinitionSpec> = {}): string {
  const definition = checkDefinition([shell('check', script)], { promiseRef: { name: 'demo' }, resourceRef: { name: 'thing', namespace: 'default' }, input: 'kind: Thing\n', ...spec }, name);
  return toYaml(definition);
}

const write = (state: string) => `printf 'state: ${state}\\ndetails:\\n  input: "%s"\\n' "$(cat $KRATIX_INPUT_DIR/object.yaml)" > $KRATIX_OUTPUT_DIR/health-status.yaml`;

describe('vigil run', () => {
  it.each([
    ['healthy', 0],
    ['ready', 0],
    ['degraded', 1],
    ['unhealthy', 2],
    ['unknown', 3],
  ])('prints the HealthRecord and exits by state: %s -> %i', async (state, code) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'd.yaml'), shellDefinition('demo', write(state)));
    const r = await vigil(['run', join(dir, 'd.yaml'), '--destination', 'laptop']);
    expect(r.code, r.stderr).toBe(code);
    const record = parseYamlDocument(r.stdout) as HealthRecord;
    expect(record.metadata).toMatchObject({ name: 'demo-laptop', namespace: 'default' });
    expect(record.data).toMatchObject({ promiseRef: { name: 'demo' }, resourceRef: { name: 'thing', namespace: 'default' }, state, details: { input: 'kind: Thing' } });
    expect(Math.abs(record.data.lastRun! - Date.now() / 1000)).toBeLessThan(30);
  });

  it('records a broken check as unknown with a reason, and exits 3', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'd.yaml'), shellDefinition('broken', 'echo "cannot reach the database" >&2; exit 4'));
    const r = await vigil(['run', join(dir, 'd.yaml'), '-o', 'json']);
    expect(r.code).toBe(3);
    const record = JSON.parse(r.stdout) as HealthRecord;
    expect(record.data.state).toBe('unknown');
    expect(record.data.details).toEqual({ error: { reason: 'ExitCode', message: 'container "check" exited with code 4: cannot reach the database', container: 'check', exitCode: 4 } });
  });

  it('honours Nagios exit-code mode and --timeout', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'n.yaml'), shellDefinition('nagios', 'echo "LOAD WARNING - load 7.1 | load=7.1;5;10"; exit 1', { exitCodeMode: 'Nagios' }));
    const n = await vigil(['run', join(dir, 'n.yaml')]);
    expect(n.code).toBe(1);
    expect((parseYamlDocument(n.stdout) as HealthRecord).data.details).toEqual({ exitCode: 1, message: 'LOAD WARNING - load 7.1', perfdata: [{ label: 'load', value: 7.1, warn: '5', crit: '10' }] });
    writeFileSync(join(dir, 's.yaml'), shellDefinition('slow', 'sleep 30'));
    const s = await vigil(['run', join(dir, 's.yaml'), '--timeout', '1']);
    expect(s.code).toBe(3);
    expect((parseYamlDocument(s.stdout) as HealthRecord).data.details).toMatchObject({ error: { reason: 'Timeout' } });
  });

  it('asks for --name when a file holds several definitions, and refuses invalid ones with field paths', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'two.yaml'), `${shellDefinition('a', write('healthy'))}---\n${shellDefinition('b', write('degraded'))}`);
    const many = await vigil(['run', join(dir, 'two.yaml')]);
    expect(many.code).toBe(3);
    expect(many.stderr).toContain('holds 2 definitions (a, b); choose one with --name');
    const one = await vigil(['run', join(dir, 'two.yaml'), '--name', 'b']);
    expect(one.code).toBe(1);
    writeFileSync(join(dir, 'bad.yaml'), shellDefinition('bad', 'true', { schedule: '61 * * * *' }));
    const bad = await vigil(['run', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/default\/bad: spec\.schedule: .*61/);
  });

  it('runs the built-in HTTP check image mapped to a local command', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await vigil(['run', 'examples/definitions/agent-http.yaml', '--env', `VIGIL_AGENT_URL=http://127.0.0.1:${port}`]);
      expect(r.code, r.stderr).toBe(0);
      const record = parseYamlDocument(r.stdout) as HealthRecord;
      expect(record.data.details).toMatchObject({ targets: [{ url: `http://127.0.0.1:${port}/healthz`, ok: true, status_code: 200 }] });
    } finally {
      server.close();
    }
  });
});

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../agent/src/core/yaml.js';
import { AgentProcess, REPO, vigil } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tmp.js';
import type { HealthRecord } from '../../agent/src/core/model.js';

const FIXTURES = join(import.meta.dirname, '..', 'khcheck', 'fixtures');

describe('vigil import-khcheck', () => {
  it('converts v2 and v3 files, writes definitions that `vigil validate` accepts, and exits 1 for the refused checks', async () => {
    const dir = tempDir();
    const out = join(dir, 'imported.yaml');
    const r = await vigil(['import-khcheck', join(FIXTURES, 'v2-khchecks.yaml'), join(FIXTURES, 'v3-healthchecks.yaml'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kuberhealthy/pod-restarts: error: spec.runInterval: "7m": no cron schedule fires exactly every 7m');
    expect(r.stderr).toContain('monitoring/once: error: spec.singleRunOnly');
    expect(r.stderr).toContain('kuberhealthy/deployment: warning: spec.podSpec: dropped terminationGracePeriodSeconds');
    expect(r.stderr).toContain('4 checks imported, 3 refused');
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('# kuberhealthy/deployment: imported from Kuberhealthy v2 KuberhealthyCheck');
    expect(parseYamlDocuments(text).map((d) => (d.value as { spec: { schedule: string } }).spec.schedule)).toEqual(['*/10 * * * *', '*/2 * * * *', '0 * * * *', '0 0 * * *']);
    const v = await vigil(['validate', out]);
    expect(v.stdout).toContain('4 valid definitions, 0 errors in 1 file');
    expect(v.code).toBe(0);
  });

  it('exits 0 and prints YAML on stdout when every check converts (--promise, -n)', async () => {
    const dir = tempDir();
    const file = join(dir, 'one.yaml');
    writeFileSync(file, [
      'apiVersion: kuberhealthy.github.io/v2',
      'kind: HealthCheck',
      'metadata: {name: web}',
      'spec:',
      '  runInterval: 15m',
      '  timeout: 2m',
      '  podSpec: {spec: {containers: [{name: main, image: "example/web-check:1", args: ["--url", "https://example.com"]}]}}',
      '',
    ].join('\n'));
    const r = await vigil(['import-khcheck', file, '--promise', 'web', '-n', 'team-a']);
    expect(r.stderr).toContain('1 check imported, 0 refused');
    expect(r.code).toBe(0);
    const [doc] = parseYamlDocuments(r.stdout);
    expect(doc?.value).toMatchObject({
      metadata: { name: 'web', namespace: 'team-a' },
      spec: { promiseRef: { name: 'web' }, schedule: '*/15 * * * *', timeoutSeconds: 120 },
    });
  });

  it('fails clearly for a missing file and for a file without checks', async () => {
    const r = await vigil(['import-khcheck', '/nonexistent.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/nonexistent\.yaml: cannot read: ENOENT/);
    const dir = tempDir();
    writeFileSync(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const r2 = await vigil(['import-khcheck', join(dir, 'cm.yaml')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('skipped (kind ConfigMap is not a Kuberhealthy check)');
    expect(r2.stderr).toContain('0 checks imported, 0 refused');
  });

  describe('an imported check runs unmodified under the agent', () => {
    let agent: AgentProcess | undefined;
    afterAll(async () => { await agent?.stop('SIGKILL'); });

    it('a v2 KuberhealthyCheck using the npm kuberhealthy client reports its failure; the record carries the errors', async () => {
      const root = tempDir();
      const defs = join(root, 'definitions');
      mkdirSync(defs);
      const client = join(REPO, 'node_modules', 'kuberhealthy');
      const script = `require(${JSON.stringify(client)}).ReportFailure(['disk almost full']).catch((e) => { console.error(e.message); process.exit(1); })`;
      const kh = join(root, 'khcheck.yaml');
      writeFileSync(kh, [
        'apiVersion: comcast.github.io/v1',
        'kind: KuberhealthyCheck',
        'metadata: {name: disk, namespace: kuberhealthy}',
        'spec:',
        '  runInterval: 1h',
        '  timeout: 30s',
        '  podSpec:',
        '    containers:',
        `      - {name: main, image: "example.org/disk-check:1", command: ${JSON.stringify([process.execPath, '-e', script])}}`,
        '',
      ].join('\n'));
      const imported = await vigil(['import-khcheck', kh, '-o', join(defs, 'disk.yaml')]);
      expect(imported.code, imported.stderr).toBe(0);
      agent = new AgentProcess(['--definitions', defs, '--state-dir', join(root, 'state'), '--data-dir', join(root, 'data'), '--listen', '127.0.0.1:0',
        '--signals-listen', 'off', '--destination', 'ci', '--run-on-start', 'always', '--spread-seconds', '0']);
      const recordFile = join(root, 'state', 'kuberhealthy', 'disk-ci.yaml');
      await waitFor(() => existsSync(recordFile), 'the record', 30_000);
      const record = parseYamlDocuments(readFileSync(recordFile, 'utf8'))[0]!.value as HealthRecord;
      expect(record.data).toMatchObject({ promiseRef: { name: 'kuberhealthy' }, state: 'unhealthy', details: { errors: ['disk almost full'] } });
    });
  });
});

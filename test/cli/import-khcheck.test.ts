import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../agent/src/core/yaml.js';
import { vigil } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

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

  it('exits 0 and prints YAML on stdout when every check converts (stdin, --promise, -n)', async () => {
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
});

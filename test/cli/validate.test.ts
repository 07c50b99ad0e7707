import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vigil } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('vigil validate', () => {
  it('accepts the bundled examples', async () => {
    const r = await vigil(['validate', 'examples/definitions']);
    expect(r.stdout).toContain('4 valid definitions, 0 errors in 4 files');
    expect(r.code).toBe(0);
  });

  it('exits 1 and prints field-path errors naming the file and the object', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), [
      'apiVersion: platform.kratix.io/v1alpha1',
      'kind: HealthDefinition',
      'metadata: {name: web-1, namespace: default}',
      'spec:',
      '  promiseRef: {name: web}',
      '  schedule: "@every 5m"',
      '  workflow: {spec: {containers: [{name: check}]}}',
      '',
    ].join('\n'));
    const r = await vigil(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad\.yaml: default\/web-1: spec\.schedule: "@every 5m" is not supported/);
    expect(r.stdout).toMatch(/bad\.yaml: default\/web-1: spec\.workflow\.spec\.containers\[0\]\.image: required field is missing/);
    expect(r.stdout).toContain('0 valid definitions, 2 errors in 1 file');
  });

  it('fails for a path with nothing to validate', async () => {
    const r = await vigil(['validate', '/nonexistent/dir']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/dir: no such file or no YAML files in it');
  });

  it('has --help', async () => {
    const r = await vigil(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit status: 0 when every definition is valid');
  });
});

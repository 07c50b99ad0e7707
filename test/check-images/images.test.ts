/**
 * What each built-in check ships besides its code (issue 5, "Images"): a multi-stage Node 20
 * Dockerfile running as a non-root user and starting the compiled main; a README whose
 * HealthDefinition example is valid and names the image; an entry in the local runtime's
 * default image map (so `vigil run` works with no container engine) and a built-in plugin.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitionsFromText } from '../../agent/src/core/documents.js';
import { getDefinitionValidator } from '../../agent/src/crds.js';
import { builtinImageMappings, ImageTable } from '../../agent/src/runtimes/images.js';
import { discoverPlugins } from '../../agent/src/plugins/discovery.js';
import { repoRoot } from './helpers.js';

const CHECKS = ['http', 'rds', 'vmi'] as const;
const image = (check: string): string => `ghcr.io/vigil-health/check-${check}`;

describe.each(CHECKS)('check-images/%s', (check) => {
  const root = join(repoRoot, 'check-images', check);

  it('has a multi-stage Node 20 Dockerfile that runs the compiled main as a numeric non-root user', () => {
    const lines = readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n').filter((l) => !l.trim().startsWith('#'));
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:20[-\w.]*( AS \w+)?$/);
    expect(lines.some((l) => /^COPY --from=\w+ /.test(l))).toBe(true);
    expect(lines.filter((l) => l.startsWith('USER ')).at(-1)).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(lines.find((l) => l.startsWith('ENTRYPOINT '))).toBe(`ENTRYPOINT ["node", "/app/dist/check-images/${check}/src/main.js"]`);
    expect(existsSync(join(root, 'src', 'main.ts'))).toBe(true);
    // Build-context paths it copies exist (relative to the repository root, where it is built from).
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
      for (const p of l.split(/\s+/).slice(1, -1)) expect(existsSync(join(repoRoot, p)), p).toBe(true);
    }
  });

  it('compiles from check-images alone: no source imports agent/ (the image copies only check-images)', () => {
    for (const dir of [join(root, 'src'), join(repoRoot, 'check-images', 'sdk', 'src')]) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
        expect(readFileSync(join(dir, f), 'utf8'), `${dir}/${f}`).not.toMatch(/from '(\.\.\/)+agent\//);
      }
    }
  });

  it('has a README with a valid HealthDefinition example naming its image', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('kind: HealthDefinition'));
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    const parsed = definitionsFromText(blocks[0]!, { validator: getDefinitionValidator(), defaultNamespace: 'default' });
    expect(parsed.problems).toEqual([]);
    expect(parsed.accepted).toHaveLength(1);
    const containers = parsed.accepted[0]!.definition.spec.workflow?.spec?.containers ?? [];
    expect(containers.map((c) => c.image)).toEqual([expect.stringMatching(new RegExp(`^${image(check)}(:|$)`))]);
  });

  it('is in the default image map (a local process) and served in-process by a built-in plugin', async () => {
    const mapping = new ImageTable([], builtinImageMappings()).lookup(`${image(check)}:v0.1.0`);
    expect(mapping?.command).toEqual([process.execPath, join(repoRoot, 'dist', 'check-images', check, 'src', 'main.js')]);
    const registry = await discoverPlugins({});
    expect(registry.forImage(`${image(check)}:v0.1.0`)?.type).toBe(check);
  });
});

it('the RDS README has the state table of issue 5', () => {
  const readme = readFileSync(join(repoRoot, 'check-images', 'rds', 'README.md'), 'utf8');
  const row = (status: string): string => readme.split('\n').find((l) => l.startsWith('|') && l.includes(status)) ?? '';
  expect(row('`available`')).toMatch(/\| `healthy` \|/);
  for (const s of ['`backing-up`', '`modifying`', '`configuring-*`', '`resetting-master-credentials`']) expect(row(s)).toMatch(/\| `degraded` \|/);
  expect(row('`creating`')).toMatch(/\| `unknown` \|/);
  for (const s of ['`stopped`', '`storage-full`', '`incompatible-*`', '`inaccessible-encryption-credentials*`', '`deleting`', 'DBInstanceNotFound']) expect(row(s)).toMatch(/\| `unhealthy` \|/);
  for (const s of ['Throttling', 'AccessDenied', 'InvalidCredentials']) expect(row(s)).toMatch(/\| `unknown` \|/);
});

it('the SDK README shows a complete TypeScript check in about 20 lines, and the same in shell', () => {
  const readme = readFileSync(join(repoRoot, 'check-images', 'sdk', 'README.md'), 'utf8');
  const ts = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('runCheck('));
  expect(ts).toBeDefined();
  const tsLines = ts!.split('\n').filter((l) => l.trim() !== '').length;
  expect(tsLines).toBeLessThanOrEqual(25);
  expect(ts).toMatch(/loadCheckConfig/);
  const sh = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('health-status.yaml'));
  expect(sh).toMatch(/^#!\/bin\/sh/);
  expect(sh).toContain('disk_space');
});

import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../agent/src/sources/DirectorySource.js';
import { getDefinitionValidator } from '../../agent/src/crds.js';
import type { SourceEvent, SourceProblem } from '../../agent/src/core/interfaces.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { toYaml } from '../../agent/src/core/yaml.js';
import type { HealthDefinition } from '../../agent/src/core/model.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { tempDir, waitFor } from '../support/tmp.js';

function hd(name: string, schedule = '*/5 * * * *', namespace?: string): string {
  const definition: Partial<HealthDefinition> = checkDefinition([shell('check', 'true')], { promiseRef: { name: 'demo' }, schedule }, name, namespace);
  if (namespace === undefined) delete (definition.metadata as { namespace?: string }).namespace;
  return toYaml(definition);
}

const sources: DirectorySource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

function start(paths: string[], options: { watch?: boolean } = {}): { source: DirectorySource; events: SourceEvent[]; ready: Promise<void> } {
  const events: SourceEvent[] = [];
  const source = new DirectorySource({
    paths,
    validator: getDefinitionValidator(),
    logger: silentLogger(),
    debounceMs: 30,
    rescanIntervalMs: 0,
    watch: options.watch ?? true,
  });
  sources.push(source);
  const ready = source.start((e) => events.push(e));
  return { source, events, ready };
}

const summary = (events: SourceEvent[]) =>
  events.map((e) => {
    switch (e.type) {
      case 'upsert': return `upsert ${e.definition.metadata.namespace}/${e.definition.metadata.name} ${e.definition.spec.schedule}`;
      case 'delete': return `delete ${e.key}`;
      case 'problems': return `problems ${e.problems.map((p) => p.object).join(',') || '(none)'}`;
      case 'synced': return 'synced';
    }
  });

describe('DirectorySource', () => {
  it('loads yaml and yml files recursively, multi-document files and Lists, skipping other kinds and hidden files', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'team-a', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'one.yaml'), hd('one'));
    writeFileSync(join(dir, 'team-a', 'nested', 'two.yml'), `${hd('two', '@hourly', 'team-a')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n${hd('three', '@daily', 'team-a')}`);
    writeFileSync(join(dir, 'list.yaml'), `apiVersion: v1\nkind: List\nitems:\n- ${hd('four').split('\n').join('\n  ').trimEnd()}\n`);
    writeFileSync(join(dir, '.hidden.yaml'), hd('hidden'));
    writeFileSync(join(dir, 'readme.txt'), hd('txt'));
    const { events, ready } = start([dir], { watch: false });
    await ready;
    expect(summary(events).sort()).toEqual([
      'synced',
      'upsert default/four */5 * * * *',
      'upsert default/one */5 * * * *',
      'upsert team-a/three @daily',
      'upsert team-a/two @hourly',
    ]);
  });

  it('reports an invalid file and keeps every valid definition, in the same file and in others', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'good.yaml'), hd('good'));
    const mixed = `${hd('fine')}---\n${hd('bad', '@every 5m')}---\nkind: HealthDefinition\napiVersion: platform.kratix.io/v1alpha1\nspec: {}\n---\nnot: [valid\n`;
    writeFileSync(join(dir, 'mixed.yaml'), mixed);
    const markers = mixed.split('\n').flatMap((line, i) => (line === '---' ? [i + 1] : []));
    writeFileSync(join(dir, 'broken.yaml'), '{{{{ not yaml');
    const { events, ready } = start([dir], { watch: false });
    await ready;
    expect(summary(events).filter((e) => e.startsWith('upsert')).sort()).toEqual(['upsert default/fine */5 * * * *', 'upsert default/good */5 * * * *']);
    const problems = events.filter((e): e is Extract<SourceEvent, { type: 'problems' }> => e.type === 'problems');
    const byFile: Record<string, SourceProblem[]> = Object.fromEntries(problems.map((p) => [p.origin.split('/').pop()!, p.problems]));
    expect(byFile['mixed.yaml']!.map((p) => p.object)).toEqual(['default/bad', `document 3 (line ${markers[1]!})`, `document 4 (line ${markers[2]!})`]);
    expect(byFile['mixed.yaml']![0]!.issues[0]).toMatchObject({ path: 'spec.schedule', message: expect.stringContaining('"@every 5m" is not supported') });
    expect(byFile['broken.yaml']).toHaveLength(1);
  });

  it('watches: add, change and delete are emitted once each, and touching a file emits nothing', async () => {
    const dir = tempDir();
    const { events, ready, source } = start([dir]);
    await ready;
    writeFileSync(join(dir, 'a.yaml'), hd('a'));
    await waitFor(() => summary(events).includes('upsert default/a */5 * * * *'), 'the add');
    writeFileSync(join(dir, 'a.yaml'), hd('a', '@hourly'));
    await waitFor(() => summary(events).includes('upsert default/a @hourly'), 'the change');
    writeFileSync(join(dir, 'a.yaml'), hd('a', '@hourly'));
    await source.rescan();
    expect(summary(events).filter((e) => e.includes('default/a'))).toHaveLength(2);
    rmSync(join(dir, 'a.yaml'));
    await waitFor(() => summary(events).includes('delete default/a'), 'the delete');
  });

  it('handles editors that write a temp file and rename it over the original', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), hd('a'));
    const { events, ready } = start([dir]);
    await ready;
    writeFileSync(join(dir, '.a.yaml.swp'), hd('a', '@daily'));
    renameSync(join(dir, '.a.yaml.swp'), join(dir, 'a.yaml'));
    await waitFor(() => summary(events).includes('upsert default/a @daily'), 'the rename');
    expect(summary(events).filter((e) => e.startsWith('delete'))).toEqual([]);
  });

  it('keeps the last accepted version when a valid definition becomes invalid, until it is fixed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), hd('a'));
    const { events, ready, source } = start([dir], { watch: false });
    await ready;
    writeFileSync(join(dir, 'a.yaml'), hd('a', '61 * * * *'));
    await source.rescan();
    expect(summary(events)).toEqual(['upsert default/a */5 * * * *', 'synced', 'problems default/a']);
    const problem = events.at(-1) as Extract<SourceEvent, { type: 'problems' }>;
    expect(problem.problems[0]!.issues.map((i) => i.message).join(' ')).toMatch(/previously accepted version stays in force/);
    writeFileSync(join(dir, 'a.yaml'), hd('a', '@hourly'));
    await source.rescan();
    expect(summary(events).slice(3)).toEqual(['upsert default/a @hourly', 'problems (none)']);
  });

  it('reports a definition defined in two files once, keeping the first by path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), hd('same'));
    writeFileSync(join(dir, 'b.yaml'), hd('same', '@daily'));
    const { events, ready, source } = start([dir], { watch: false });
    await ready;
    expect(summary(events)).toEqual(['upsert default/same */5 * * * *', 'problems default/same', 'synced']);
    rmSync(join(dir, 'a.yaml'));
    await source.rescan();
    expect(summary(events).slice(3)).toEqual(['upsert default/same @daily', 'problems (none)']);
  });

  it('follows symlinked files (ConfigMap volumes) and accepts single files as paths', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '..2026_11_22'), { recursive: true });
    writeFileSync(join(dir, '..2026_11_22', 'a.yaml'), hd('linked'));
    symlinkSync('..2026_11_22', join(dir, '..data'));
    symlinkSync(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
    const other = tempDir();
    writeFileSync(join(other, 'single.yaml'), hd('single'));
    const { events, ready } = start([dir, join(other, 'single.yaml')], { watch: false });
    await ready;
    expect(summary(events).sort()).toEqual(['synced', 'upsert default/linked */5 * * * *', 'upsert default/single */5 * * * *']);
  });

  it('refuses files over the size limit with a clear problem', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const { events, ready } = start([dir], { watch: false });
    await ready;
    const p = events.find((e) => e.type === 'problems') as Extract<SourceEvent, { type: 'problems' }>;
    expect(p.problems[0]!.issues[0]!.message).toMatch(/over the limit of 4194304 bytes/);
  });
});

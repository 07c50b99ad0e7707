import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FsStateStore } from '../../agent/src/stores/FsStateStore.js';
import { buildHealthRecord } from '../../agent/src/core/record.js';
import type { HealthDefinition, HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { tempDir } from '../support/tmp.js';

function record(name: string, state: HealthRecord['data']['state'] = 'healthy', details: Record<string, unknown> = {}): HealthRecord {
  const definition: HealthDefinition = {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name, namespace: 'team-a' },
    spec: { promiseRef: { name: 'p' }, schedule: '@hourly' },
  };
  return buildHealthRecord({ definition, destination: 'local', state, details, finishedAt: 1_700_000_000_000 });
}

describe('FsStateStore', () => {
  it('writes one YAML record per file at <root>/<namespace>/<name>.yaml and reads it back', async () => {
    const root = tempDir();
    const store = new FsStateStore({ root, logger: silentLogger() });
    const r = record('web');
    await store.put(r);
    const path = join(root, 'team-a', 'web-local.yaml');
    expect(parseYamlDocument(readFileSync(path, 'utf8'))).toEqual(r);
    expect(await store.list()).toEqual([r]);
    expect(readdirSync(join(root, 'team-a'))).toEqual(['web-local.yaml']);
  });

  it('replaces records and deletes them; deleting a missing record is fine', async () => {
    const root = tempDir();
    const store = new FsStateStore({ root, logger: silentLogger() });
    await store.put(record('web', 'healthy'));
    await store.put(record('web', 'unhealthy'));
    expect((await store.list()).map((x) => x.data.state)).toEqual(['unhealthy']);
    await store.delete({ namespace: 'team-a', name: 'web-local' });
    await store.delete({ namespace: 'team-a', name: 'web-local' });
    expect(await store.list()).toEqual([]);
  });

  it('refuses names that would escape the root', async () => {
    const root = tempDir();
    const store = new FsStateStore({ root, logger: silentLogger() });
    const evil = record('web');
    evil.metadata.name = '../../escape';
    await expect(store.put(evil)).rejects.toThrow(/metadata\.name: "\.\.\/\.\.\/escape" is not a valid name/);
    evil.metadata.name = 'ok';
    evil.metadata.namespace = '..';
    await expect(store.put(evil)).rejects.toThrow(/metadata\.namespace/);
    await expect(store.delete({ namespace: 'team-a', name: '../x' })).rejects.toThrow(/not a valid name/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('is atomic: a concurrent reader never sees a partial record', async () => {
    const root = tempDir();
    const store = new FsStateStore({ root, logger: silentLogger(), fsync: false });
    await store.put(record('big', 'healthy', { blob: 'a'.repeat(200_000) }));
    const path = join(root, 'team-a', 'big-local.yaml');
    // A separate process reads the file as fast as it can while we rewrite it.
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs'); let reads = 0, bad = 0; const end = Date.now() + 1500;
      while (Date.now() < end) { const t = fs.readFileSync(${JSON.stringify(path)}, 'utf8'); reads++;
        if (!t.endsWith('\\n') || !t.includes('state:') || (!t.includes('aaaa\\n') && !t.includes('bbbb\\n'))) bad++; }
      console.log(JSON.stringify({ reads, bad }));`]);
    let out = '';
    reader.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const done = new Promise((r) => reader.on('exit', r));
    let writes = 0;
    const end = Date.now() + 1400;
    while (Date.now() < end) {
      await store.put(record('big', writes % 2 ? 'healthy' : 'degraded', { blob: (writes % 2 ? 'a' : 'b').repeat(200_000) }));
      writes++;
    }
    await done;
    const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
    expect(writes).toBeGreaterThan(10);
    expect(reads).toBeGreaterThan(10);
    expect(bad).toBe(0);
    expect(readdirSync(join(root, 'team-a'))).toEqual(['big-local.yaml']);
  });

  it('cleans up temp files left by a crash and ignores files that are not records', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'team-a'), { recursive: true });
    writeFileSync(join(root, 'team-a', '.web-local.yaml.abc123.tmp'), 'partial');
    writeFileSync(join(root, 'team-a', 'notes.yaml'), 'hello: world\n');
    writeFileSync(join(root, 'team-a', 'broken.yaml'), 'a: [\n');
    const store = new FsStateStore({ root, logger: silentLogger() });
    expect(await store.list()).toEqual([]);
    expect(existsSync(join(root, 'team-a', '.web-local.yaml.abc123.tmp'))).toBe(false);
  });
});

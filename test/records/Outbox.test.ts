import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/src/records/Outbox.js';
import { RecordDelivery } from '../../agent/src/records/RecordDelivery.js';
import { FsStateStore } from '../../agent/src/stores/FsStateStore.js';
import type { HealthRecord, HealthState } from '../../agent/src/core/model.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { tempDir } from '../support/tmp.js';

function record(name: string, state: HealthState): HealthRecord {
  return { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthRecord', metadata: { name, namespace: 'team-a' }, data: { promiseRef: { name: 'p' }, state } };
}
const ref = (name: string) => ({ namespace: 'team-a', name });

describe('Outbox', () => {
  it('keeps one file per record with the newest operation, and survives a new process', () => {
    const dir = tempDir();
    const outbox = new Outbox({ dir, logger: silentLogger() });
    outbox.write(ref('a'), { kind: 'put', record: record('a', 'healthy') }, 1);
    const second = outbox.write(ref('a'), { kind: 'put', record: record('a', 'degraded') }, 2);
    outbox.write(ref('b'), { kind: 'delete', ref: ref('b') }, 3);
    expect(readdirSync(join(dir, 'team-a')).sort()).toEqual(['a.json', 'b.json']);
    const loaded = new Outbox({ dir, logger: silentLogger() }).load();
    expect(loaded.map((e) => [e.ref.name, e.op.kind, e.op.kind === 'put' ? e.op.record.data.state : '-', e.seq])).toEqual([
      ['a', 'put', 'degraded', second],
      ['b', 'delete', '-', second + 1],
    ]);
  });

  it('removes a file only for the operation it holds', () => {
    const dir = tempDir();
    const outbox = new Outbox({ dir, logger: silentLogger() });
    const first = outbox.write(ref('a'), { kind: 'put', record: record('a', 'healthy') }, 1);
    const second = outbox.write(ref('a'), { kind: 'put', record: record('a', 'unhealthy') }, 2);
    outbox.remove(ref('a'), first);
    expect(existsSync(join(dir, 'team-a', 'a.json'))).toBe(true);
    outbox.remove(ref('a'), second);
    expect(existsSync(join(dir, 'team-a', 'a.json'))).toBe(false);
  });

  it('moves unreadable entries aside, drops temp files and refuses unsafe names', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'team-a'));
    writeFileSync(join(dir, 'team-a', 'x.json'), '{"version": 9}');
    writeFileSync(join(dir, 'team-a', 'y.json.5.tmp'), 'partial');
    const outbox = new Outbox({ dir, logger: silentLogger() });
    expect(outbox.load()).toEqual([]);
    expect(readdirSync(join(dir, 'team-a'))).toEqual(['x.json.corrupt']);
    expect(() => outbox.write({ namespace: 'team-a', name: '../../x' }, { kind: 'delete', ref: ref('x') }, 0)).toThrow(/not a valid name/);
  });
});

describe('RecordDelivery with an outbox', () => {
  it('loses nothing across a restart while the store is down, and empties the outbox once delivered', async () => {
    const root = tempDir();
    const outboxDir = join(root, 'outbox');
    const blocked = join(root, 'state');
    writeFileSync(blocked, 'a file where the store wants a directory');
    const down = new FsStateStore({ root: blocked, logger: silentLogger() });
    const first = new RecordDelivery({ store: down, logger: silentLogger(), outbox: new Outbox({ dir: outboxDir, logger: silentLogger() }), retryMs: 10_000 });
    first.put(record('a', 'healthy'));
    first.put(record('b', 'unhealthy'));
    first.put(record('a', 'degraded'));
    expect(await first.flush(200)).toBe(false);
    expect(first.lastError?.message).toMatch(/ENOTDIR|EEXIST|not a directory/);
    first.close();

    const store = new FsStateStore({ root: join(root, 'state-ok'), logger: silentLogger() });
    const second = new RecordDelivery({ store, logger: silentLogger(), outbox: new Outbox({ dir: outboxDir, logger: silentLogger() }) });
    expect(second.resume()).toBe(2);
    expect(await second.flush(5_000)).toBe(true);
    expect((await store.list()).map((r) => `${r.metadata.name}=${r.data.state}`).sort()).toEqual(['a=degraded', 'b=unhealthy']);
    expect(readdirSync(join(outboxDir, 'team-a'))).toEqual([]);
  });
});

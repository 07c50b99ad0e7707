import { describe, expect, it } from 'vitest';
import { RecordDelivery } from '../../agent/src/records/RecordDelivery.js';
import type { RecordRef, StateStore } from '../../agent/src/core/interfaces.js';
import type { HealthRecord, HealthState } from '../../agent/src/core/model.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { waitFor } from '../support/tmp.js';

/** An in-memory StateStore that can be switched down, and records every call. */
class FlakyStore implements StateStore {
  readonly kind = 'memory';
  readonly records = new Map<string, HealthRecord>();
  readonly calls: string[] = [];
  down = false;
  async put(record: HealthRecord): Promise<void> {
    await Promise.resolve();
    this.calls.push(`put ${record.metadata.name} ${record.data.state}`);
    if (this.down) throw new Error('store unavailable');
    this.records.set(record.metadata.name, record);
  }
  async delete(ref: RecordRef): Promise<void> {
    await Promise.resolve();
    this.calls.push(`delete ${ref.name}`);
    if (this.down) throw new Error('store unavailable');
    this.records.delete(ref.name);
  }
  list(): Promise<HealthRecord[]> {
    return Promise.resolve([...this.records.values()]);
  }
  describe(): string {
    return 'memory';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function record(name: string, state: HealthState): HealthRecord {
  return { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthRecord', metadata: { name, namespace: 'default' }, data: { promiseRef: { name: 'p' }, state } };
}

describe('RecordDelivery', () => {
  it('writes and deletes in order', async () => {
    const store = new FlakyStore();
    const delivery = new RecordDelivery({ store, logger: silentLogger() });
    delivery.put(record('a', 'healthy'));
    delivery.delete({ namespace: 'default', name: 'a' });
    delivery.put(record('b', 'degraded'));
    expect(await delivery.flush(1_000)).toBe(true);
    expect([...store.records.keys()]).toEqual(['b']);
    expect(delivery.pending).toBe(0);
    expect(delivery.deliveredCount).toBe(3);
  });

  it('keeps retrying while the store is down, and only the newest version of a record is delivered', async () => {
    const store = new FlakyStore();
    store.down = true;
    const delivery = new RecordDelivery({ store, logger: silentLogger(), retryMs: 10, maxRetryMs: 40 });
    delivery.put(record('a', 'healthy'));
    await waitFor(() => store.calls.length >= 3, 'retries');
    expect(delivery.pending).toBe(1);
    expect(delivery.lastError?.message).toBe('store unavailable');
    expect(delivery.oldestPendingSince).toBeLessThanOrEqual(Date.now());
    delivery.put(record('a', 'unhealthy'));
    delivery.put(record('a', 'degraded'));
    store.down = false;
    expect(await delivery.flush(2_000)).toBe(true);
    expect(store.records.get('a')?.data.state).toBe('degraded');
    expect(store.calls.filter((c) => c.startsWith('put a unhealthy'))).toEqual([]);
    expect(delivery.pending).toBe(0);
    delivery.close();
  });

  it('does not let one failing record hold up the others', async () => {
    const store = new FlakyStore();
    const failing = new Set(['bad']);
    const put = store.put.bind(store);
    store.put = async (r) => {
      if (failing.has(r.metadata.name)) throw new Error('rejected');
      await put(r);
    };
    const delivery = new RecordDelivery({ store, logger: silentLogger(), retryMs: 10 });
    delivery.put(record('bad', 'healthy'));
    delivery.put(record('good', 'healthy'));
    await waitFor(() => store.records.has('good'), 'the good record');
    expect(delivery.pending).toBe(1);
    expect(await delivery.flush(50)).toBe(false);
    delivery.close();
    expect(delivery.pending).toBe(0);
  });
});

/**
 * Wraps a store that needs an `init()` (a clone, a connection) so that initialisation is
 * retried on use: a store that is misconfigured or unreachable at start fails its calls
 * with the init error (which names the setting), the outbox keeps the records, and the
 * first call after the store becomes reachable initialises it and delivers them.
 */
import type { RecordRef, StateStore } from '../core/interfaces.js';
import type { HealthRecord } from '../core/model.js';

export interface InitializableStore extends StateStore {
  init(): Promise<void>;
}

export class InitOnUse implements StateStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly inner: InitializableStore) {}

  get kind(): string {
    return this.inner.kind;
  }

  describe(): string {
    return this.inner.describe();
  }

  async put(record: HealthRecord): Promise<void> {
    await this.initialised();
    await this.inner.put(record);
  }

  async delete(ref: RecordRef): Promise<void> {
    await this.initialised();
    await this.inner.delete(ref);
  }

  async list(): Promise<HealthRecord[]> {
    await this.initialised();
    return this.inner.list();
  }

  async close(): Promise<void> {
    if (this.ready) await this.ready.catch(() => undefined);
    await this.inner.close();
  }

  private initialised(): Promise<void> {
    this.ready ??= this.inner.init().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }
}

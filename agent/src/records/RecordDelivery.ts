/**
 * Delivers record writes and deletions to the state store in order per record, retrying
 * with capped exponential backoff while the store is down. Only the newest pending
 * operation of a record matters: a newer put replaces an older one that is still waiting.
 * With an outbox, every operation is on disk before delivery starts and leaves it only
 * when the store confirmed it, so a restart resumes where the last process stopped.
 */
import type { Logger } from 'pino';
import type { RecordRef, StateStore } from '../core/interfaces.js';
import type { HealthRecord } from '../core/model.js';
import type { Operation, Outbox } from './Outbox.js';

export interface RecordDeliveryOptions {
  store: StateStore;
  logger: Logger;
  /** First retry delay; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Durable storage of pending operations; without it they live in memory only. */
  outbox?: Outbox;
}

interface Pending {
  op: Operation;
  /** Outbox sequence number, when persisted. */
  seq?: number;
}

interface Slot {
  pending?: Pending;
  busy: boolean;
  attempt: number;
  timer?: NodeJS.Timeout;
  since?: number;
}

export class RecordDelivery {
  private readonly slots = new Map<string, Slot>();
  private readonly idleWaiters: (() => void)[] = [];
  private lastErrorValue: { message: string; at: number } | undefined;
  private failures = 0;
  private delivered = 0;

  constructor(private readonly options: RecordDeliveryOptions) {}

  /** Resumes delivery of what the outbox holds from an earlier run; returns how many. */
  resume(): number {
    const entries = this.options.outbox?.load() ?? [];
    for (const e of entries) {
      const slot = this.slot(refKey(e.ref));
      slot.pending = { op: e.op, seq: e.seq };
      slot.since = Math.min(slot.since ?? e.queuedAt, e.queuedAt);
    }
    for (const e of entries) if (!this.slots.get(refKey(e.ref))!.busy) void this.drive(refKey(e.ref));
    if (entries.length > 0) this.options.logger.info({ records: entries.length }, 'resuming delivery of records left in the outbox');
    return entries.length;
  }

  put(record: HealthRecord): void {
    this.enqueue({ namespace: record.metadata.namespace, name: record.metadata.name }, { kind: 'put', record });
  }

  delete(ref: RecordRef): void {
    this.enqueue(ref, { kind: 'delete', ref });
  }

  /** Records waiting for the store (failed at least once, or in flight). */
  get pending(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.pending || s.busy) n++;
    return n;
  }

  get oldestPendingSince(): number | undefined {
    let oldest: number | undefined;
    for (const s of this.slots.values()) if (s.since !== undefined && (oldest === undefined || s.since < oldest)) oldest = s.since;
    return oldest;
  }

  /** Failed delivery attempts since start (vigil_store_delivery_errors_total). */
  get failureCount(): number {
    return this.failures;
  }

  get lastError(): { message: string; at: number } | undefined {
    return this.lastErrorValue;
  }

  get deliveredCount(): number {
    return this.delivered;
  }

  /** Resolves when nothing is pending, or after `timeoutMs` (retries are attempted at once). */
  async flush(timeoutMs: number): Promise<boolean> {
    for (const [key, slot] of this.slots) {
      if (slot.timer) {
        clearTimeout(slot.timer);
        slot.timer = undefined;
        void this.drive(key);
      }
    }
    if (this.slots.size === 0) return true;
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false); }, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops retrying. With an outbox, what is pending stays on disk for the next start. */
  close(): void {
    for (const slot of this.slots.values()) if (slot.timer) clearTimeout(slot.timer);
    if (this.slots.size > 0) {
      const where = this.options.outbox ? 'they stay in the outbox and are delivered after the next start' : 'they are lost';
      this.options.logger.warn({ pending: this.slots.size }, `state store did not accept every record before shutdown; ${where}`);
    }
    this.slots.clear();
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { busy: false, attempt: 0 };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private enqueue(ref: RecordRef, op: Operation): void {
    const key = refKey(ref);
    const slot = this.slot(key);
    const now = Date.now();
    slot.since ??= now;
    let seq: number | undefined;
    try {
      seq = this.options.outbox?.write(ref, op, now);
    } catch (err) {
      this.options.logger.error({ record: key, err: (err as Error).message }, 'cannot write the outbox; delivering from memory only');
    }
    slot.pending = seq === undefined ? { op } : { op, seq };
    if (!slot.busy && !slot.timer) void this.drive(key);
  }

  private async drive(key: string): Promise<void> {
    const slot = this.slots.get(key);
    if (!slot || slot.busy) return;
    const pending = slot.pending;
    if (!pending) return;
    const { op } = pending;
    slot.pending = undefined;
    slot.busy = true;
    try {
      if (op.kind === 'put') await this.options.store.put(op.record);
      else await this.options.store.delete(op.ref);
      if (pending.seq !== undefined) this.options.outbox?.remove(op.kind === 'put' ? { namespace: op.record.metadata.namespace, name: op.record.metadata.name } : op.ref, pending.seq);
      this.delivered++;
      slot.attempt = 0;
      slot.busy = false;
      if (hasPending(slot)) {
        void this.drive(key);
      } else {
        this.slots.delete(key);
        this.notifyIdle();
      }
    } catch (err) {
      slot.busy = false;
      slot.pending ??= pending; // a newer operation wins; otherwise retry this one
      slot.attempt++;
      const base = this.options.retryMs ?? 1_000;
      const delay = Math.min(this.options.maxRetryMs ?? 60_000, base * 2 ** Math.min(slot.attempt - 1, 16));
      const message = err instanceof Error ? err.message : String(err);
      this.lastErrorValue = { message, at: Date.now() };
      this.failures++;
      this.options.logger.error({ record: key, store: this.options.store.kind, attempt: slot.attempt, retryInMs: delay, err: message }, 'state store write failed; will retry');
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        void this.drive(key);
      }, delay);
      slot.timer.unref();
    }
  }

  private notifyIdle(): void {
    if (this.slots.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** Read after an await: a newer operation may have arrived meanwhile. */
function hasPending(slot: Slot): boolean {
  return slot.pending !== undefined;
}

function refKey(ref: RecordRef): string {
  return `${ref.namespace}/${ref.name}`;
}

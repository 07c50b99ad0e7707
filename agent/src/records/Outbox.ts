/**
 * The durable outbox: every record operation the agent produces is written to disk before
 * delivery is attempted, and removed only after the state store confirmed it. One file per
 * record (`<dir>/<namespace>/<name>.json`), replaced atomically, so only the newest pending
 * version of a record is kept, and a restart resumes delivery where it stopped.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RecordRef } from '../core/interfaces.js';
import type { HealthRecord } from '../core/model.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../core/naming.js';

export type Operation = { kind: 'put'; record: HealthRecord } | { kind: 'delete'; ref: RecordRef };

export interface OutboxEntry {
  ref: RecordRef;
  seq: number;
  queuedAt: number;
  op: Operation;
}

interface FileContents {
  version: 1;
  seq: number;
  queuedAt: number;
  op: Operation;
}

export class Outbox {
  private seq = 0;
  /** The sequence number of the file currently on disk, per record. */
  private readonly current = new Map<string, number>();

  constructor(private readonly options: { dir: string; logger: Logger }) {}

  /** Reads every pending operation; unreadable files are moved aside (`.corrupt`) and reported. */
  load(): OutboxEntry[] {
    const entries: OutboxEntry[] = [];
    let namespaces: string[];
    try {
      namespaces = readdirSync(this.options.dir);
    } catch {
      return entries;
    }
    for (const namespace of namespaces) {
      if (dns1123LabelProblem(namespace)) continue;
      for (const file of readdirSync(join(this.options.dir, namespace))) {
        const path = join(this.options.dir, namespace, file);
        if (file.endsWith('.tmp')) {
          rmSync(path, { force: true });
          continue;
        }
        if (!file.endsWith('.json')) continue;
        const name = file.slice(0, -'.json'.length);
        try {
          const contents = parseContents(readFileSync(path, 'utf8'));
          const ref = { namespace, name };
          this.current.set(key(ref), contents.seq);
          this.seq = Math.max(this.seq, contents.seq);
          entries.push({ ref, seq: contents.seq, queuedAt: contents.queuedAt, op: contents.op });
        } catch (err) {
          this.options.logger.error({ path, err: (err as Error).message }, 'unreadable outbox entry moved aside');
          renameSync(path, `${path}.corrupt`);
        }
      }
    }
    return entries.sort((a, b) => a.seq - b.seq);
  }

  /** Persists `op` as the pending operation of its record (replacing an older one) and returns its sequence number. */
  write(ref: RecordRef, op: Operation, queuedAt: number): number {
    const path = this.pathOf(ref);
    const seq = ++this.seq;
    const contents: FileContents = { version: 1, seq, queuedAt, op };
    mkdirSync(join(this.options.dir, ref.namespace), { recursive: true, mode: 0o700 });
    const temp = `${path}.${seq}.tmp`;
    writeFileSync(temp, JSON.stringify(contents), { mode: 0o600 });
    renameSync(temp, path);
    this.current.set(key(ref), seq);
    return seq;
  }

  /** Removes the record's file once operation `seq` is delivered, unless a newer one replaced it. */
  remove(ref: RecordRef, seq: number): void {
    if (this.current.get(key(ref)) !== seq) return;
    rmSync(this.pathOf(ref), { force: true });
    this.current.delete(key(ref));
  }

  private pathOf(ref: RecordRef): string {
    const problem = dns1123LabelProblem(ref.namespace) ?? dns1123SubdomainProblem(ref.name);
    if (problem) throw new Error(`outbox: record ${ref.namespace}/${ref.name}: ${problem}`);
    return join(this.options.dir, ref.namespace, `${ref.name}.json`);
  }
}

/** Parses an outbox file written by `write`; throws on anything else. */
function parseContents(text: string): FileContents {
  const value = JSON.parse(text) as Partial<FileContents> | null;
  const kind = (value?.op as { kind?: unknown } | undefined)?.kind;
  if (value?.version !== 1 || typeof value.seq !== 'number' || typeof value.queuedAt !== 'number' || (kind !== 'put' && kind !== 'delete')) {
    throw new Error('not an outbox entry');
  }
  return value as FileContents;
}

function key(ref: RecordRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/**
 * Rules shared by the remote stores (git, bucket): when a record must be rewritten, and where
 * it lives under the configured `path`.
 *
 * Write on change: a record whose `state` and `details` equal what the store holds is not
 * rewritten, unless the stored `lastRun` is older than the heartbeat interval; the heartbeat
 * keeps `lastRun` fresh (within `heartbeatMs`) without one write per run.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { HealthRecord } from '../core/model.js';
import { isMapping } from '../core/pipeline.js';

/** What the store holds for a record, as far as write-on-change needs it. */
export interface StoredVersion {
  state: unknown;
  details: unknown;
  lastRun: unknown;
}

/** The `data` part of a stored HealthRecord document, or undefined when it is not one. */
export function storedVersionOf(document: unknown): StoredVersion | undefined {
  if (!isMapping(document) || !isMapping(document.data)) return undefined;
  return { state: document.data.state, details: document.data.details, lastRun: document.data.lastRun };
}

/**
 * True when `record` carries the same state and details as `stored` and the stored lastRun
 * (unix seconds) is younger than `heartbeatMs` at `nowMs`: no write is needed.
 */
export function unchangedAndFresh(stored: StoredVersion | undefined, record: HealthRecord, nowMs: number, heartbeatMs: number): boolean {
  if (stored === undefined) return false;
  if (stored.state !== record.data.state || !isDeepStrictEqual(stored.details ?? {}, record.data.details ?? {})) return false;
  if (typeof stored.lastRun !== 'number') return false;
  return nowMs - stored.lastRun * 1000 < heartbeatMs;
}

/**
 * A digest of a record's state and details (key order does not matter), for stores that keep
 * it next to the object (bucket metadata) instead of parsing the stored document.
 */
export function contentDigest(state: unknown, details: unknown): string {
  return createHash('sha256').update(stableJson({ state, details: details ?? {} })).digest('hex');
}

/** `stored` for a digest kept in metadata: equal digests mean equal state and details. */
export function unchangedDigestAndFresh(stored: { digest: string; lastRun: number } | undefined, record: HealthRecord, nowMs: number, heartbeatMs: number): boolean {
  if (stored === undefined) return false;
  if (stored.digest !== contentDigest(record.data.state, record.data.details)) return false;
  return nowMs - stored.lastRun * 1000 < heartbeatMs;
}

/** JSON with object keys sorted, so that equal values have equal text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * Validates and normalises a store's `path` setting: relative, no `.`/`..`/`.git` segments,
 * no backslashes or NULs; '' (the root) when empty. `setting` names it in errors.
 */
export function normaliseStorePath(raw: string, setting = 'store.path'): string {
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || trimmed === '.') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || segment.toLowerCase() === '.git' || /[\\\0]/.test(segment)) {
      throw new Error(`${setting}: "${raw}" must be a relative path without empty, '.', '..' or '.git' segments`);
    }
  }
  return posix.normalize(trimmed);
}

/**
 * The last known IP (and node) of each VMI, kept in a small JSON file between runs, so
 * disconnected mode can keep probing the VMs while the API server is unreachable
 * (Krkn issue #874, peers.md §6). Written atomically, mode 0600; a missing, unreadable or
 * foreign file counts as an empty cache, never as an error of the check.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isPlainObject } from '../../sdk/src/index.js';

const FORMAT = 'vigil.vmi-cache/v1';
const MAX_CACHE_BYTES = 4 * 1024 * 1024;

export interface KnownVmi {
  ip: string;
  node?: string;
}

export interface VmiCache {
  namespace: string;
  /** Unix milliseconds of the last update. */
  updatedAt: number;
  vmis: Record<string, KnownVmi>;
}

/** Reads the cache for `namespace`; undefined when there is none usable. */
export async function readCache(file: string, namespace: string): Promise<VmiCache | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  if (text.length > MAX_CACHE_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || value.format !== FORMAT || value.namespace !== namespace || !isPlainObject(value.vmis)) return undefined;
  const vmis: Record<string, KnownVmi> = {};
  for (const [name, entry] of Object.entries(value.vmis)) {
    if (isPlainObject(entry) && typeof entry.ip === 'string' && entry.ip !== '') {
      vmis[name] = { ip: entry.ip, ...(typeof entry.node === 'string' ? { node: entry.node } : {}) };
    }
  }
  return { namespace, updatedAt: typeof value.updatedAt === 'number' ? value.updatedAt : 0, vmis };
}

/** Writes the cache atomically; returns an error message instead of throwing. */
export async function writeCache(file: string, cache: VmiCache): Promise<string | undefined> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temp, `${JSON.stringify({ format: FORMAT, ...cache }, null, 1)}\n`, { flag: 'wx', mode: 0o600 });
    await rename(temp, file);
    return undefined;
  } catch (err) {
    await rm(temp, { force: true });
    return `cannot write the VMI cache ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

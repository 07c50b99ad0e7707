/**
 * Filesystem state store: one YAML HealthRecord per file at `<root>/<namespace>/<name>.yaml`,
 * written atomically (temp file in the same directory, fsync, rename), so a reader (a GitOps
 * agent, a human, `kubectl apply -f`) never sees a half-written record.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import type { RecordRef, StateStore } from '../core/interfaces.js';
import { HEALTH_RECORD_KIND, type HealthRecord } from '../core/model.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../core/naming.js';
import { parseYamlDocument, toYaml } from '../core/yaml.js';
import { isMapping } from '../core/pipeline.js';

export interface FsStateStoreOptions {
  root: string;
  logger: Logger;
  /** fsync files and directories so a record survives a crash right after put(). Default true. */
  fsync?: boolean;
}

const TEMP_SUFFIX = '.tmp';

export class FsStateStore implements StateStore {
  readonly kind = 'fs';
  private readonly root: string;
  private readonly logger: Logger;
  private readonly fsync: boolean;

  constructor(options: FsStateStoreOptions) {
    this.root = resolve(options.root);
    this.logger = options.logger.child({ store: 'fs' });
    this.fsync = options.fsync ?? true;
  }

  describe(): string {
    return this.root;
  }

  /** The file a record lives in. Throws on names that are not valid Kubernetes names. */
  pathOf(ref: RecordRef): string {
    const nsProblem = dns1123LabelProblem(ref.namespace);
    if (nsProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.namespace: ${nsProblem}`);
    const nameProblem = dns1123SubdomainProblem(ref.name);
    if (nameProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.name: ${nameProblem}`);
    const path = join(this.root, ref.namespace, `${ref.name}.yaml`);
    if (!path.startsWith(this.root + sep)) throw new Error(`record ${ref.namespace}/${ref.name}: path escapes the store root`);
    return path;
  }

  async put(record: HealthRecord): Promise<void> {
    const ref = { namespace: record.metadata.namespace, name: record.metadata.name };
    const path = this.pathOf(ref);
    const dir = join(this.root, ref.namespace);
    await fs.mkdir(dir, { recursive: true });
    const temp = join(dir, `.${ref.name}.yaml.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    const handle = await fs.open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(toYaml(record), 'utf8');
      if (this.fsync) await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    try {
      await fs.rename(temp, path);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    if (this.fsync) await syncDirectory(dir);
  }

  async delete(ref: RecordRef): Promise<void> {
    const path = this.pathOf(ref);
    try {
      await fs.unlink(path);
      if (this.fsync) await syncDirectory(join(this.root, ref.namespace));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Reads every record; files that are not HealthRecords are skipped with a warning; stale temp files are removed. */
  async list(): Promise<HealthRecord[]> {
    const records: HealthRecord[] = [];
    let namespaces: string[];
    try {
      namespaces = await fs.readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    for (const ns of namespaces) {
      if (dns1123LabelProblem(ns)) continue;
      const dir = join(this.root, ns);
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const path = join(dir, entry.name);
        if (entry.name.startsWith('.') && entry.name.endsWith(TEMP_SUFFIX)) {
          await fs.rm(path, { force: true });
          continue;
        }
        if (!entry.name.endsWith('.yaml')) continue;
        try {
          const value = parseYamlDocument(await fs.readFile(path, 'utf8'));
          if (isMapping(value) && value.kind === HEALTH_RECORD_KIND && isMapping(value.metadata) && isMapping(value.data)) {
            records.push(value as unknown as HealthRecord);
          } else {
            this.logger.warn({ path }, 'ignoring a file in the state store that is not a HealthRecord');
          }
        } catch (err) {
          this.logger.warn({ path, err: (err as Error).message }, 'ignoring an unreadable file in the state store');
        }
      }
    }
    return records;
  }

  async close(): Promise<void> {
    // Nothing is buffered: every put() is durable when it resolves.
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

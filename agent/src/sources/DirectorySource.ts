/**
 * Definition source backed by directories (and/or single files) of YAML manifests.
 * Reads `*.yaml`/`*.yml` recursively (multi-document files and Lists included), watches
 * for changes (fs.watch, debounced, plus a periodic rescan as a safety net) and emits
 * only real differences. A broken file or document is reported and skipped: the other
 * definitions are unaffected, and a definition that was valid before keeps its last
 * accepted version until the file is fixed or deleted.
 */
import { createHash } from 'node:crypto';
import { watch, promises as fs, type FSWatcher, type Stats } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { DefinitionSource, SourceEvent, SourceProblem } from '../core/interfaces.js';
import type { HealthDefinition } from '../core/model.js';
import type { Issue } from '../core/issues.js';
import { issue } from '../core/issues.js';
import { definitionsFromText } from '../core/documents.js';
import type { DefinitionValidator } from '../core/definition.js';
import { collectManifestFiles, isYamlFile } from './manifest-files.js';

export interface DirectorySourceOptions {
  /** Directories (read recursively) or single files. */
  paths: string[];
  validator: DefinitionValidator;
  logger: Logger;
  /** Namespace for definitions that set none. Default "default". */
  defaultNamespace?: string;
  /** Watch for changes. Default true. */
  watch?: boolean;
  /** Full rescan period, catching anything a watcher missed; 0 disables. Default 30 s. */
  rescanIntervalMs?: number;
  /** Quiet time after a change before rescanning. Default 150 ms. */
  debounceMs?: number;
  /** Files larger than this are refused. Default 4 MiB. */
  maxFileBytes?: number;
}

interface Entry {
  definition: HealthDefinition;
  /** Digest of the accepted definition: a change of content is a change of digest. */
  hash: string;
  warnings: Issue[];
}

interface FileState {
  stamp: string;
  entries: Map<string, Entry>;
  problems: SourceProblem[];
}

export class DirectorySource implements DefinitionSource {
  readonly kind = 'directory';
  private readonly paths: string[];
  private readonly files = new Map<string, FileState>();
  /** What has been emitted: key -> origin file and hash. */
  private readonly emitted = new Map<string, { origin: string; hash: string }>();
  private readonly reportedProblems = new Map<string, string>();
  private readonly watchers: FSWatcher[] = [];
  private onEvent: (event: SourceEvent) => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private readonly logger: Logger;

  constructor(private readonly options: DirectorySourceOptions) {
    this.paths = options.paths.map((p) => resolve(p));
    this.logger = options.logger.child({ source: 'directory' });
  }

  async start(onEvent: (event: SourceEvent) => void): Promise<void> {
    this.onEvent = onEvent;
    for (const p of this.paths) {
      try {
        await fs.stat(p);
      } catch {
        this.logger.warn({ path: p }, 'definition path does not exist yet; it will be picked up when it appears');
      }
    }
    await this.scan();
    this.emit({ type: 'synced' });
    if (this.options.watch ?? true) this.startWatching();
    const every = this.options.rescanIntervalMs ?? 30_000;
    if (every > 0) {
      this.interval = setInterval(() => { this.requestScan(0); }, every);
      this.interval.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.interval) clearInterval(this.interval);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    await this.scanning;
  }

  /** Rescans now (tests, and the agent's reload). */
  async rescan(): Promise<void> {
    await this.scan();
  }

  private startWatching(): void {
    const targets = new Set<string>();
    for (const p of this.paths) targets.add(isYamlFile(p) ? dirname(p) : p);
    for (const target of targets) {
      try {
        const w = watch(target, { recursive: true, persistent: false }, () => { this.requestScan(this.options.debounceMs ?? 150); });
        w.on('error', (err) => {
          this.logger.warn({ path: target, err: err.message }, 'file watcher failed; relying on periodic rescans');
        });
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn({ path: target, err: (err as Error).message }, 'cannot watch path; relying on periodic rescans');
      }
    }
  }

  private requestScan(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.scan();
    }, delay);
  }

  /** Serialised: a scan requested while one runs makes exactly one more run afterwards. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.dirty = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.dirty = false;
        try {
          await this.scanOnce();
        } catch (err) {
          this.logger.error({ err }, 'definition scan failed');
        }
      } while (this.rescanPending());
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /** A change arrived while scanning (read after awaits, so it is not constant). */
  private rescanPending(): boolean {
    return this.dirty && !this.stopped;
  }

  private async scanOnce(): Promise<void> {
    const found = await collectManifestFiles(this.paths, (path, err) => {
      this.logger.warn({ path, err: err.message }, 'cannot read directory');
    });

    for (const path of [...this.files.keys()]) {
      if (!found.has(path)) this.files.delete(path);
    }
    for (const [path, stat] of found) {
      const stamp = `${stat.mtimeMs}:${stat.ctimeMs}:${stat.size}:${stat.ino}`;
      const previous = this.files.get(path);
      if (previous?.stamp === stamp) continue;
      this.files.set(path, await this.readFile(path, stat, stamp, previous));
    }
    this.reconcile();
  }

  private async readFile(path: string, stat: Stats, stamp: string, previous: FileState | undefined): Promise<FileState> {
    const max = this.options.maxFileBytes ?? 4 * 1024 * 1024;
    const lastGood = previous?.entries ?? new Map<string, Entry>();
    if (stat.size > max) {
      return { stamp, entries: lastGood, problems: [{ object: 'file', issues: [issue('error', '', `file is ${stat.size} bytes, over the limit of ${max} bytes`)] }] };
    }
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      return { stamp, entries: lastGood, problems: [{ object: 'file', issues: [issue('error', '', `cannot read: ${(err as Error).message}`)] }] };
    }
    const contents = definitionsFromText(text, {
      validator: this.options.validator,
      defaultNamespace: this.options.defaultNamespace ?? 'default',
      limits: { maxBytes: max },
    });
    if (contents.unreadable) return { stamp, entries: lastGood, problems: contents.problems };
    const entries = new Map<string, Entry>();
    for (const a of contents.accepted) entries.set(a.key, { definition: a.definition, hash: contentHash(a.definition), warnings: a.warnings });
    // Last known good: an identified object that is now invalid keeps its previous version.
    for (const p of contents.problems) {
      if (p.key === undefined || entries.has(p.key)) continue;
      const good = lastGood.get(p.key);
      if (good) {
        entries.set(p.key, good);
        p.issues.push(issue('warning', '', 'the previously accepted version stays in force until this is fixed'));
      }
    }
    for (const s of contents.skipped) this.logger.debug({ path, location: s.location, kind: s.kind }, 'skipping a document that is not a HealthDefinition');
    return { stamp, entries, problems: contents.problems };
  }

  /** Computes the winning definition per key across files and emits the differences. */
  private reconcile(): void {
    const desired = new Map<string, { origin: string; entry: Entry }>();
    const duplicates = new Map<string, SourceProblem[]>();
    for (const path of [...this.files.keys()].sort()) {
      for (const [key, entry] of this.files.get(path)!.entries) {
        const owner = desired.get(key);
        if (owner) {
          const list = duplicates.get(path) ?? [];
          list.push({ object: key, key, issues: [issue('error', 'metadata.name', `duplicate definition ${key}: already defined in ${this.display(owner.origin)}; this copy is ignored`)] });
          duplicates.set(path, list);
          continue;
        }
        desired.set(key, { origin: path, entry });
      }
    }

    for (const [key, was] of [...this.emitted]) {
      if (!desired.has(key)) {
        this.emitted.delete(key);
        this.emit({ type: 'delete', key, origin: was.origin });
      }
    }
    for (const [key, { origin, entry }] of desired) {
      const was = this.emitted.get(key);
      if (was?.hash === entry.hash) {
        was.origin = origin;
        continue;
      }
      this.emitted.set(key, { origin, hash: entry.hash });
      this.emit({ type: 'upsert', definition: entry.definition, origin, warnings: entry.warnings });
    }

    const origins = new Set([...this.files.keys(), ...this.reportedProblems.keys()]);
    for (const origin of origins) {
      const problems = [...(this.files.get(origin)?.problems ?? []), ...(duplicates.get(origin) ?? [])];
      const fingerprint = JSON.stringify(problems);
      const previous = this.reportedProblems.get(origin);
      if (problems.length === 0 && previous === undefined) continue;
      if (fingerprint === previous) continue;
      if (problems.length === 0) this.reportedProblems.delete(origin);
      else this.reportedProblems.set(origin, fingerprint);
      this.emit({ type: 'problems', origin, problems });
    }
  }

  private display(path: string): string {
    return relative(process.cwd(), path) || path;
  }

  private emit(event: SourceEvent): void {
    if (this.stopped && event.type !== 'synced') return;
    try {
      this.onEvent(event);
    } catch (err) {
      this.logger.error({ err, event: event.type }, 'definition event handler failed');
    }
  }
}

/** A short digest of a definition's content (the full JSON would double the memory held per definition). */
function contentHash(definition: HealthDefinition): string {
  return createHash('sha256').update(JSON.stringify(definition)).digest('base64url').slice(0, 22);
}

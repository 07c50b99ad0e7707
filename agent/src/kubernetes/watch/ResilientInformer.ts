/**
 * A list+watch cache that never gives up. client-node 1.x informers stop on any non-410
 * error and never restart, and their watches can stall silently (landscape.md §4), so vigil
 * owns the loop:
 *
 * - list (paged) → watch from the list's resourceVersion with `allowWatchBookmarks`;
 * - a watch that ends normally (server timeout) is resumed from the last resourceVersion;
 * - 410 Gone (on the watch or on a list continue token) → full re-list;
 * - any other failure → reconnect after a jittered exponential backoff;
 * - no event or bookmark within `stallSeconds` → the watch is abandoned and re-listed (watchdog);
 * - every `resyncSeconds` a full re-list catches anything a watch may have missed.
 *
 * A re-list emits `add` for new objects, `update` for changed ones (resourceVersion differs)
 * and `delete` for vanished ones, so subscribers never see a spurious burst. It watches one
 * collection cluster-wide, or the same collection in each of a list of namespaces.
 */
import type { Logger } from 'pino';
import { collectionPath, kubeError, type Kube, type KubeObject, type WatchHandle } from '../client.js';

export type InformerEvent<T extends KubeObject> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; old: T }
  | { type: 'delete'; object: T }
  /** Every namespace has been listed once; emitted once. */
  | { type: 'synced' };

export interface InformerOptions {
  kube: Kube;
  apiVersion: string;
  kind: string;
  /** Lower-case plural of the resource (the watch path). */
  plural: string;
  /** Namespaces to watch; undefined or empty: cluster-wide (or the cluster-scoped resource). */
  namespaces?: readonly string[];
  labelSelector?: string;
  logger: Logger;
  /** Full re-list period. Default 600 s; 0 disables. */
  resyncSeconds?: number;
  /** Restart a watch that delivered no event and no bookmark for this long. Default 120 s. */
  stallSeconds?: number;
  /** Server-side timeout asked for each watch (randomised up to ×1.5). Default 300 s. */
  watchTimeoutSeconds?: number;
  /** First reconnect delay; doubles (with ±50 % jitter) up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A list request that takes longer than this is abandoned and retried. Default 60 s. */
  listTimeoutMs?: number;
  pageSize?: number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  restarts: number;
  gone: number;
  stalls: number;
  errors: number;
  lastError?: string;
  lastEventAt?: number;
}

type Outcome = { kind: 'closed'; events: number; durationMs: number } | { kind: 'gone' } | { kind: 'stalled' } | { kind: 'stopped' } | { kind: 'error'; error: Error };

export class ResilientInformer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<(event: InformerEvent<T>) => void>();
  private readonly scopes: (string | undefined)[];
  private stopped = false;
  private started = false;
  private syncedScopes = new Set<string | undefined>();
  private syncedEmitted = false;
  private readonly stopWaiters = new Set<() => void>();
  private readonly activeWatches = new Set<WatchHandle>();
  private readonly loops: Promise<void>[] = [];
  private syncedResolve: (() => void) | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, restarts: 0, gone: 0, stalls: 0, errors: 0 };
  private readonly log: Logger;

  constructor(private readonly options: InformerOptions) {
    this.scopes = options.namespaces && options.namespaces.length > 0 ? [...new Set(options.namespaces)] : [undefined];
    this.log = options.logger.child({ informer: options.kind });
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (event: InformerEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Starts every list+watch loop; resolves once each scope has been listed (or stop() was called). */
  async start(): Promise<void> {
    if (this.started) throw new Error('informer already started');
    this.started = true;
    const synced = new Promise<void>((resolve) => { this.syncedResolve = resolve; });
    for (const scope of this.scopes) this.loops.push(this.loop(scope));
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.activeWatches) w.abort();
    for (const wake of this.stopWaiters) wake();
    this.syncedResolve?.();
    await Promise.all(this.loops);
  }

  /** Read through a method: a loop's narrowing of `this.stopped` does not survive an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  get hasSynced(): boolean {
    return this.syncedEmitted;
  }

  /** Cached object by `namespace/name` (or `name` for cluster-scoped objects). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  // ------------------------------------------------------------------ loop

  private async loop(scope: string | undefined): Promise<void> {
    let resourceVersion: string | undefined;
    let attempt = 0;
    let lastList = 0;
    const resyncMs = (this.options.resyncSeconds ?? 600) * 1000;
    while (!this.stopped) {
      try {
        if (resourceVersion === undefined || (resyncMs > 0 && Date.now() - lastList >= resyncMs)) {
          resourceVersion = await this.relist(scope);
          lastList = Date.now();
          this.markSynced(scope);
        }
        const untilResync = resyncMs > 0 ? Math.max(1_000, lastList + resyncMs - Date.now()) : undefined;
        const outcome = await this.watchOnce(scope, resourceVersion, untilResync, (rv) => { resourceVersion = rv; });
        switch (outcome.kind) {
          case 'stopped':
            return;
          case 'closed':
            // A normal end (server timeout or resync): resume at once. A stream that ended without a
            // single event may be a server or proxy closing immediately: back off a little.
            if (outcome.events === 0 && outcome.durationMs < 1_000) await this.backoff(++attempt, scope, 'watch closed without events');
            else attempt = 0;
            break;
          case 'gone':
            this.stats.gone++;
            this.log.info({ namespace: scope, resourceVersion }, 'watch expired (410 Gone); re-listing');
            resourceVersion = undefined;
            attempt = 0;
            break;
          case 'stalled':
            this.stats.stalls++;
            this.log.warn({ namespace: scope, stallSeconds: this.options.stallSeconds ?? 120 }, 'watch silent for too long (no event, no bookmark); restarting with a re-list');
            resourceVersion = undefined;
            break;
          case 'error':
            throw outcome.error;
        }
      } catch (err) {
        if (this.isStopped()) return;
        const e = kubeError(err);
        this.stats.errors++;
        this.stats.lastError = e.message;
        if (e.code === 410) {
          this.stats.gone++;
          resourceVersion = undefined;
          continue;
        }
        await this.backoff(++attempt, scope, e.message, e.code);
      }
    }
  }

  private async backoff(attempt: number, scope: string | undefined, error: string, code?: number): Promise<void> {
    this.stats.restarts++;
    const initial = this.options.initialBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(attempt - 1, 20));
    const delay = Math.round(base * (0.5 + Math.random()));
    this.log.warn({ namespace: scope, attempt, retryInMs: delay, err: error, ...(code !== undefined ? { code } : {}) }, 'list/watch failed; reconnecting after backoff');
    await this.sleep(delay);
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.stopWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.stopWaiters.add(wake);
    });
  }

  /** Lists the scope, reconciles the cache with it (emitting add/update/delete) and returns the list's resourceVersion. */
  private async relist(scope: string | undefined): Promise<string> {
    this.stats.lists++;
    const { kube, apiVersion, kind, labelSelector } = this.options;
    const listing = kube.listAll<T>(apiVersion, kind, { ...(scope ? { namespace: scope } : {}), ...(labelSelector ? { labelSelector } : {}) }, this.options.pageSize ?? 500);
    const timeoutMs = this.options.listTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(new Error(`list ${kind} timed out after ${timeoutMs} ms`)); }, timeoutMs);
    });
    listing.catch(() => undefined);
    let list;
    try {
      list = await Promise.race([listing, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.stopped) return list.resourceVersion;
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = objectKey(object);
      seen.add(key);
      this.apply(object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key) || !inScope(object, scope)) continue;
      this.cache.delete(key);
      this.emit({ type: 'delete', object });
    }
    return list.resourceVersion;
  }

  private apply(object: T): void {
    const key = objectKey(object);
    const old = this.cache.get(key);
    this.cache.set(key, object);
    if (!old) this.emit({ type: 'add', object });
    else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit({ type: 'update', object, old });
  }

  private watchOnce(scope: string | undefined, resourceVersion: string, untilResyncMs: number | undefined, setVersion: (rv: string) => void): Promise<Outcome> {
    const { kube, apiVersion, plural, labelSelector } = this.options;
    const stallMs = (this.options.stallSeconds ?? 120) * 1000;
    const timeoutSeconds = Math.round((this.options.watchTimeoutSeconds ?? 300) * (1 + Math.random() * 0.5));
    this.stats.watches++;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let events = 0;
      const startedAt = Date.now();
      let lastSeen = startedAt;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        clearTimeout(resync);
        this.stopWaiters.delete(onStop);
        this.activeWatches.delete(handle);
        handle.abort();
        resolve(outcome);
      };
      const onStop = (): void => { finish({ kind: 'stopped' }); };
      const handle = kube.watch(
        collectionPath(apiVersion, plural, scope),
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds, ...(labelSelector ? { labelSelector } : {}) },
        (type, raw) => {
          if (settled) return;
          lastSeen = Date.now();
          this.stats.lastEventAt = lastSeen;
          const object = raw as T;
          if (type === 'ERROR') {
            const status = raw as { code?: number; message?: string; reason?: string };
            if (status.code === 410) finish({ kind: 'gone' });
            else finish({ kind: 'error', error: kubeError(Object.assign(new Error(status.message ?? 'watch error event'), { statusCode: status.code })) });
            return;
          }
          const rv = (object as Partial<KubeObject>).metadata?.resourceVersion;
          if (rv) setVersion(rv);
          if (type === 'BOOKMARK') return;
          events++;
          if (type === 'ADDED' || type === 'MODIFIED') this.apply(object);
          else if (type === 'DELETED') {
            const key = objectKey(object);
            const old = this.cache.get(key);
            this.cache.delete(key);
            this.emit({ type: 'delete', object: old ?? object });
          }
        },
        (err) => {
          if (this.stopped) finish({ kind: 'stopped' });
          else if (err) {
            const e = kubeError(err, 'watch');
            finish(e.code === 410 ? { kind: 'gone' } : { kind: 'error', error: e });
          } else finish({ kind: 'closed', events, durationMs: Date.now() - startedAt });
        },
      );
      this.activeWatches.add(handle);
      this.stopWaiters.add(onStop);
      const watchdog = setInterval(() => {
        if (Date.now() - lastSeen > stallMs) finish({ kind: 'stalled' });
      }, Math.max(50, Math.min(5_000, stallMs / 4)));
      const resync = untilResyncMs === undefined ? undefined : setTimeout(() => { finish({ kind: 'closed', events, durationMs: Date.now() - startedAt }); }, untilResyncMs);
    });
  }

  private markSynced(scope: string | undefined): void {
    this.syncedScopes.add(scope);
    if (this.syncedEmitted || this.syncedScopes.size < this.scopes.length) return;
    this.syncedEmitted = true;
    this.emit({ type: 'synced' });
    this.syncedResolve?.();
  }

  private emit(event: InformerEvent<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'informer listener failed');
      }
    }
  }
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: { metadata: { name: string; namespace?: string } }): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

function inScope(object: KubeObject, scope: string | undefined): boolean {
  return scope === undefined || object.metadata.namespace === scope;
}

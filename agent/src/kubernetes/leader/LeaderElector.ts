/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: several
 * replicas may run; exactly one reconciles.
 *
 * - Every `retryPeriodSeconds` each candidate reads the Lease. A lease held by someone else
 *   is respected until it has not changed for `leaseDurationSeconds` as observed locally
 *   (never trusting the holder's clock), then taken over.
 * - Every write carries the resourceVersion read (optimistic concurrency): two candidates
 *   racing for an expired lease cannot both win, the loser gets 409.
 * - The leader renews every retry period; if it cannot renew for `renewDeadlineSeconds` it
 *   steps down (before the lease can expire for the others).
 * - `stop()` releases the lease (holder cleared, duration 1 s) so a standby takes over at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { kubeError, type Kube, type KubeObject } from '../client.js';

export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

export interface LeaderElectorOptions {
  kube: Kube;
  namespace: string;
  name: string;
  /** Default: `$VIGIL_POD_NAME` (the manifests set it), `$POD_NAME` or the host name, plus a random suffix. */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  logger: Logger;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
}

const LEASE_API = 'coordination.k8s.io/v1';

export function defaultIdentity(): string {
  return `${process.env.VIGIL_POD_NAME ?? process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`;
}

/** RFC 3339 with microseconds, the MicroTime format the API server parses. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The lease as last read, and when (locally) its holder or renewTime last changed. */
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private lastRenewed = 0;
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.leaseMs = (options.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
    if (this.renewDeadlineMs >= this.leaseMs) throw new Error('leaderElection: renewDeadlineSeconds must be less than leaseDurationSeconds');
    this.log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: this.identity });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed (for status). */
  get holder(): string | undefined {
    return this.observed?.holder;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease unless `release` is false (simulated crash in tests). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.leading && release) await this.release();
    this.setLeading(false);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.retryMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenewed = Date.now();
        if (!this.isStopped()) this.setLeading(true);
      } else if (this.leading) {
        this.log.warn('lost the lease to another holder');
        this.setLeading(false);
      }
    } catch (err) {
      const e = kubeError(err);
      if (this.leading && Date.now() - this.lastRenewed > this.renewDeadlineMs) {
        this.log.error({ err: e.message }, 'could not renew the lease within the renew deadline; stepping down');
        this.setLeading(false);
      } else {
        this.log.warn({ err: e.message, code: e.code }, 'lease update failed; will retry');
      }
    }
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  /** One round: true when this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { kube, namespace, name } = this.options;
    const now = Date.now();
    const lease = await kube.get<LeaseObject>(LEASE_API, 'Lease', namespace, name);
    if (!lease) {
      try {
        const created = await kube.create<LeaseObject>({
          apiVersion: LEASE_API,
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseMs / 1000, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observe(created, now);
        this.log.info('created the lease; leading');
        return true;
      } catch (err) {
        if (kubeError(err).code === 409) return false;
        throw err;
      }
    }
    this.observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const held = holder !== '' && holder !== this.identity;
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
    if (held && this.observed && now - this.observed.at < durationMs) return false;
    if (held) this.log.info({ previous: holder }, 'lease expired; taking over');
    const mine = holder === this.identity;
    const next: LeaseObject = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseMs / 1000,
        renewTime: microTime(now),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      const updated = await kube.replace(next);
      this.observe(updated, now);
      return true;
    } catch (err) {
      if (kubeError(err).code === 409) return false;
      throw err;
    }
  }

  private observe(lease: LeaseObject, now: number): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = lease.spec?.renewTime ?? '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) this.observed = { holder, renewTime, at: now };
  }

  private async release(): Promise<void> {
    const { kube, namespace, name } = this.options;
    try {
      const lease = await kube.get<LeaseObject>(LEASE_API, 'Lease', namespace, name);
      if (lease?.spec?.holderIdentity !== this.identity) return;
      await kube.replace<LeaseObject>({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) } });
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: kubeError(err).message }, 'could not release the lease; it expires on its own');
    }
  }

  private setLeading(value: boolean): void {
    if (value === this.leading) return;
    this.leading = value;
    if (value) {
      this.log.info('became the leader');
      this.options.onStartedLeading?.();
    } else {
      this.log.info('no longer the leader');
      this.options.onStoppedLeading?.();
    }
  }
}

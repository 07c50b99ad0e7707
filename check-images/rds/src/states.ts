/**
 * From an RDS `DBInstanceStatus` to a health state. Pure; the table is also in the
 * check's README. Statuses AWS adds later, and that are not listed here, give
 * `unknown` with reason `UnrecognisedStatus` rather than a guess.
 */
import type { HealthState } from '../../sdk/src/index.js';

export interface StatusVerdict {
  state: HealthState;
  /** Set for every state but healthy and degraded: why the state was chosen. */
  reason?: string;
}

/** In-progress maintenance: the instance serves (or will shortly), but is not at rest. */
const DEGRADED = new Set([
  'backing-up',
  'modifying',
  'upgrading',
  'starting',
  'rebooting',
  'maintenance',
  'storage-optimization',
  'renaming',
  'resetting-master-credentials',
  'moving-to-vpc',
  'storage-config-upgrade',
  'storage-initialization',
]);
const DEGRADED_PREFIXES = ['configuring-'];

/** Not serving, and not going to without someone acting. */
const UNHEALTHY = new Set(['stopped', 'stopping', 'failed', 'storage-full', 'deleting', 'insufficient-capacity', 'restore-error']);
const UNHEALTHY_PREFIXES = ['incompatible-', 'inaccessible-encryption-credentials'];

/** The verdict for one DBInstanceStatus (compared in lower case). */
export function stateForStatus(status: string): StatusVerdict {
  const s = status.toLowerCase();
  if (s === 'available') return { state: 'healthy' };
  if (DEGRADED.has(s) || DEGRADED_PREFIXES.some((p) => s.startsWith(p))) return { state: 'degraded' };
  if (s === 'creating') return { state: 'unknown', reason: 'Creating' };
  if (UNHEALTHY.has(s) || UNHEALTHY_PREFIXES.some((p) => s.startsWith(p))) return { state: 'unhealthy', reason: 'InstanceStatus' };
  return { state: 'unknown', reason: 'UnrecognisedStatus' };
}

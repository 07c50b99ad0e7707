/**
 * What the check needs from a kubevirt.io/v1 VirtualMachineInstance, read defensively from
 * the API's JSON. Pure.
 */
import { isPlainObject } from '../../sdk/src/index.js';

export const KUBEVIRT_GROUP = 'kubevirt.io';
export const KUBEVIRT_VERSION = 'v1';
export const VMI_PLURAL = 'virtualmachineinstances';

export interface VmiSummary {
  name: string;
  /** `status.phase`; undefined when the VMI is only known from the cache. */
  phase?: string;
  /** Condition Ready=True; undefined when unknown (cache). */
  ready?: boolean;
  /** `status.interfaces[0].ipAddress` (a CIDR suffix, if any, removed). */
  ip?: string;
  /** `status.nodeName`. */
  node?: string;
}

/** Reads one VMI object; undefined when it has no name. */
export function summarizeVmi(raw: unknown): VmiSummary | undefined {
  if (!isPlainObject(raw)) return undefined;
  const meta = isPlainObject(raw.metadata) ? raw.metadata : {};
  if (typeof meta.name !== 'string' || meta.name === '') return undefined;
  const status = isPlainObject(raw.status) ? raw.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready = conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
  const interfaces = Array.isArray(status.interfaces) ? status.interfaces : [];
  const first: unknown = interfaces[0];
  const rawIp = isPlainObject(first) && typeof first.ipAddress === 'string' ? first.ipAddress : undefined;
  const ip = rawIp?.split('/')[0];
  return {
    name: meta.name,
    phase: typeof status.phase === 'string' ? status.phase : '',
    ready,
    ...(ip ? { ip } : {}),
    ...(typeof status.nodeName === 'string' && status.nodeName !== '' ? { node: status.nodeName } : {}),
  };
}

/** The VMIs of a list response's `items` that pass the name and node filters, sorted by name. */
export function selectVmis(items: unknown, filter: { namePattern?: RegExp; nodeNames: readonly string[] }): VmiSummary[] {
  const list = Array.isArray(items) ? items : [];
  return list
    .map(summarizeVmi)
    .filter((v): v is VmiSummary => v !== undefined)
    .filter((v) => filter.namePattern === undefined || filter.namePattern.test(v.name))
    .filter((v) => filter.nodeNames.length === 0 || (v.node !== undefined && filter.nodeNames.includes(v.node)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

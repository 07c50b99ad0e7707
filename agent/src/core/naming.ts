/**
 * Kubernetes name rules and stable, bounded names derived from object names.
 * Anything vigil turns into a file path or an object name passes through here.
 */
import { createHash } from 'node:crypto';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** RFC 1123 label: namespaces, container names, destinations (at most 63 characters). */
export function isDns1123Label(value: string): boolean {
  return value.length > 0 && value.length <= 63 && DNS1123_LABEL.test(value);
}

/** RFC 1123 subdomain: most object names, including HealthDefinitions and HealthRecords (at most 253). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `"${value}" is longer than 63 characters`;
  if (!DNS1123_LABEL.test(value)) return `"${value}" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit`;
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > 253) return `"${value.slice(0, 40)}…" is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(value)) return `"${value}" is not a valid name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  return undefined;
}

/** First `length` hex characters of sha256(parts joined by NUL). */
export function stableHash(parts: readonly string[], length = 8): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, length);
}

/**
 * Joins parts with '-' into a name of at most `max` characters. When the plain join is too
 * long (or not a valid subdomain), it is cut and suffixed with a hash of the full parts, so
 * distinct inputs keep distinct names and the same input always gives the same name.
 */
export function boundedName(parts: readonly string[], max: number): string {
  const plain = parts.filter((p) => p.length > 0).join('-');
  if (plain.length <= max && DNS1123_SUBDOMAIN.test(plain)) return plain;
  const hash = stableHash(parts, 8);
  const sanitized = plain.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  const head = sanitized.slice(0, Math.max(1, max - hash.length - 1)).replace(/[^a-z0-9]+$/, '');
  return head.length > 0 && /^[a-z0-9]/.test(head) ? `${head}-${hash}` : `x-${hash}`;
}

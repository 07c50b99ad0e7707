/**
 * Validation issues: every error or warning names the object and the field path,
 * e.g. `default/web-1: spec.schedule: "@every 5m" is not supported`.
 */
export type Severity = 'error' | 'warning';

export interface Issue {
  severity: Severity;
  /** Dotted field path with [i] indexes, e.g. `spec.workflow.spec.containers[0].image`; empty for the whole object. */
  path: string;
  message: string;
}

export function issue(severity: Severity, path: string, message: string): Issue {
  return { severity, path, message };
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** `<object>: <path>: <message>`; the object is `namespace/name` or a file location. */
export function formatIssue(object: string, i: Issue): string {
  const where = i.path ? `${i.path}: ` : '';
  const prefix = i.severity === 'warning' ? 'warning: ' : '';
  return `${object}: ${prefix}${where}${i.message}`;
}

/** Appends a property or index to a field path. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** An error thrown at a boundary, carrying structured issues. */
export class ValidationError extends Error {
  constructor(
    readonly object: string,
    readonly issues: Issue[],
  ) {
    super(issues.filter((i) => i.severity === 'error').map((i) => formatIssue(object, i)).join('\n'));
    this.name = 'ValidationError';
  }
}

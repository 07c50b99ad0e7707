/**
 * Reading a Kratix resource request (`/kratix/input/object.yaml`) defensively. Kratix validates
 * requests against the Promise's CRD, but a pipeline also runs locally, on requests written by
 * hand; so every field is checked again here, the CRD's defaults are applied, and every problem
 * names the object (`RDS default/example`) and the field (`spec.engine`).
 */
import { describeType, isPlainObject, type ConfigIssue } from '../../../check-images/sdk/src/index.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, isDns1123Label, stableHash } from '../../../agent/src/core/naming.js';

/** A request was refused: the message names the object, then one line per problem. */
export class RequestError extends Error {
  constructor(
    readonly object: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${object}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join(`\n${object}: `)}`);
    this.name = 'RequestError';
  }
}

export interface RequestMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The parts of a resource request a pipeline uses: identity and spec, without status or server fields. */
export interface ResourceRequest {
  apiVersion: string;
  kind: string;
  metadata: RequestMetadata;
  spec: Record<string, unknown>;
}

export interface ExpectedApi {
  /** e.g. `aws.marketplace.kratix.io` */
  group: string;
  /** e.g. `RDS` */
  kind: string;
}

/** Annotations that are bookkeeping of clients, never part of what a user asked for. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/**
 * Reads one field after another from a request's spec, applying defaults and collecting
 * every problem; `done()` throws one RequestError listing them all.
 */
export class SpecReader {
  readonly issues: ConfigIssue[] = [];

  constructor(
    readonly object: string,
    private readonly spec: Record<string, unknown>,
  ) {}

  /** A string field (`path` relative to spec, dotted), optional with a default, checked against `allowed`/`pattern`. */
  string(path: string, opts: { default?: string; allowed?: readonly string[]; pattern?: RegExp; patternText?: string; maxLength?: number } = {}): string | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) {
      if (opts.default === undefined) this.issue(path, 'is required');
      return opts.default;
    }
    if (typeof value !== 'string' || value === '') {
      this.issue(path, `must be a non-empty string, found ${typeof value === 'string' ? 'an empty string' : describeType(value)}`);
      return undefined;
    }
    if (opts.allowed && !opts.allowed.includes(value)) {
      this.issue(path, `${JSON.stringify(shorten(value))} is not one of ${opts.allowed.join(', ')}`);
      return undefined;
    }
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      this.issue(path, `is ${value.length} characters, over the limit of ${opts.maxLength}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.issue(path, `${JSON.stringify(shorten(value))} ${opts.patternText ?? `does not match ${opts.pattern.source}`}`);
      return undefined;
    }
    return value;
  }

  /** An optional string field without default: undefined when absent. */
  optionalString(path: string, opts: { pattern?: RegExp; patternText?: string; maxLength?: number } = {}): string | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return undefined;
    return this.string(path, opts);
  }

  /** An integer field with a default and bounds. */
  integer(path: string, opts: { default: number; min: number; max: number }): number | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return opts.default;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < opts.min || value > opts.max) {
      this.issue(path, `must be an integer from ${opts.min} to ${opts.max}, found ${typeof value === 'number' ? String(value) : describeType(value)}`);
      return undefined;
    }
    return value;
  }

  /** A boolean field with a default. */
  boolean(path: string, opts: { default: boolean }): boolean | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return opts.default;
    if (typeof value !== 'boolean') {
      this.issue(path, `must be true or false, found ${describeType(value)}`);
      return undefined;
    }
    return value;
  }

  /** A mapping field; undefined (and no issue) when absent. Unknown keys are refused. */
  mapping(path: string, knownKeys: readonly string[]): Record<string, unknown> | undefined {
    const value = this.get(path);
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) {
      this.issue(path, `must be a mapping, found ${describeType(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!knownKeys.includes(key)) this.issue(`${path}.${key}`, `unknown field (known: ${knownKeys.join(', ')})`);
    }
    return value;
  }

  issue(path: string, message: string): void {
    this.issues.push({ path: path === '' ? 'spec' : `spec.${path}`, message });
  }

  /** Throws the collected problems, if any. */
  done(): void {
    if (this.issues.length > 0) throw new RequestError(this.object, this.issues);
  }

  private get(path: string): unknown {
    let current: unknown = this.spec;
    for (const part of path.split('.')) {
      if (!isPlainObject(current)) return undefined;
      current = current[part];
    }
    return current;
  }
}

/**
 * Checks the identity of a request (apiVersion of the expected group, kind, metadata.name,
 * metadata.namespace, spec a mapping) and keeps only what a user asked for: apiVersion, kind,
 * name, namespace, labels, annotations (without kubectl's last-applied copy) and spec. Status,
 * uid, resourceVersion, managedFields and the like change on every reconcile and are dropped,
 * so the objects generated from a request change only when the request does.
 */
export function parseRequest(raw: Record<string, unknown>, expected: ExpectedApi): { request: ResourceRequest; spec: SpecReader } {
  const metadata = isPlainObject(raw.metadata) ? raw.metadata : undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : undefined;
  const object = `${expected.kind} ${namespace ?? '<no namespace>'}/${name ?? '<no name>'}`;
  const issues: ConfigIssue[] = [];

  const apiVersion = raw.apiVersion;
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${expected.group}/`)) {
    issues.push({ path: 'apiVersion', message: `must be ${expected.group}/<version>, found ${typeof apiVersion === 'string' ? JSON.stringify(shorten(apiVersion)) : describeType(apiVersion)}` });
  }
  if (raw.kind !== expected.kind) {
    issues.push({ path: 'kind', message: `must be ${expected.kind}, found ${typeof raw.kind === 'string' ? JSON.stringify(shorten(raw.kind)) : describeType(raw.kind)}` });
  }
  if (!metadata) issues.push({ path: 'metadata', message: `must be a mapping with name and namespace, found ${describeType(raw.metadata)}` });
  else {
    if (name === undefined) issues.push({ path: 'metadata.name', message: `is required (a string), found ${describeType(metadata.name)}` });
    else {
      const problem = dns1123SubdomainProblem(name);
      if (problem) issues.push({ path: 'metadata.name', message: problem });
    }
    if (namespace === undefined) issues.push({ path: 'metadata.namespace', message: `is required (a string), found ${describeType(metadata.namespace)}` });
    else {
      const problem = dns1123LabelProblem(namespace);
      if (problem) issues.push({ path: 'metadata.namespace', message: problem });
    }
  }
  const rawSpec = raw.spec ?? {};
  if (!isPlainObject(rawSpec)) issues.push({ path: 'spec', message: `must be a mapping, found ${describeType(rawSpec)}` });
  if (issues.length > 0) throw new RequestError(object, issues);

  const labels = stringMap(metadata?.labels);
  const annotations = stringMap(metadata?.annotations, DROPPED_ANNOTATIONS);
  const spec = structuredClone(rawSpec as Record<string, unknown>);
  const request: ResourceRequest = {
    apiVersion: apiVersion as string,
    kind: expected.kind,
    metadata: { name: name!, namespace: namespace!, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec,
  };
  return { request, spec: new SpecReader(object, spec) };
}

/** The request as `<Kind> <namespace>/<name>`, for messages. */
export function describeRequest(request: ResourceRequest): string {
  return `${request.kind} ${request.metadata.namespace}/${request.metadata.name}`;
}

/**
 * A name for the objects generated for a request that must be DNS labels (Services, VMs) and fit
 * label values: the request's name when it already is one, else a cut of it (dots become hyphens)
 * ending in 8 hex characters of sha256 over the full name, stable and unique.
 */
export function workloadName(request: ResourceRequest): string {
  const name = request.metadata.name;
  if (isDns1123Label(name)) return name;
  const hash = stableHash([name]);
  const head = name.replace(/[^a-z0-9-]+/g, '-').slice(0, 63 - hash.length - 1).replace(/-+$/, '');
  return head.length > 0 ? `${head}-${hash}` : `x-${hash}`;
}

function stringMap(value: unknown, drop: readonly string[] = []): Record<string, string> | undefined {
  if (!isPlainObject(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string' && !drop.includes(e[0]));
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

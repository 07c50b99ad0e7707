/**
 * Validation of objects against a CRD's openAPIV3Schema, the way the Kubernetes API server
 * does it: defaults are applied, types/required/enum/bounds are checked, and fields the
 * schema does not know are pruned (reported as warnings, like kubectl's "unknown field").
 * Pure: takes the schema as data (see crds.ts for loading it from agent/manifests/crds).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { issue, joinPath, type Issue } from './issues.js';

/** The subset of a structural schema vigil interprets. */
export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  items?: StructuralSchema;
  additionalProperties?: boolean | StructuralSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [key: string]: unknown;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Converts an openAPIV3Schema into a JSON Schema Ajv understands (drops x-kubernetes-*, maps nullable). */
export function toJsonSchema(schema: StructuralSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'nullable' || key === 'description' || key === 'example') continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, StructuralSchema>).map(([k, v]) => [k, toJsonSchema(v)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = toJsonSchema(value as StructuralSchema);
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable && typeof schema.type === 'string') out.type = [schema.type, 'null'];
  return out;
}

/**
 * Removes (in place) every field the schema does not declare, unless a level preserves
 * unknown fields, and returns one warning per removed field.
 */
export function pruneUnknownFields(value: unknown, schema: StructuralSchema, path = ''): Issue[] {
  const warnings: Issue[] = [];
  walk(value, schema, path);
  return warnings;

  function walk(v: unknown, s: StructuralSchema, p: string): void {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      if (s.items) v.forEach((item, i) => { walk(item, s.items!, joinPath(p, i)); });
      return;
    }
    const obj = v as Record<string, unknown>;
    const props = s.properties;
    const additional = s.additionalProperties;
    for (const key of Object.keys(obj)) {
      const childSchema = props && Object.hasOwn(props, key) ? props[key] : undefined;
      if (p === '' && key === 'metadata') {
        // The API server validates the root ObjectMeta itself; the CRD only declares `type: object`.
      } else if (childSchema) {
        walk(obj[key], childSchema, joinPath(p, key));
      } else if (typeof additional === 'object') {
        walk(obj[key], additional, joinPath(p, key));
      } else if (s['x-kubernetes-preserve-unknown-fields'] !== true && additional !== true) {
        Reflect.deleteProperty(obj, key);
        warnings.push(issue('warning', joinPath(p, key), 'unknown field, ignored'));
      }
    }
  }
}

/** Validates and defaults objects against one structural schema. */
export class SchemaValidator {
  private readonly validateFn: ValidateFunction;

  constructor(private readonly schema: StructuralSchema) {
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      useDefaults: true,
      strict: false,
      formats: {
        int64: { type: 'number', validate: (n: number) => Number.isSafeInteger(n) },
        int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
        'date-time': RFC3339,
      },
    });
    this.validateFn = ajv.compile(toJsonSchema(schema));
  }

  /**
   * Validates `value` in place: applies schema defaults, prunes unknown fields (warnings),
   * and returns type/required/enum problems as errors with field paths.
   */
  validate(value: unknown): Issue[] {
    const issues = pruneUnknownFields(value, this.schema);
    if (!this.validateFn(value)) {
      for (const e of this.validateFn.errors ?? []) issues.push(toIssue(e));
    }
    return dedupe(issues);
  }
}

function toIssue(e: ErrorObject): Issue {
  const base = pointerToPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return issue('error', joinPath(base, (e.params as { missingProperty: string }).missingProperty), 'required field is missing');
    case 'type':
      return issue('error', base, `must be ${article((e.params as { type: string | string[] }).type)}, got ${describeValue(e.data)}`);
    case 'enum':
      return issue('error', base, `${JSON.stringify(e.data)} is not one of: ${((e.params as { allowedValues: unknown[] }).allowedValues).map(String).join(', ')}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return issue('error', base, `${JSON.stringify(e.data)} ${e.message ?? 'is out of range'}`);
    case 'format':
      return issue('error', base, `${JSON.stringify(e.data)} is not a valid ${(e.params as { format: string }).format}`);
    default:
      return issue('error', base, e.message ?? 'is invalid');
  }
}

/** `/spec/workflow/spec/containers/0/image` -> `spec.workflow.spec.containers[0].image` */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((acc, seg) => (/^\d+$/.test(seg) ? joinPath(acc, Number(seg)) : joinPath(acc, seg)), '');
}

function article(type: string | string[]): string {
  const t = Array.isArray(type) ? type.join(' or ') : type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v.toString()}`;
  return typeof v;
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.severity}|${i.path}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

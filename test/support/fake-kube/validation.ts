/**
 * Object validation the API server performs before storing: object names, label keys and
 * values, annotation sizes, a few required fields of built-in kinds, CronJob's 52-character name
 * limit, and the CRD's openAPIV3Schema for custom resources (pruning unknown fields, applying
 * defaults). Problems become `details.causes[]` of a 422 Invalid Status.
 */
import { SchemaValidator } from '../../../agent/src/core/schema.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../../../agent/src/core/naming.js';
import type { ResourceDef } from './resources.js';

export interface Cause {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueTooLong' | 'FieldValueNotSupported';
  message: string;
  field: string;
}

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `prefix part ${p}`;
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  return undefined;
}

function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  }
  return undefined;
}

function invalid(field: string, value: unknown, detail: string): Cause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

function required(field: string): Cause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

function get(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Required fields of the built-in kinds tests use (a subset of the real validation). */
const REQUIRED: Record<string, string[]> = {
  Pod: ['spec.containers'],
  Job: ['spec.template'],
  CronJob: ['spec.schedule', 'spec.jobTemplate'],
  RoleBinding: ['roleRef'],
  ClusterRoleBinding: ['roleRef'],
  CustomResourceDefinition: ['spec.group', 'spec.names.plural', 'spec.names.kind', 'spec.scope', 'spec.versions'],
};

const schemaValidators = new WeakMap<ResourceDef, SchemaValidator>();

/** Validates (and, for custom resources, prunes and defaults in place) `obj`; returns the causes of rejection. */
export function validateObject(def: ResourceDef, obj: Obj): Cause[] {
  const causes: Cause[] = [];
  const meta = obj.metadata;
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else {
    const problem = def.labelName ? dns1123LabelProblem(name) : dns1123SubdomainProblem(name);
    if (problem) causes.push(invalid('metadata.name', name, problem));
    const max = def.maxNameLength ?? 253;
    if (name.length > max) causes.push(invalid('metadata.name', name, `must be no more than ${max} characters`));
  }
  for (const [field, value] of [['metadata.labels', meta.labels], ['metadata.annotations', meta.annotations]] as const) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      causes.push(invalid(field, value, 'must be a map of strings'));
      continue;
    }
    let size = 0;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const kp = labelKeyProblem(k);
      if (kp) causes.push(invalid(field, k, kp));
      if (field === 'metadata.labels') {
        const vp = labelValueProblem(v);
        if (vp) causes.push(invalid(field, v, vp));
      } else if (typeof v !== 'string') causes.push(invalid(`${field}.${k}`, v, 'must be a string'));
      else size += k.length + v.length;
    }
    if (size > 256 * 1024) causes.push({ reason: 'FieldValueTooLong', field, message: 'Too long: must have at most 262144 bytes' });
  }
  for (const path of REQUIRED[def.custom ? '' : def.kind] ?? []) {
    const v = get(obj, path);
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) causes.push(required(path));
  }
  if (def.schema) {
    let validator = schemaValidators.get(def);
    if (!validator) {
      validator = new SchemaValidator(def.schema);
      schemaValidators.set(def, validator);
    }
    for (const i of validator.validate(obj)) {
      if (i.severity !== 'error') continue;
      const missing = i.message === 'required field is missing';
      causes.push({ reason: missing ? 'FieldValueRequired' : 'FieldValueInvalid', field: i.path, message: missing ? 'Required value' : `Invalid value: ${i.message}` });
    }
  }
  return causes;
}

/**
 * Semantic checks of `spec.workflow` (a Kratix Pipeline). The CRD keeps the workflow
 * schemaless, exactly as the SKE CRD does, so that vigil accepts what SKE accepts; these
 * checks catch what a Pod spec would reject anyway (a container without an image, say)
 * and name the field. Pure.
 */
import { issue, joinPath, type Issue } from './issues.js';
import { describeValue } from './schema.js';
import { dns1123LabelProblem } from './naming.js';
import { API_VERSION } from './model.js';

const BASE = 'spec.workflow';

export function validatePipeline(workflow: unknown): Issue[] {
  const issues: Issue[] = [];
  if (workflow === undefined || workflow === null) {
    issues.push(issue('warning', BASE, 'no workflow: every run will be recorded as unknown (StartFailed)'));
    return issues;
  }
  if (!isMapping(workflow)) return [issue('error', BASE, `must be a mapping (a Kratix Pipeline), got ${describeValue(workflow)}`)];
  if (workflow.kind !== undefined && workflow.kind !== 'Pipeline') {
    issues.push(issue('warning', joinPath(BASE, 'kind'), `expected "Pipeline", got ${JSON.stringify(workflow.kind)}`));
  }
  if (workflow.apiVersion !== undefined && workflow.apiVersion !== API_VERSION) {
    issues.push(issue('warning', joinPath(BASE, 'apiVersion'), `expected "${API_VERSION}", got ${JSON.stringify(workflow.apiVersion)}`));
  }
  const metadata = workflow.metadata;
  if (metadata !== undefined && !isMapping(metadata)) {
    issues.push(issue('error', joinPath(BASE, 'metadata'), `must be a mapping, got ${describeValue(metadata)}`));
  } else if (metadata && metadata.name !== undefined && typeof metadata.name !== 'string') {
    issues.push(issue('error', joinPath(BASE, 'metadata.name'), `must be a string, got ${describeValue(metadata.name)}`));
  }
  const spec = workflow.spec;
  const specPath = joinPath(BASE, 'spec');
  if (spec === undefined) {
    issues.push(issue('warning', joinPath(specPath, 'containers'), 'no containers: every run will be recorded as unknown (StartFailed)'));
    return issues;
  }
  if (!isMapping(spec)) return [...issues, issue('error', specPath, `must be a mapping, got ${describeValue(spec)}`)];
  issues.push(...validateContainers(spec.containers, joinPath(specPath, 'containers')));
  issues.push(...validateRbac(spec.rbac, joinPath(specPath, 'rbac')));
  if (spec.volumes !== undefined && !Array.isArray(spec.volumes)) {
    issues.push(issue('error', joinPath(specPath, 'volumes'), `must be a list, got ${describeValue(spec.volumes)}`));
  }
  return issues;
}

function validateContainers(containers: unknown, path: string): Issue[] {
  if (containers === undefined || (Array.isArray(containers) && containers.length === 0)) {
    return [issue('warning', path, 'no containers: every run will be recorded as unknown (StartFailed)')];
  }
  if (!Array.isArray(containers)) return [issue('error', path, `must be a list, got ${describeValue(containers)}`)];
  const issues: Issue[] = [];
  const names = new Set<string>();
  containers.forEach((c: unknown, i) => {
    const p = joinPath(path, i);
    if (!isMapping(c)) {
      issues.push(issue('error', p, `must be a mapping, got ${describeValue(c)}`));
      return;
    }
    if (typeof c.name !== 'string') {
      issues.push(issue('error', joinPath(p, 'name'), c.name === undefined ? 'required field is missing' : `must be a string, got ${describeValue(c.name)}`));
    } else {
      const problem = dns1123LabelProblem(c.name);
      if (problem) issues.push(issue('error', joinPath(p, 'name'), problem));
      if (names.has(c.name)) issues.push(issue('error', joinPath(p, 'name'), `duplicate container name "${c.name}"`));
      names.add(c.name);
    }
    if (typeof c.image !== 'string' || c.image.trim() === '') {
      issues.push(issue('error', joinPath(p, 'image'), c.image === undefined ? 'required field is missing' : `must be a non-empty string, got ${describeValue(c.image)}`));
    }
    for (const key of ['command', 'args'] as const) {
      const v = c[key];
      if (v === undefined) continue;
      if (!Array.isArray(v)) issues.push(issue('error', joinPath(p, key), `must be a list of strings, got ${describeValue(v)}`));
      else v.forEach((item: unknown, j) => {
        if (typeof item !== 'string') issues.push(issue('error', joinPath(joinPath(p, key), j), `must be a string, got ${describeValue(item)}`));
      });
    }
    issues.push(...validateEnv(c.env, joinPath(p, 'env')));
    for (const key of ['securityContext', 'resources'] as const) {
      if (c[key] !== undefined && !isMapping(c[key])) issues.push(issue('error', joinPath(p, key), `must be a mapping, got ${describeValue(c[key])}`));
    }
    if (c.workingDir !== undefined && typeof c.workingDir !== 'string') {
      issues.push(issue('error', joinPath(p, 'workingDir'), `must be a string, got ${describeValue(c.workingDir)}`));
    }
  });
  return issues;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function validateEnv(env: unknown, path: string): Issue[] {
  if (env === undefined) return [];
  if (!Array.isArray(env)) return [issue('error', path, `must be a list, got ${describeValue(env)}`)];
  const issues: Issue[] = [];
  env.forEach((e: unknown, i) => {
    const p = joinPath(path, i);
    if (!isMapping(e)) {
      issues.push(issue('error', p, `must be a mapping, got ${describeValue(e)}`));
      return;
    }
    if (typeof e.name !== 'string' || !ENV_NAME.test(e.name)) {
      issues.push(issue('error', joinPath(p, 'name'), e.name === undefined ? 'required field is missing' : `${JSON.stringify(e.name)} is not a valid environment variable name`));
    }
    if (e.value !== undefined && typeof e.value !== 'string') {
      issues.push(issue('error', joinPath(p, 'value'), `must be a string, got ${describeValue(e.value)} (quote it)`));
    }
    if (e.valueFrom !== undefined) {
      if (!isMapping(e.valueFrom)) issues.push(issue('error', joinPath(p, 'valueFrom'), `must be a mapping, got ${describeValue(e.valueFrom)}`));
      else if (e.value !== undefined) issues.push(issue('error', p, 'value and valueFrom are mutually exclusive'));
    }
  });
  return issues;
}

function validateRbac(rbac: unknown, path: string): Issue[] {
  if (rbac === undefined) return [];
  if (!isMapping(rbac)) return [issue('error', path, `must be a mapping, got ${describeValue(rbac)}`)];
  const permissions = rbac.permissions;
  if (permissions === undefined) return [];
  const pp = joinPath(path, 'permissions');
  if (!Array.isArray(permissions)) return [issue('error', pp, `must be a list, got ${describeValue(permissions)}`)];
  const issues: Issue[] = [];
  permissions.forEach((rule: unknown, i) => {
    const p = joinPath(pp, i);
    if (!isMapping(rule)) {
      issues.push(issue('error', p, `must be a mapping, got ${describeValue(rule)}`));
      return;
    }
    if (!Array.isArray(rule.verbs) || rule.verbs.length === 0) issues.push(issue('error', joinPath(p, 'verbs'), 'must be a non-empty list'));
    for (const key of ['apiGroups', 'resources', 'resourceNames', 'verbs'] as const) {
      const v = rule[key];
      if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
        issues.push(issue('error', joinPath(p, key), 'must be a list of strings'));
      }
    }
  });
  return issues;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

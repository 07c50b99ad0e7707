/**
 * The identity of a check pod: a ServiceAccount and the RBAC objects built from
 * `spec.workflow.spec.rbac` (the Kratix pipeline shape: PolicyRules with an optional
 * `resourceNamespace`). Rules without `resourceNamespace` (or with the definition's own
 * namespace) go into one Role in the definition's namespace, together with the rule the
 * result transport needs; `resourceNamespace: "*"` rules go into a ClusterRole bound by a
 * ClusterRoleBinding; rules for another namespace go into a Role there. Pure.
 */
import type { V1ClusterRole, V1ClusterRoleBinding, V1PolicyRule, V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import type { Plain } from './plain.js';
import type { HealthDefinition, PolicyRuleWithNamespace } from '../../core/model.js';
import { issue, joinPath, ValidationError, type Issue } from '../../core/issues.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../../core/naming.js';
import { HEALTH_STATE } from '../transport/health-state.js';
import { checkServiceAccountName, clusterRbacName, COMPONENTS, definitionLabels, ANNOTATIONS } from './names.js';

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The rule every check ServiceAccount gets: creating its HealthState (the result transport, ADR 0013). */
export const TRANSPORT_RULE: Plain<V1PolicyRule> = { apiGroups: [HEALTH_STATE.group], resources: [HEALTH_STATE.plural], verbs: ['create'] };

export interface RbacObjects {
  /** The ServiceAccount the pod runs as (undefined when the pipeline names an existing one). */
  serviceAccount?: Plain<V1ServiceAccount>;
  serviceAccountName: string;
  /** Role + RoleBinding in the definition's namespace. */
  role: Plain<V1Role>;
  roleBinding: Plain<V1RoleBinding>;
  /** For `resourceNamespace: "*"`. */
  clusterRole?: Plain<V1ClusterRole>;
  clusterRoleBinding?: Plain<V1ClusterRoleBinding>;
  /** Roles and RoleBindings in other namespaces (no owner reference is possible across namespaces). */
  otherNamespaces: (Plain<V1Role> | Plain<V1RoleBinding>)[];
  /** Whether the user's containers need API credentials (they asked for permissions or a ServiceAccount). */
  userNeedsToken: boolean;
}

const RBAC_PATH = 'spec.workflow.spec.rbac';

/** Builds the RBAC objects; throws ValidationError naming the field for a rule the API server would reject. */
export function rbacObjects(def: HealthDefinition): RbacObjects {
  const key = `${def.metadata.namespace}/${def.metadata.name}`;
  const namespace = def.metadata.namespace;
  const rbac = def.spec.workflow?.spec?.rbac;
  const issues: Issue[] = [];
  const custom = rbac?.serviceAccount;
  if (custom !== undefined) {
    const problem = typeof custom === 'string' ? dns1123SubdomainProblem(custom) : 'must be a string';
    if (problem) issues.push(issue('error', joinPath(RBAC_PATH, 'serviceAccount'), problem));
  }
  const permissions = rbac?.permissions ?? [];
  const local: Plain<V1PolicyRule>[] = [];
  const cluster: Plain<V1PolicyRule>[] = [];
  const others = new Map<string, Plain<V1PolicyRule>[]>();
  permissions.forEach((p, i) => {
    const path = joinPath(joinPath(RBAC_PATH, 'permissions'), i);
    const rule = policyRule(p, path, issues);
    if (!rule) return;
    const target = p.resourceNamespace;
    if (target === '*') {
      cluster.push(rule);
      return;
    }
    if (rule.nonResourceURLs) {
      issues.push(issue('error', joinPath(path, 'nonResourceURLs'), 'only allowed with resourceNamespace: "*" (a ClusterRole)'));
      return;
    }
    if (target === undefined || target === '' || target === namespace) {
      local.push(rule);
      return;
    }
    const problem = dns1123LabelProblem(target);
    if (problem) {
      issues.push(issue('error', joinPath(path, 'resourceNamespace'), `${problem} (a namespace, or "*" for cluster-wide)`));
      return;
    }
    const list = others.get(target) ?? [];
    list.push(rule);
    others.set(target, list);
  });
  if (issues.length > 0) throw new ValidationError(key, issues);

  const serviceAccountName = typeof custom === 'string' ? custom : checkServiceAccountName(def);
  const name = checkServiceAccountName(def);
  const labels = definitionLabels(def, COMPONENTS.rbac);
  const annotations = { [ANNOTATIONS.definition]: key };
  const subject = { kind: 'ServiceAccount', name: serviceAccountName, namespace };
  const result: RbacObjects = {
    serviceAccountName,
    role: { apiVersion: RBAC_API, kind: 'Role', metadata: { name, namespace, labels, annotations }, rules: [TRANSPORT_RULE, ...local] },
    roleBinding: {
      apiVersion: RBAC_API,
      kind: 'RoleBinding',
      metadata: { name, namespace, labels, annotations },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
      subjects: [subject],
    },
    otherNamespaces: [],
    userNeedsToken: custom !== undefined || permissions.length > 0,
  };
  if (custom === undefined) {
    result.serviceAccount = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace, labels, annotations },
      // The pod mounts a token only into the containers that need one (see pod.ts).
      automountServiceAccountToken: false,
    };
  }
  const shared = clusterRbacName(def);
  if (cluster.length > 0) {
    result.clusterRole = { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: { name: shared, labels, annotations }, rules: cluster };
    result.clusterRoleBinding = {
      apiVersion: RBAC_API,
      kind: 'ClusterRoleBinding',
      metadata: { name: shared, labels, annotations },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: shared },
      subjects: [subject],
    };
  }
  for (const [other, rules] of [...others.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    result.otherNamespaces.push(
      { apiVersion: RBAC_API, kind: 'Role', metadata: { name: shared, namespace: other, labels, annotations }, rules },
      {
        apiVersion: RBAC_API,
        kind: 'RoleBinding',
        metadata: { name: shared, namespace: other, labels, annotations },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: shared },
        subjects: [subject],
      },
    );
  }
  return result;
}

function stringList(value: unknown, path: string, issues: Issue[], required: boolean): string[] | undefined {
  if (value === undefined) {
    if (required) issues.push(issue('error', path, 'required: a list of strings'));
    return undefined;
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    issues.push(issue('error', path, 'must be a list of strings'));
    return undefined;
  }
  if (required && value.length === 0) {
    issues.push(issue('error', path, 'must not be empty'));
    return undefined;
  }
  return value as string[];
}

/** A Kubernetes PolicyRule from a Kratix permission (without resourceNamespace), or undefined after recording issues. */
function policyRule(p: PolicyRuleWithNamespace, path: string, issues: Issue[]): Plain<V1PolicyRule> | undefined {
  const before = issues.length;
  const verbs = stringList(p.verbs, joinPath(path, 'verbs'), issues, true);
  const apiGroups = stringList(p.apiGroups, joinPath(path, 'apiGroups'), issues, false);
  const resources = stringList(p.resources, joinPath(path, 'resources'), issues, false);
  const resourceNames = stringList(p.resourceNames, joinPath(path, 'resourceNames'), issues, false);
  const nonResourceURLs = stringList(p.nonResourceURLs, joinPath(path, 'nonResourceURLs'), issues, false);
  if (p.resourceNamespace !== undefined && typeof p.resourceNamespace !== 'string') {
    issues.push(issue('error', joinPath(path, 'resourceNamespace'), 'must be a string'));
  }
  const hasResources = resources !== undefined && resources.length > 0;
  const hasUrls = nonResourceURLs !== undefined && nonResourceURLs.length > 0;
  if (hasResources && hasUrls) issues.push(issue('error', path, 'a rule has either resources or nonResourceURLs, not both'));
  if (!hasResources && !hasUrls && issues.length === before) issues.push(issue('error', joinPath(path, 'resources'), 'required: the resources the rule grants access to'));
  // The API server rejects a resource rule without apiGroups ("" is the core group).
  if (hasResources && apiGroups === undefined && issues.length === before) {
    issues.push(issue('error', joinPath(path, 'apiGroups'), 'required with resources (use [""] for the core group)'));
  }
  if (issues.length > before || !verbs) return undefined;
  const rule: Plain<V1PolicyRule> = { verbs };
  if (apiGroups) rule.apiGroups = apiGroups;
  if (hasResources) rule.resources = resources;
  if (resourceNames && resourceNames.length > 0) rule.resourceNames = resourceNames;
  if (hasUrls) rule.nonResourceURLs = nonResourceURLs;
  return rule;
}

/**
 * The resource catalogue of the fake API server: which group/version/kind it serves, under
 * which plural, namespaced or not, with which subresources, and (for custom resources) which
 * openAPIV3Schema validates them. Built-in Kubernetes kinds are declared by hand; the
 * platform.kratix.io kinds are read from the real CRD files, so what the fake validates is what
 * a cluster with those CRDs installed would validate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StructuralSchema } from '../../../agent/src/core/schema.js';
import { parseYamlDocuments } from '../../../agent/src/core/yaml.js';
import { crdDirectory, packageRoot } from '../../../agent/src/paths.js';

export interface ResourceDef {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular?: string;
  namespaced: boolean;
  shortNames?: string[];
  /** The `/status` subresource exists: the main endpoint ignores status changes, `/status` changes only status. */
  statusSubresource?: boolean;
  /** metadata.generation is maintained (bumped on spec changes). Default true. */
  generation?: boolean;
  /** A custom resource (served from a CRD): list items keep apiVersion/kind, schema validation applies. */
  custom?: boolean;
  /** openAPIV3Schema to validate (and prune) objects with, as the API server does for CRDs. */
  schema?: StructuralSchema;
  /** Field selectors supported besides metadata.name and metadata.namespace (dotted paths). */
  fieldSelectors?: string[];
  /** Maximum length of metadata.name (CronJob: 52). Default 253. */
  maxNameLength?: number;
  /** Names must be DNS-1123 labels (63 chars, no dots), e.g. namespaces. */
  labelName?: boolean;
}

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** `plural.group` (`configmaps` for the core group), the usual resource id. */
export function resourceId(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

function core(kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceDef> = {}): ResourceDef {
  return { group: '', version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced, ...extra };
}

function gv(group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceDef> = {}): ResourceDef {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, ...extra };
}

/** Built-in Kubernetes resources served by default. */
export function builtinResources(): ResourceDef[] {
  return [
    core('Namespace', 'namespaces', false, { shortNames: ['ns'], statusSubresource: true, generation: false, labelName: true }),
    core('Pod', 'pods', true, { shortNames: ['po'], statusSubresource: true, fieldSelectors: ['spec.nodeName', 'status.phase', 'spec.serviceAccountName'] }),
    core('ConfigMap', 'configmaps', true, { shortNames: ['cm'], generation: false }),
    core('Secret', 'secrets', true, { generation: false, fieldSelectors: ['type'] }),
    core('ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], generation: false }),
    core('Event', 'events', true, {
      shortNames: ['ev'],
      generation: false,
      fieldSelectors: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type'],
    }),
    gv('batch', 'v1', 'Job', 'jobs', true, { statusSubresource: true, fieldSelectors: ['status.successful'] }),
    gv('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], statusSubresource: true, maxNameLength: 52 }),
    gv('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, { generation: false }),
    gv('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, { generation: false }),
    gv('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, { generation: false }),
    gv('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, { generation: false }),
    gv('coordination.k8s.io', 'v1', 'Lease', 'leases', true, { generation: false }),
    gv('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, { shortNames: ['crd', 'crds'], statusSubresource: true }),
  ];
}

interface CrdObject {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular?: string; shortNames?: string[] };
    versions: { name: string; served?: boolean; storage?: boolean; subresources?: { status?: unknown }; schema?: { openAPIV3Schema?: StructuralSchema } }[];
  };
}

/** ResourceDefs (one per served version) of a CustomResourceDefinition object. */
export function resourceDefsFromCrd(crd: unknown): ResourceDef[] {
  const c = crd as CrdObject;
  return c.spec.versions
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: c.spec.group,
      version: v.name,
      kind: c.spec.names.kind,
      plural: c.spec.names.plural,
      singular: c.spec.names.singular ?? c.spec.names.kind.toLowerCase(),
      namespaced: c.spec.scope !== 'Cluster',
      ...(c.spec.names.shortNames ? { shortNames: c.spec.names.shortNames } : {}),
      statusSubresource: v.subresources?.status !== undefined,
      custom: true,
      ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
    }));
}

/** Every CRD document of a YAML file. */
export function crdsFromFile(path: string): unknown[] {
  return parseYamlDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.value)
    .filter((v) => (v as { kind?: string } | null)?.kind === 'CustomResourceDefinition');
}

function kindFromFile(path: string, kind: string): ResourceDef[] {
  return crdsFromFile(path).flatMap(resourceDefsFromCrd).filter((d) => d.kind === kind);
}

/**
 * platform.kratix.io/v1alpha1 HealthDefinition and HealthRecord from vigil's CRDs
 * (agent/manifests/crds) and SKE's HealthState from the reference CRDs.
 */
export function kratixResources(): ResourceDef[] {
  return [
    ...kindFromFile(join(crdDirectory(), 'platform.kratix.io_healthdefinitions.yaml'), 'HealthDefinition'),
    ...kindFromFile(join(crdDirectory(), 'platform.kratix.io_healthrecords.yaml'), 'HealthRecord'),
    ...kindFromFile(join(packageRoot(), 'test', 'fixtures', 'reference-crds', 'ske-health-agent-crds.yaml'), 'HealthState'),
  ];
}

/** kubevirt.io/v1 VirtualMachineInstance and VirtualMachine (no schema: any content accepted). */
export function kubevirtResources(): ResourceDef[] {
  return [
    gv('kubevirt.io', 'v1', 'VirtualMachineInstance', 'virtualmachineinstances', true, { shortNames: ['vmi', 'vmis'], statusSubresource: true, custom: true }),
    gv('kubevirt.io', 'v1', 'VirtualMachine', 'virtualmachines', true, { shortNames: ['vm', 'vms'], statusSubresource: true, custom: true }),
  ];
}

/** Everything served by default; pass `without` resource ids (e.g. `healthrecords.platform.kratix.io`) to leave some out. */
export function defaultResources(options: { without?: string[] } = {}): ResourceDef[] {
  const without = new Set(options.without ?? []);
  return [...builtinResources(), ...kratixResources(), ...kubevirtResources()].filter((d) => !without.has(resourceId(d)));
}

/**
 * agent/manifests: every file parses, is listed in the kustomization, has valid names and
 * labels, and the controller's ClusterRole grants what the controller and the check pods'
 * RBAC need (a Role can only grant what its creator holds, unless it has escalate/bind).
 * The objects the fake API server serves are applied through the real client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { parseYamlDocuments } from '../../../agent/src/core/yaml.js';
import { isDns1123Label, isDns1123Subdomain } from '../../../agent/src/core/naming.js';
import type { HealthDefinition } from '../../../agent/src/core/model.js';
import { desiredObjects, TRANSPORT_RULE } from '../../../agent/src/kubernetes/resources/index.js';
import { REPO } from '../../support/cli.js';
import { parseYamlDocument } from '../../../agent/src/core/yaml.js';
import { resolveConfig } from '../../../agent/src/config/config.js';
import { FakeKubeServer } from '../../support/fake-kube/index.js';

const DIR = join(REPO, 'agent', 'manifests');

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) && e.name !== 'kustomization.yaml' ? [relative(DIR, p)] : [];
  });
}

function load(file: string): Obj[] {
  return parseYamlDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.error) throw new Error(`${file}: ${d.error}`);
    return d.value as Obj;
  });
}

const kustomization = parseYamlDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.value as { resources: string[] };
const all = kustomization.resources.flatMap((f) => load(f).map((o) => ({ file: f, o })));
const find = (kind: string, name?: string): Obj => {
  const hit = all.find(({ o }) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind} ${name ?? ''}`);
  return hit.o;
};

/** Whether `rules` allow `verb` on `group`/`resource`. */
function allows(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

describe('agent/manifests', () => {
  it('the kustomization lists exactly the manifest files', () => {
    expect([...kustomization.resources].sort()).toEqual(yamlFiles(DIR).sort());
  });

  it('every object has apiVersion, kind, a valid name, and a namespace when it is namespaced', () => {
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const { file, o } of all) {
      expect(o.apiVersion, file).toBeTruthy();
      expect(o.kind, file).toBeTruthy();
      expect(isDns1123Subdomain(o.metadata.name), `${file}: ${o.metadata.name}`).toBe(true);
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace, file).toBeUndefined();
      else expect(o.metadata.namespace, `${file}: ${o.kind}`).toBe('vigil-system');
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
        expect(v.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(v), `${file}: label ${k}=${v}`).toBe(true);
      }
    }
    expect(isDns1123Label(find('Namespace').metadata.name)).toBe(true);
  });

  it('ships the three CRDs: HealthDefinition (with status), HealthRecord and HealthState', () => {
    const crds = all.filter(({ o }) => o.kind === 'CustomResourceDefinition').map(({ o }) => o.metadata.name).sort();
    expect(crds).toEqual(['healthdefinitions.platform.kratix.io', 'healthrecords.platform.kratix.io', 'healthstates.platform.kratix.io']);
  });

  it('the Deployment runs 2 non-root replicas with a read-only root, probes, a metrics port and resources', () => {
    const d = find('Deployment') as Obj & { spec: Record<string, any> };
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Record<string, string>)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    expect(pod.serviceAccountName).toBe(find('ServiceAccount').metadata.name);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.ports).toContainEqual({ name: 'http', containerPort: 7723, protocol: 'TCP' });
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    // Every volume mounted exists; the ConfigMap it reads is shipped.
    const volumes = new Set((pod.volumes as { name: string }[]).map((v) => v.name));
    for (const m of c.volumeMounts as { name: string }[]) expect(volumes.has(m.name)).toBe(true);
    expect(find('ConfigMap', pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap).configMap.name)).toBeDefined();
    // The Service selects the Deployment's pods and exposes its port.
    const svc = find('Service') as Obj & { spec: Record<string, any> };
    for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    expect(svc.spec.ports[0].targetPort).toBe('http');
  });

  it('the ClusterRole grants what the check RBAC and the transport need, and nothing on secrets', () => {
    const rules = (find('ClusterRole', 'vigil-controller') as Obj & { rules: Rule[] }).rules;
    // Creating a Role granting TRANSPORT_RULE needs the controller to hold it (or escalate).
    for (const verb of TRANSPORT_RULE.verbs) expect(allows(rules, TRANSPORT_RULE.apiGroups![0]!, TRANSPORT_RULE.resources![0]!, verb)).toBe(true);
    for (const r of ['roles', 'clusterroles']) {
      expect(allows(rules, 'rbac.authorization.k8s.io', r, 'escalate')).toBe(true);
      expect(allows(rules, 'rbac.authorization.k8s.io', r, 'bind')).toBe(true);
    }
    // Every kind desiredObjects produces can be created, updated and deleted.
    const def = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'HealthDefinition',
      metadata: { name: 'x', namespace: 'a', uid: 'u' },
      spec: {
        promiseRef: { name: 'p' },
        schedule: '@hourly',
        workflow: {
          spec: {
            rbac: { permissions: [{ apiGroups: [''], verbs: ['get'], resources: ['pods'], resourceNamespace: '*' }, { apiGroups: [''], verbs: ['get'], resources: ['pods'], resourceNamespace: 'b' }] },
            containers: [{ name: 'c', image: 'i' }],
          },
        },
      },
    } as HealthDefinition;
    const d = desiredObjects(def, { agentImage: 'i', destination: 'd', defaultTimeoutSeconds: 60, transport: {} });
    const plural: Record<string, [string, string]> = {
      ServiceAccount: ['', 'serviceaccounts'],
      ConfigMap: ['', 'configmaps'],
      CronJob: ['batch', 'cronjobs'],
      Role: ['rbac.authorization.k8s.io', 'roles'],
      RoleBinding: ['rbac.authorization.k8s.io', 'rolebindings'],
      ClusterRole: ['rbac.authorization.k8s.io', 'clusterroles'],
      ClusterRoleBinding: ['rbac.authorization.k8s.io', 'clusterrolebindings'],
    };
    for (const o of [...d.namespaced, ...d.clusterScoped, ...d.otherNamespaces]) {
      const [group, resource] = plural[o.kind]!;
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'delete']) expect(allows(rules, group, resource, verb), `${verb} ${resource}`).toBe(true);
    }
    expect(rules.some((r) => r.resources.includes('secrets'))).toBe(false);
    expect(rules.some((r) => r.verbs.includes('*') || r.resources.includes('*'))).toBe(false);
    const lease = (find('Role', 'vigil-leader-election') as Obj & { rules: Rule[] }).rules;
    expect(allows(lease, 'coordination.k8s.io', 'leases', 'update')).toBe(true);
  });
});

describe('agent/manifests: the agent configuration', () => {
  it('is a valid Kubernetes-mode config, with leader election on the Lease the Role allows when several replicas run', () => {
    const cm = find('ConfigMap', 'vigil-config') as Obj & { data: Record<string, string> };
    const { config } = resolveConfig(parseYamlDocument(cm.data['vigil.yaml']!), { source: 'config.yaml', base: '/etc/vigil', env: { VIGIL_AGENT_IMAGE: 'x' } });
    expect(config.definitions.kind).toBe('kubernetes');
    expect(config.runtime.kind).toBe('kubernetes');
    const replicas = (find('Deployment', 'vigil-controller') as Obj & { spec: { replicas: number } }).spec.replicas;
    if (replicas > 1) {
      const le = config.runtime.kubernetes.leaderElection;
      expect(le.enabled).toBe(true);
      const role = find('Role', 'vigil-leader-election') as Obj & { metadata: { namespace: string } };
      expect(le.namespace).toBe(role.metadata.namespace);
    }
  });
});

describe('agent/manifests against the fake API server', () => {
  let fake: FakeKubeServer;
  beforeAll(async () => {
    fake = await FakeKubeServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('accepts every object kind it serves (namespace, CRDs, RBAC, ServiceAccount, ConfigMap)', async () => {
    const api = fake.kubeConfig().makeApiClient(KubernetesObjectApi);
    const served = new Set(['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap']);
    const applied: string[] = [];
    for (const { o } of all) {
      if (!served.has(o.kind)) continue;
      await api.create(o);
      applied.push(o.kind);
    }
    expect(new Set(applied)).toEqual(served);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'));

  it('is multi-stage on Node 20 and runs as a numeric non-root user', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:20[-\w.]*( AS \w+)?$/);
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
  });

  it('copies only paths that exist and starts the compiled CLI (which has the k8s-adapter command)', () => {
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
      const parts = l.split(/\s+/).slice(1, -1);
      for (const p of parts) expect(() => readFileSync(join(REPO, p)), p).not.toThrow(/ENOENT/);
    }
    const entry = lines.find((l) => l.startsWith('ENTRYPOINT '))!;
    expect(entry).toContain('/app/dist/agent/src/cli/main.js');
    expect(readFileSync(join(REPO, 'agent/src/cli/main.ts'), 'utf8')).toContain('registerK8sAdapter(program)');
  });
});

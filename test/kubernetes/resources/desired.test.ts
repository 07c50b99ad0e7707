import { describe, expect, it } from 'vitest';
import type { HealthDefinition } from '../../../agent/src/core/model.js';
import { ValidationError } from '../../../agent/src/core/issues.js';
import { isDns1123Label, isDns1123Subdomain } from '../../../agent/src/core/naming.js';
import {
  ADAPTER_CONTAINER,
  CRONJOB_NAME_MAX,
  LABELS,
  MAX_INPUT_BYTES,
  cronJobName,
  desiredObjects,
  type DesiredObject,
  type DesiredOptions,
} from '../../../agent/src/kubernetes/resources/index.js';

const OPTS: DesiredOptions = { agentImage: 'ghcr.io/vigil-health/vigil:1.0.0', destination: 'worker-1', defaultTimeoutSeconds: 300, transport: {} };

function definition(overrides: Partial<HealthDefinition['spec']> = {}, meta: Partial<HealthDefinition['metadata']> = {}): HealthDefinition {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name: 'redis-example-default', namespace: 'team-a', uid: '6f1c2d3e-0000-4000-8000-000000000001', generation: 4, ...meta },
    spec: {
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'example', namespace: 'default' },
      schedule: '@hourly',
      input: 'apiVersion: marketplace.kratix.io/v1alpha1\nkind: Redis\nmetadata: {name: example, namespace: default}\n',
      workflow: {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'healthcheck', labels: { team: 'a' } },
        spec: {
          rbac: { permissions: [{ apiGroups: ['apps'], verbs: ['get'], resources: ['statefulsets'] }] },
          containers: [
            { name: 'prepare', image: 'busybox:1.36', command: ['sh', '-c', 'echo hi > /kratix/metadata/x'] },
            { name: 'check', image: 'ghcr.io/example/check:v1', env: [{ name: 'TARGET', value: '$(KRATIX_OBJECT_NAME)' }], securityContext: { runAsUser: 0, runAsNonRoot: false } },
          ],
        },
      },
      ...overrides,
    },
  };
}

function byKind(objects: DesiredObject[], kind: string): DesiredObject {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found;
}

describe('cronJobName', () => {
  it('is a readable prefix plus a stable hash, within 52 characters', () => {
    const name = cronJobName(definition());
    expect(name).toMatch(/^redis-example-default-[0-9a-f]{8}$/);
    expect(cronJobName(definition())).toBe(name);
  });

  it('stays a valid label of at most 52 characters for long and dotted names, and differs per definition', () => {
    const long = 'a'.repeat(200) + '.b.c';
    const names = new Set<string>();
    for (const ns of ['team-a', 'team-b']) {
      for (const n of [long, long + 'x', 'Web.Check', '-x-']) {
        const name = cronJobName({ metadata: { name: n, namespace: ns } });
        expect(name.length).toBeLessThanOrEqual(CRONJOB_NAME_MAX);
        expect(isDns1123Label(name)).toBe(true);
        names.add(name);
      }
    }
    expect(names.size).toBe(8);
  });
});

describe('desiredObjects', () => {
  it('builds SA, Role, RoleBinding, ConfigMap and CronJob in the definition namespace, owned by it', () => {
    const d = desiredObjects(definition(), OPTS);
    expect(d.namespaced.map((o) => o.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'CronJob']);
    for (const o of d.namespaced) {
      expect(o.metadata.namespace).toBe('team-a');
      expect(isDns1123Subdomain(o.metadata.name)).toBe(true);
      expect(o.metadata.ownerReferences).toEqual([
        { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthDefinition', name: 'redis-example-default', uid: '6f1c2d3e-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true },
      ]);
      expect(o.metadata.labels?.[LABELS.definitionUid]).toBe('6f1c2d3e-0000-4000-8000-000000000001');
      expect(o.metadata.labels?.[LABELS.managedBy]).toBe('vigil');
    }
    expect(d.clusterScoped).toEqual([]);
    expect(d.otherNamespaces).toEqual([]);
  });

  it('sets the CronJob fields the issue requires', () => {
    const { cronJob } = desiredObjects(definition({ timeZone: 'Europe/Paris', timeoutSeconds: 120, suspend: true }), { ...OPTS, historyLimits: { successful: 5, failed: 2 } });
    const spec = cronJob.spec!;
    expect(cronJob.metadata!.name!.length).toBeLessThanOrEqual(52);
    expect(spec.schedule).toBe('0 * * * *');
    expect(spec.timeZone).toBe('Europe/Paris');
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.startingDeadlineSeconds).toBe(300);
    expect(spec.suspend).toBe(true);
    expect(spec.successfulJobsHistoryLimit).toBe(5);
    expect(spec.failedJobsHistoryLimit).toBe(2);
    const job = spec.jobTemplate.spec!;
    expect(job.backoffLimit).toBe(0);
    expect(job.activeDeadlineSeconds).toBe(120);
    expect(spec.jobTemplate.metadata!.labels![LABELS.definitionHash]).toMatch(/^[0-9a-f]{8}$/);
    expect(job.template.metadata!.labels![LABELS.definitionUid]).toBe('6f1c2d3e-0000-4000-8000-000000000001');
    // The pipeline's own labels pass through to the pod; vigil's win.
    expect(job.template.metadata!.labels!.team).toBe('a');
  });

  it('uses defaults: history 3/1, the agent timeout, no timeZone unless configured, not suspended', () => {
    const { cronJob } = desiredObjects(definition(), OPTS);
    expect(cronJob.spec!.successfulJobsHistoryLimit).toBe(3);
    expect(cronJob.spec!.failedJobsHistoryLimit).toBe(1);
    expect(cronJob.spec!.jobTemplate.spec!.activeDeadlineSeconds).toBe(300);
    expect(cronJob.spec!.timeZone).toBeUndefined();
    expect(cronJob.spec!.suspend).toBe(false);
    expect(desiredObjects(definition(), { ...OPTS, defaultTimeZone: 'UTC' }).cronJob.spec!.timeZone).toBe('UTC');
  });

  it('builds a hardened pod: user containers as init containers in order, then the adapter', () => {
    const pod = desiredObjects(definition(), OPTS).cronJob.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.initContainers!.map((c) => c.name)).toEqual(['prepare', 'check']);
    expect(pod.containers.map((c) => c.name)).toEqual([ADAPTER_CONTAINER]);
    const check = pod.initContainers![1]!;
    // The user's own securityContext is passed through unchanged.
    expect(check.securityContext).toEqual({ runAsUser: 0, runAsNonRoot: false });
    const env = check.env!.map((e) => e.name);
    expect(env.slice(0, 3)).toEqual(['KRATIX_WORKFLOW_ACTION', 'KRATIX_WORKFLOW_TYPE', 'KRATIX_PROMISE_NAME']);
    expect(env).toContain('KRATIX_OBJECT_KIND');
    expect(env.at(-1)).toBe('TARGET');
    expect(check.env!.find((e) => e.name === 'KRATIX_INPUT_DIR')!.value).toBe('/kratix/input');
    expect(check.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'vigil-input', mountPath: '/kratix/input', readOnly: true },
        { name: 'vigil-output', mountPath: '/kratix/output' },
        { name: 'vigil-metadata', mountPath: '/kratix/metadata' },
      ]),
    );
    expect(check.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    const adapter = pod.containers[0]!;
    expect(adapter.image).toBe(OPTS.agentImage);
    expect(adapter.args![0]).toBe('k8s-adapter');
    expect(adapter.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(adapter.volumeMounts).toContainEqual({ name: 'vigil-output', mountPath: '/kratix/output', readOnly: true });
    expect(adapter.volumeMounts!.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')).toBe(true);
    // The user's containers asked for permissions, so they get the token too.
    expect(check.volumeMounts!.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')).toBe(true);
    const input = pod.volumes!.find((v) => v.name === 'vigil-input')!;
    expect(input.configMap!.name).toBe(desiredObjects(definition(), OPTS).namespaced.find((o) => o.kind === 'ConfigMap')!.metadata.name);
  });

  it('gives no API token to user containers that asked for no permissions', () => {
    const def = definition();
    def.spec.workflow!.spec!.rbac = undefined;
    const pod = desiredObjects(def, OPTS).cronJob.spec!.jobTemplate.spec!.template.spec!;
    for (const c of pod.initContainers!) expect(c.volumeMounts!.some((m) => m.name === 'vigil-token')).toBe(false);
    const role = byKind(desiredObjects(def, OPTS).namespaced, 'Role');
    // The transport rule only: creating HealthStates.
    expect(role.rules).toEqual([{ apiGroups: ['platform.kratix.io'], resources: ['healthstates'], verbs: ['create'] }]);
  });

  it('puts spec.input in the ConfigMap as object.yaml (empty when absent)', () => {
    const cm = byKind(desiredObjects(definition(), OPTS).namespaced, 'ConfigMap');
    expect(cm.data).toEqual({ 'object.yaml': definition().spec.input });
    const empty = byKind(desiredObjects(definition({ input: undefined }), OPTS).namespaced, 'ConfigMap');
    expect(empty.data).toEqual({ 'object.yaml': '' });
  });

  it('refuses an input too large for a ConfigMap, naming the field', () => {
    expect(() => desiredObjects(definition({ input: 'x'.repeat(MAX_INPUT_BYTES + 1) }), OPTS)).toThrow(/team-a\/redis-example-default: spec\.input: is \d+ bytes/);
  });

  it('turns resourceNamespace "*" into a labelled ClusterRole and ClusterRoleBinding, and another namespace into a Role there', () => {
    const def = definition();
    def.spec.workflow!.spec!.rbac = {
      permissions: [
        { apiGroups: [''], verbs: ['list'], resources: ['nodes'], resourceNamespace: '*' },
        { apiGroups: [''], verbs: ['get'], resources: ['secrets'], resourceNamespace: 'vault' },
        { apiGroups: ['apps'], verbs: ['get'], resources: ['deployments'], resourceNamespace: 'team-a' },
      ],
    };
    const d = desiredObjects(def, OPTS);
    expect(d.clusterScoped.map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    for (const o of [...d.clusterScoped, ...d.otherNamespaces]) {
      expect(o.metadata.ownerReferences).toBeUndefined();
      expect(o.metadata.labels?.[LABELS.definitionUid]).toBe(def.metadata.uid);
    }
    const binding = d.clusterScoped[1]!;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: cronJobName(def), namespace: 'team-a' }]);
    expect(d.clusterScoped[0]!.metadata.name).toMatch(/^vigil-hc-team-a-redis-example-default-[0-9a-f]{8}$/);
    expect(d.otherNamespaces.map((o) => `${o.kind}:${o.metadata.namespace ?? ''}`)).toEqual(['Role:vault', 'RoleBinding:vault']);
    const role = byKind(d.namespaced, 'Role');
    expect(role.rules).toContainEqual({ apiGroups: ['apps'], verbs: ['get'], resources: ['deployments'] });
  });

  it('uses the pipeline ServiceAccount when one is named, and creates none', () => {
    const def = definition();
    def.spec.workflow!.spec!.rbac = { serviceAccount: 'existing-sa' };
    const d = desiredObjects(def, OPTS);
    expect(d.namespaced.some((o) => o.kind === 'ServiceAccount')).toBe(false);
    expect(d.cronJob.spec!.jobTemplate.spec!.template.spec!.serviceAccountName).toBe('existing-sa');
    expect(byKind(d.namespaced, 'RoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'existing-sa', namespace: 'team-a' }]);
  });

  it('reports every bad field at once, naming the object and the field', () => {
    const def = definition();
    def.spec.workflow!.spec!.rbac = {
      permissions: [
        { verbs: ['get'], resources: ['pods'] },
        { apiGroups: [''], verbs: [], resources: ['pods'] },
        { apiGroups: [''], verbs: ['get'], nonResourceURLs: ['/healthz'] },
        { apiGroups: [''], verbs: ['get'], resources: ['pods'], resourceNamespace: 'Not_A_Namespace' },
      ],
    };
    let error: unknown;
    try {
      desiredObjects(def, OPTS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as Error).message;
    expect(message).toContain('team-a/redis-example-default: spec.workflow.spec.rbac.permissions[0].apiGroups: required with resources');
    expect(message).toContain('permissions[1].verbs: must not be empty');
    expect(message).toContain('permissions[2].nonResourceURLs: only allowed with resourceNamespace: "*"');
    expect(message).toContain('permissions[3].resourceNamespace:');
  });

  it('refuses reserved container and volume names, mounts over /kratix, a bad schedule and a missing uid', () => {
    const reserved = definition();
    reserved.spec.workflow!.spec!.containers![0]!.name = ADAPTER_CONTAINER;
    expect(() => desiredObjects(reserved, OPTS)).toThrow(/containers\[0\]\.name: "vigil-result" is reserved/);
    const mount = definition();
    mount.spec.workflow!.spec!.containers![0]!.volumeMounts = [{ name: 'x', mountPath: '/kratix/input' }];
    mount.spec.workflow!.spec!.volumes = [{ name: 'vigil-output', emptyDir: {} }];
    expect(() => desiredObjects(mount, OPTS)).toThrow(/containers\[0\]\.volumeMounts\[0\]: \/kratix\/input is where vigil mounts/);
    expect(() => desiredObjects(mount, OPTS)).toThrow(/spec\.workflow\.spec\.volumes\[0\]\.name: "vigil-output" is reserved/);
    expect(() => desiredObjects(definition({ schedule: '@every 5m' }), OPTS)).toThrow(/spec\.schedule: /);
    expect(() => desiredObjects(definition({ timeZone: 'Mars/Olympus' }), OPTS)).toThrow(/spec\.timeZone: /);
    expect(() => desiredObjects(definition({}, { uid: undefined }), OPTS)).toThrow(/metadata\.uid: required in Kubernetes mode/);
  });

  it('is deterministic: the same definition gives deeply equal objects', () => {
    expect(desiredObjects(definition(), OPTS)).toEqual(desiredObjects(definition(), OPTS));
  });
});

/**
 * The three Promise pipelines run as Kratix runs them (a real process per run, the KRATIX_* dirs
 * and env): the emitted HealthDefinition validates against vigil's CRD and the SKE Health Agent's,
 * names are valid, stable and bounded, delete writes nothing, bad requests fail naming the field.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isDns1123Subdomain } from '../../agent/src/core/naming.js';
import { distMissing, removeTempDir } from '../check-images/helpers.js';
import { definitionProblems, exampleRequest, mainOf, PROMISES, runPipeline, type PipelineRun, type PromiseName } from './helpers.js';

const missing = PROMISES.map((p) => distMissing(mainOf(p))).find((r) => r !== undefined);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeTempDir(d);
});
async function run(promise: PromiseName, request: unknown, opts: Parameters<typeof runPipeline>[2] = {}): Promise<PipelineRun> {
  const r = await runPipeline(promise, request, opts);
  dirs.push(r.dir);
  return r;
}
const hd = (r: PipelineRun): Record<string, any> => {
  expect(r.outputs['health-definition.yaml'], r.stderr).toHaveLength(1);
  return r.outputs['health-definition.yaml']![0]!;
};
const errorLine = (r: PipelineRun): string => r.logs.find((l) => l.level === 50)?.msg as string;

const API: Record<PromiseName, { apiVersion: string; kind: string }> = {
  'aws-rds': { apiVersion: 'aws.marketplace.kratix.io/v1alpha1', kind: 'RDS' },
  'web-app': { apiVersion: 'example.vigil.dev/v1alpha1', kind: 'WebApp' },
  'kubevirt-vm': { apiVersion: 'example.vigil.dev/v1alpha1', kind: 'VM' },
};
/** The smallest valid request of each Promise. */
const minimal = (promise: PromiseName, name: string, namespace = 'default') => ({
  ...API[promise],
  metadata: { name, namespace },
  spec: promise === 'web-app' ? { image: 'nginx:1.27' } : {},
});

describe.skipIf(missing)('Promise pipelines (compiled, real processes)', () => {
  describe.each(PROMISES)('%s', (promise) => {
    it('emits a HealthDefinition valid under vigil\'s CRD and the SKE CRD (no field pruned), and is stable', async () => {
      const first = await run(promise, await exampleRequest(promise));
      expect(first.code, first.stderr).toBe(0);
      const definition = hd(first);
      const problems = definitionProblems(definition);
      expect(problems.vigil).toEqual([]);
      expect(problems.ske).toEqual([]);
      const request = await exampleRequest(promise);
      expect(definition.metadata).toMatchObject({ name: `${promise}-${request.metadata.name}-${request.metadata.namespace}`, namespace: request.metadata.namespace });
      expect(definition.spec).toMatchObject({ promiseRef: { name: promise }, resourceRef: { name: request.metadata.name, namespace: request.metadata.namespace } });
      expect(definition.spec.schedule).toBe(request.spec.healthCheck?.schedule ?? '*/5 * * * *');
      expect(first.logs.some((l) => l.level === 30 && l.msg === 'wrote health-definition.yaml')).toBe(true);
      // Same request, byte-identical output.
      const second = await run(promise, request);
      expect(second.texts).toEqual(first.texts);
      expect(first.status?.healthDefinition).toEqual({ name: definition.metadata.name, namespace: definition.metadata.namespace, schedule: definition.spec.schedule });
    });

    it('bounds a too-long name with a stable hash: valid, at most 63 characters, distinct per request', async () => {
      // 42 characters: with the namespace and the prefix over 63 (aws-rds-…: 64), yet the RDS identifier
      // <name>-<namespace>-mysql stays within RDS's 63.
      const long = `${'a'.repeat(21)}-${'b'.repeat(20)}`;
      const a = await run(promise, minimal(promise, long, 'team-payments'));
      const b = await run(promise, minimal(promise, `${long.slice(0, -1)}c`, 'team-payments'));
      const again = await run(promise, minimal(promise, long, 'team-payments'));
      for (const r of [a, b, again]) expect(r.code, r.stderr).toBe(0);
      const name = hd(a).metadata.name as string;
      expect(name.length).toBeLessThanOrEqual(63);
      expect(isDns1123Subdomain(name)).toBe(true);
      // The readable head of <promise>-<name>-<namespace>, cut, then a hash of the full parts.
      expect(name).toMatch(new RegExp(`^${promise}-a{21}-b{1,20}[-a-z0-9]*-[0-9a-f]{8}$`));
      expect(hd(again).metadata.name).toBe(name);
      expect(hd(b).metadata.name).not.toBe(name);
      expect(hd(a).spec.resourceRef).toEqual({ name: long, namespace: 'team-payments' });
      expect(definitionProblems(hd(a)).vigil).toEqual([]);
    });

    it('writes nothing on KRATIX_WORKFLOW_ACTION=delete', async () => {
      const r = await run(promise, await exampleRequest(promise), { env: { KRATIX_WORKFLOW_ACTION: 'delete' } });
      expect(r.code).toBe(0);
      expect(r.outputs).toEqual({});
      expect(r.status).toBeUndefined();
      expect(r.logs[0]?.msg).toMatch(/^delete: nothing to write/);
    });

    it('refuses a malformed request naming the object and every bad field, writing nothing', async () => {
      const bad = { ...API[promise], metadata: { name: 'broken', namespace: 'default' }, spec: { healthCheck: { schedule: '61 * * * *', colour: 'red' } } };
      const r = await run(promise, bad);
      expect(r.code).toBe(1);
      expect(r.outputs).toEqual({});
      const message = errorLine(r);
      expect(message).toContain(`${API[promise].kind} default/broken: spec.healthCheck.schedule: minute "61"`);
      expect(message).toContain(`${API[promise].kind} default/broken: spec.healthCheck.colour: unknown field`);
      if (promise === 'web-app') expect(message).toContain('WebApp default/broken: spec.image: is required');
    });

    it('refuses a request of another kind or without a namespace, and a YAML list, with clear errors', async () => {
      const wrongKind = await run(promise, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } });
      expect(wrongKind.code).toBe(1);
      expect(errorLine(wrongKind)).toContain(`${API[promise].kind} default/x: apiVersion: must be ${API[promise].apiVersion.split('/')[0]!}/<version>, found "v1"`);
      expect(errorLine(wrongKind)).toContain('kind: must be');
      const noNamespace = await run(promise, { ...API[promise], metadata: { name: 'x' }, spec: {} });
      expect(noNamespace.code).toBe(1);
      expect(errorLine(noNamespace)).toBe(`${API[promise].kind} <no namespace>/x: metadata.namespace: is required (a string), found undefined`);
      const list = await run(promise, '- a\n- b\n');
      expect(list.code).toBe(1);
      expect(errorLine(list)).toMatch(/object\.yaml must be a YAML mapping, found a list/);
      expect(list.outputs).toEqual({});
    });
  });

  it('fails clearly when object.yaml is missing or the workflow env is wrong', async () => {
    const r = await run('web-app', minimal('web-app', 'x'), { env: { KRATIX_WORKFLOW_ACTION: 'destroy' } });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('KRATIX_WORKFLOW_ACTION must be configure or delete, found "destroy"');
    const promiseType = await run('web-app', minimal('web-app', 'x'), { env: { KRATIX_WORKFLOW_TYPE: 'promise' } });
    expect(promiseType.code).toBe(1);
    expect(errorLine(promiseType)).toContain('belongs in a resource workflow');
    const noInput = await run('web-app', minimal('web-app', 'x'), { env: { KRATIX_INPUT_DIR: '/nonexistent-vigil-dir' } });
    expect(noInput.code).toBe(1);
    expect(errorLine(noInput)).toBe('cannot read input /nonexistent-vigil-dir/object.yaml: no such file');
  });

  describe('aws-rds', () => {
    it('puts the whole request in the input (defaults applied, status and server fields dropped), credentials from the Secret', async () => {
      const r = await run(
        'aws-rds',
        {
          apiVersion: 'aws.marketplace.kratix.io/v1alpha1',
          kind: 'RDS',
          metadata: {
            name: 'db1',
            namespace: 'default',
            uid: '5f0c',
            resourceVersion: '812',
            generation: 3,
            labels: { team: 'payments' },
            annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"secret": "x"}' },
            managedFields: [{ manager: 'kubectl' }],
          },
          spec: { engine: 'postgres' },
          status: { instanceStatus: 'creating' },
        },
        { previousStatus: 'instanceStatus: creating\ninstanceIdentifier: db1-default-postgres\n', env: { AWS_CREDENTIALS_SECRET: 'rds-readonly' } },
      );
      expect(r.code, r.stderr).toBe(0);
      const definition = hd(r);
      expect(parse(definition.spec.input)).toEqual({
        apiVersion: 'aws.marketplace.kratix.io/v1alpha1',
        kind: 'RDS',
        metadata: { name: 'db1', namespace: 'default', labels: { team: 'payments' } },
        spec: { engine: 'postgres', dbName: 'mydb', size: 'micro' },
      });
      expect(definition.spec.schedule).toBe('@hourly');
      expect(definition.spec.workflow.spec.containers).toEqual([
        {
          name: 'check-rds-status',
          image: 'ghcr.io/vigil-health/check-rds:v0.1.0',
          env: [
            { name: 'AWS_REGION', value: 'eu-west-1' },
            { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'rds-readonly', key: 'accessKeyID' } } },
            { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'rds-readonly', key: 'secretAccessKey' } } },
          ],
          securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ]);
      expect(definition.spec.workflow.spec.rbac).toBeUndefined();
      // The marketplace container's status fields are kept.
      expect(r.status).toEqual({
        instanceStatus: 'creating',
        instanceIdentifier: 'db1-default-postgres',
        healthDefinition: { name: 'aws-rds-db1-default', namespace: 'default', schedule: '@hourly' },
      });
    });

    it('refuses engines and sizes outside the marketplace API, and names RDS would refuse', async () => {
      const r = await run('aws-rds', { ...minimal('aws-rds', 'db1'), spec: { engine: 'oracle', size: 'huge', dbName: 7 } });
      expect(r.code).toBe(1);
      expect(errorLine(r).split('\n')).toEqual([
        'RDS default/db1: spec.dbName: must be a non-empty string, found a number',
        'RDS default/db1: spec.engine: "oracle" is not one of mysql, postgres, mariadb',
        'RDS default/db1: spec.size: "huge" is not one of micro, small, medium, large',
      ]);
      const tooLong = await run('aws-rds', minimal('aws-rds', 'd'.repeat(60)));
      expect(tooLong.code).toBe(1);
      expect(errorLine(tooLong)).toContain('spec.engine: metadata.name, metadata.namespace and spec.engine make the DB instance identifier');
      const digit = await run('aws-rds', minimal('aws-rds', '1db'));
      expect(digit.code).toBe(1);
      expect(errorLine(digit)).toContain('starting with a letter');
    });
  });

  describe('web-app', () => {
    it('emits a Deployment, a Service, an Ingress for the host, and checks the in-cluster URL', async () => {
      const r = await run('web-app', await exampleRequest('web-app'));
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.outputs)).toEqual(['deployment.yaml', 'health-definition.yaml', 'ingress.yaml', 'service.yaml']);
      const [deployment] = r.outputs['deployment.yaml']!;
      expect(deployment).toMatchObject({ kind: 'Deployment', metadata: { name: 'shop', namespace: 'default' }, spec: { replicas: 2 } });
      expect(deployment!.spec.template.spec.containers[0]).toMatchObject({ image: 'ghcr.io/acme/shop:v1.2.0', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 'http' } } });
      expect(deployment!.spec.selector.matchLabels).toEqual(r.outputs['service.yaml']![0]!.spec.selector);
      expect(r.outputs['service.yaml']![0]).toMatchObject({ kind: 'Service', metadata: { name: 'shop', namespace: 'default' }, spec: { ports: [{ port: 8080, targetPort: 'http' }] } });
      expect(r.outputs['ingress.yaml']![0]!.spec.rules[0]).toMatchObject({ host: 'shop.example.com', http: { paths: [{ backend: { service: { name: 'shop', port: { number: 8080 } } } }] } });
      const definition = hd(r);
      expect(parse(definition.spec.input)).toEqual({ health_checks: { timeout: 5, config: [{ url: 'http://shop.default.svc.cluster.local:8080/healthz', expected_status: ['2xx'] }] } });
      expect(definition.spec.workflow.spec.containers[0]).toMatchObject({ name: 'check-http', image: 'ghcr.io/vigil-health/check-http:v0.1.0' });
      expect(r.status?.url).toBe('http://shop.default.svc.cluster.local:8080/healthz');
    });

    it('no host, no Ingress; CLUSTER_DOMAIN and VIGIL_CHECK_IMAGE are honoured; a dotted name gets a label-safe Service name', async () => {
      const r = await run('web-app', minimal('web-app', 'shop.v2'), { env: { CLUSTER_DOMAIN: 'corp.internal', VIGIL_CHECK_IMAGE: 'registry.corp/vigil/check-http:v0.1.0' } });
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.outputs)).toEqual(['deployment.yaml', 'health-definition.yaml', 'service.yaml']);
      const svc = r.outputs['service.yaml']![0]!.metadata.name as string;
      expect(svc).toMatch(/^shop-v2-[0-9a-f]{8}$/);
      expect(parse(hd(r).spec.input).health_checks.config[0].url).toBe(`http://${svc}.default.svc.corp.internal:8080/`);
      expect(hd(r).spec.workflow.spec.containers[0].image).toBe('registry.corp/vigil/check-http:v0.1.0');
      expect(hd(r).metadata.name).toBe('web-app-shop.v2-default');
    });
  });

  describe('kubevirt-vm', () => {
    it('emits a VirtualMachine and a VMI check of it with RBAC to get and list VMIs in its namespace', async () => {
      const r = await run('kubevirt-vm', { ...(await exampleRequest('kubevirt-vm')), spec: { cpu: 2, memory: '4Gi', running: false, sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0 me@laptop' } });
      expect(r.code, r.stderr).toBe(0);
      const [vm] = r.outputs['virtual-machine.yaml']!;
      expect(vm).toMatchObject({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'build-agent', namespace: 'vms' }, spec: { runStrategy: 'Halted' } });
      expect(vm!.spec.template.spec.domain).toMatchObject({ cpu: { cores: 2 }, memory: { guest: '4Gi' } });
      expect(vm!.spec.template.spec.volumes[1].cloudInitNoCloud.userData).toContain('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0 me@laptop');
      const definition = hd(r);
      expect(parse(definition.spec.input)).toEqual({ kubevirt_checks: { namespace: 'vms', name: 'build-agent', ssh_port: 22 } });
      expect(definition.spec.schedule).toBe('*/10 * * * *');
      expect(definition.spec.workflow.spec.rbac).toEqual({
        permissions: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachineinstances'], verbs: ['get', 'list'], resourceNamespace: 'vms' }],
      });
      expect(definition.spec.workflow.spec.containers[0]).toMatchObject({ name: 'check-vmi', image: 'ghcr.io/vigil-health/check-vmi:v0.1.0' });
    });

    it('refuses a bad memory quantity, cpu count and SSH key', async () => {
      const r = await run('kubevirt-vm', { ...minimal('kubevirt-vm', 'vm1'), spec: { memory: '2GB', cpu: 0, sshPublicKey: 'not a key', running: 'yes' } });
      expect(r.code).toBe(1);
      expect(errorLine(r).split('\n')).toEqual([
        'VM default/vm1: spec.cpu: must be an integer from 1 to 64, found 0',
        'VM default/vm1: spec.memory: "2GB" must be a quantity in Mi or Gi such as 2Gi',
        'VM default/vm1: spec.running: must be true or false, found a string',
        'VM default/vm1: spec.sshPublicKey: "not a key" is not one OpenSSH public key line (ssh-ed25519 AAAA...)',
      ]);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { getDefinitionValidator } from '../../agent/src/crds.js';
import { formatIssue } from '../../agent/src/core/issues.js';
import { SchemaValidator } from '../../agent/src/core/schema.js';
import { referenceSchema } from '../support/reference-crds.js';

const validator = getDefinitionValidator();

function hd(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'web-1', namespace: 'default' }): Record<string, unknown> {
  return { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthDefinition', metadata, spec };
}

const workflow = {
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Pipeline',
  metadata: { name: 'healthcheck' },
  spec: { containers: [{ name: 'check', image: 'ghcr.io/example/check:v1' }] },
};

function errors(raw: unknown): string[] {
  const r = validator.check(raw);
  return r.issues.filter((i) => i.severity === 'error').map((i) => formatIssue(r.object, i));
}

describe('HealthDefinition validation', () => {
  it('accepts the SKE documentation example and applies nothing surprising', () => {
    const r = validator.check(hd({
      resourceRef: { name: 'db1', namespace: 'default' },
      promiseRef: { name: 'aws-rds' },
      schedule: '@hourly',
      input: 'apiVersion: aws.marketplace.kratix.io/v1alpha1\nkind: RDS\nmetadata: {name: db1, namespace: default}\nspec: {engine: mysql}\n',
      workflow: { ...workflow, spec: { rbac: { permissions: [{ apiGroups: ['apps'], verbs: ['get'], resources: ['statefulsets'] }] }, containers: [{ name: 'check', image: 'ghcr.io/example/rds-health-check:v0.1.0', securityContext: { runAsNonRoot: true, runAsUser: 65534 } }] } },
    }, { name: 'aws-rds-db1-default', namespace: 'default' }));
    expect(r.issues).toEqual([]);
    expect(r.key).toBe('default/aws-rds-db1-default');
    expect(r.definition?.spec.schedule).toBe('@hourly');
  });

  it('defaults the schedule to the CRD default 0 */6 * * * and the namespace to the given default', () => {
    const r = validator.check(hd({ promiseRef: { name: 'p' }, workflow }, { name: 'x' }), { defaultNamespace: 'team-a' });
    expect(r.definition?.spec.schedule).toBe('0 */6 * * *');
    expect(r.definition?.metadata.namespace).toBe('team-a');
  });

  it('names the object and the field in errors', () => {
    expect(errors(hd({ promiseRef: { name: 'p' }, schedule: '@every 5m', workflow }))).toEqual([
      expect.stringMatching(/^default\/web-1: spec\.schedule: "@every 5m" is not supported/),
    ]);
    expect(errors(hd({ schedule: '* * * * *', workflow }))).toEqual(['default/web-1: spec.promiseRef: required field is missing']);
    expect(errors(hd({ promiseRef: { name: 3 }, schedule: '* * * * *', workflow }))).toEqual(['default/web-1: spec.promiseRef.name: must be a string, got number 3']);
    expect(errors(hd({ promiseRef: { name: 'p' }, exitCodeMode: 'nagios', workflow }))).toEqual(['default/web-1: spec.exitCodeMode: "nagios" is not one of: Error, Nagios']);
    expect(errors(hd({ promiseRef: { name: 'p' }, timeoutSeconds: 0, workflow }))).toEqual([expect.stringMatching(/^default\/web-1: spec\.timeoutSeconds: 0 must be >= 1/)]);
    expect(errors(hd({ promiseRef: { name: 'p' }, timeZone: 'Mars/Olympus', workflow }))).toEqual([expect.stringMatching(/^default\/web-1: spec\.timeZone: .*Mars\/Olympus/)]);
  });

  it('rejects bad identities with the field named', () => {
    expect(errors(hd({ promiseRef: { name: 'p' }, workflow }, { namespace: 'default' }))).toEqual(['<unnamed>: metadata.name: required field is missing']);
    expect(errors(hd({ promiseRef: { name: 'p' }, workflow }, { name: '../../etc/passwd', namespace: 'default' }))[0]).toMatch(/metadata\.name: "\.\.\/\.\.\/etc\/passwd" is not a valid name/);
    expect(errors(hd({ promiseRef: { name: 'p' }, workflow }, { name: 'ok', namespace: 'Bad_NS' }))[0]).toMatch(/metadata\.namespace: "Bad_NS" is not a valid name/);
    expect(errors({ ...hd({ promiseRef: { name: 'p' }, workflow }), apiVersion: 'platform.kratix.io/v1beta9' })[0]).toMatch(/apiVersion: "platform.kratix.io\/v1beta9" is not supported/);
  });

  it('checks the workflow containers and names the path', () => {
    const bad = { ...workflow, spec: { containers: [{ name: 'check' }, { name: 'check', image: 'x', command: 'sh -c true', env: [{ name: 'A', value: 1 }] }] } };
    expect(errors(hd({ promiseRef: { name: 'p' }, workflow: bad }))).toEqual([
      'default/web-1: spec.workflow.spec.containers[0].image: required field is missing',
      'default/web-1: spec.workflow.spec.containers[1].name: duplicate container name "check"',
      'default/web-1: spec.workflow.spec.containers[1].command: must be a list of strings, got the string "sh -c true"',
      'default/web-1: spec.workflow.spec.containers[1].env[0].value: must be a string, got number 1 (quote it)',
    ]);
  });

  it('accepts a definition without a workflow, with a warning (runs are recorded as unknown)', () => {
    const r = validator.check(hd({ promiseRef: { name: 'p' } }));
    expect(r.definition).toBeDefined();
    expect(r.issues.map((i) => `${i.severity} ${i.path}`)).toEqual(['warning spec.workflow']);
  });

  it('prunes unknown fields with a warning, like the API server', () => {
    const r = validator.check(hd({ promiseRef: { name: 'p' }, workflow, schedul: '* * * * *' }));
    expect(r.definition).toBeDefined();
    expect(r.definition?.spec).not.toHaveProperty('schedul');
    expect(r.issues).toEqual([{ severity: 'warning', path: 'spec.schedul', message: 'unknown field, ignored' }]);
  });

  it('warns when spec.input is not YAML, but accepts it', () => {
    const r = validator.check(hd({ promiseRef: { name: 'p' }, workflow, input: 'a: [' }));
    expect(r.definition).toBeDefined();
    expect(r.issues[0]).toMatchObject({ severity: 'warning', path: 'spec.input' });
  });

  it('does not modify its input', () => {
    const raw = hd({ promiseRef: { name: 'p' }, workflow, extra: 1 }, { name: 'x' });
    const before = structuredClone(raw);
    validator.check(raw);
    expect(raw).toEqual(before);
  });
});

describe('compatibility with the SKE Health Agent CRD', () => {
  const ske = new SchemaValidator(referenceSchema('ske-health-agent-crds.yaml', 'HealthDefinition'));
  const samples = [
    hd({ promiseRef: { name: 'redis' }, schedule: '* * * * *', input: 'name: example\n', workflow }),
    hd({ promiseRef: { name: 'redis' }, resourceRef: { name: 'example', namespace: 'default', generation: 3 }, schedule: '@hourly', workflow }),
    hd({ promiseRef: { name: 'redis' }, workflow }),
    hd({ promiseRef: { name: 'redis' }, schedule: '0 0 1,15 * 1', workflow: { ...workflow, spec: { ...workflow.spec, volumes: [{ name: 'x', emptyDir: {} }], unknownKratixField: true } } }),
    hd({ promiseRef: { name: 'redis' }, schedule: '*/5 * * * *' }),
  ];

  it.each(samples.map((s, i) => [i, s] as const))('accepts SKE-valid sample %i', (_i, sample) => {
    expect(ske.validate(structuredClone(sample)).filter((x) => x.severity === 'error')).toEqual([]);
    const r = validator.check(sample);
    expect(r.issues.filter((x) => x.severity === 'error')).toEqual([]);
    expect(r.definition).toBeDefined();
  });

  it('is a superset of the SKE schema: every SKE field is declared with the same type, required-ness and default', () => {
    const skeSpec = referenceSchema('ske-health-agent-crds.yaml', 'HealthDefinition').properties!.spec!;
    const ours = (validator as unknown as { schema: { schema: { properties: { spec: typeof skeSpec } } } }).schema.schema.properties.spec;
    expect(ours.required).toEqual(skeSpec.required);
    for (const [field, s] of Object.entries(skeSpec.properties!)) {
      expect(ours.properties![field]?.type, field).toBe(s.type);
      expect(ours.properties![field]?.default, field).toEqual(s.default);
      expect(ours.properties![field]?.['x-kubernetes-preserve-unknown-fields'], field).toBe(s['x-kubernetes-preserve-unknown-fields']);
    }
  });
});

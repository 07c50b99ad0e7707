import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getDefinitionValidator } from '../../agent/src/crds.js';
import { parseYamlDocuments } from '../../agent/src/core/yaml.js';
import { importKhChecks, type ImportResult } from '../../agent/src/khcheck/convert.js';

function importFixture(name: string): ImportResult {
  const text = readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
  const docs = parseYamlDocuments(text).map((d) => ({ value: d.value, location: `${name}: document ${d.index + 1}` }));
  return importKhChecks(docs, { validator: getDefinitionValidator(), promise: 'kuberhealthy', defaultNamespace: 'default' });
}

describe('importKhChecks: Kuberhealthy v2 KuberhealthyCheck', () => {
  const r = importFixture('v2-khchecks.yaml');

  it('converts the deployment check: schedule, timeout, container, service account, labels', () => {
    const d = r.imported.find((i) => i.object === 'kuberhealthy/deployment');
    expect(d?.source).toBe('v2 KuberhealthyCheck');
    const def = d!.definition;
    expect(def.metadata).toMatchObject({ name: 'deployment', namespace: 'kuberhealthy', labels: { team: 'platform' } });
    expect(def.metadata.annotations).toMatchObject({ 'health.vigil.dev/imported-from': 'comcast.github.io/v1/KuberhealthyCheck' });
    expect(def.spec.schedule).toBe('*/10 * * * *');
    expect(def.spec.timeoutSeconds).toBe(900);
    expect(def.spec.promiseRef).toEqual({ name: 'kuberhealthy' });
    const wf = def.spec.workflow!;
    expect(wf.metadata).toEqual({ name: 'healthcheck', labels: { testLabel: 'testLabel' }, annotations: { 'comcast.com/testAnnotation': 'test.annotation' } });
    expect(wf.spec?.rbac).toEqual({ serviceAccount: 'deployment-sa' });
    expect(wf.spec?.containers).toEqual([
      {
        name: 'deployment',
        image: 'kuberhealthy/deployment-check:v1.9.0',
        imagePullPolicy: 'IfNotPresent',
        env: [
          { name: 'CHECK_DEPLOYMENT_REPLICAS', value: '4' },
          { name: 'CHECK_DEPLOYMENT_ROLLING_UPDATE', value: 'true' },
          { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        resources: { requests: { cpu: '25m', memory: '15Mi' }, limits: { cpu: '1' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
      },
    ]);
    expect(d!.warnings).toContain('spec.podSpec: dropped terminationGracePeriodSeconds (a check pipeline has no such field)');
  });

  it('carries command, args and tolerations', () => {
    const def = r.imported.find((i) => i.object === 'kuberhealthy/dns-status-internal')!.definition;
    expect(def.spec.schedule).toBe('*/2 * * * *');
    expect(def.spec.workflow?.spec?.containers?.[0]).toMatchObject({ command: ['/app/dns-resolution-check'], args: ['--verbose'] });
    expect(def.spec.workflow?.spec?.tolerations).toEqual([{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }]);
  });

  it('refuses a 7m interval, naming the object and the field, and still converts the rest', () => {
    expect(r.problems).toEqual([
      {
        object: 'kuberhealthy/pod-restarts',
        errors: [
          'spec.runInterval: "7m": no cron schedule fires exactly every 7m: a minute step must divide 60, an hour step must divide 24 (or be 168h); the nearest that can be expressed: 6m or 10m',
        ],
      },
    ]);
    expect(r.imported).toHaveLength(2);
  });

  it('skips documents of other kinds', () => {
    expect(r.skipped).toEqual([{ location: 'v2-khchecks.yaml: document 4', kind: 'ServiceAccount' }]);
  });
});

describe('importKhChecks: Kuberhealthy v3 HealthCheck', () => {
  const r = importFixture('v3-healthchecks.yaml');

  it('converts podSpec {metadata, spec}: init containers first, pod labels and extra labels on the workflow', () => {
    const d = r.imported.find((i) => i.object === 'monitoring/http-check')!;
    expect(d.source).toBe('v3 HealthCheck');
    const def = d.definition;
    expect(def.spec.schedule).toBe('0 * * * *');
    expect(def.spec.timeoutSeconds).toBe(90);
    expect(def.spec.workflow?.spec?.containers?.map((c) => c.name)).toEqual(['wait-for-dns', 'https']);
    expect(def.spec.workflow?.spec?.containers?.[1]?.env).toContainEqual({ name: 'CHECK_URL', value: 'https://example.com' });
    expect(def.spec.workflow?.metadata?.labels).toEqual({ app: 'http-check', 'kuberhealthy.io/severity': 'critical' });
    expect(def.spec.workflow?.metadata?.annotations).toEqual({ 'sidecar.istio.io/inject': 'false' });
    expect(d.warnings).toContain('spec.podSpec.spec: dropped affinity (a check pipeline has no such field)');
  });

  it('uses the default namespace and Kuberhealthy v3 default timeout (30s) when unset', () => {
    const d = r.imported.find((i) => i.object === 'default/ssl-expiry')!;
    expect(d.definition.spec.schedule).toBe('0 0 * * *');
    expect(d.definition.spec.timeoutSeconds).toBe(30);
    expect(d.warnings).toContain("spec.timeout: not set; Kuberhealthy v3's default 30s is used");
  });

  it('refuses run-once and sub-minute checks with clear reasons', () => {
    expect(r.problems.find((p) => p.object === 'monitoring/once')?.errors).toEqual([
      'spec.singleRunOnly: a run-once check has no schedule; run it with `vigil run` instead of importing it',
    ]);
    expect(r.problems.find((p) => p.object === 'monitoring/fast')?.errors[0]).toMatch(
      /^spec\.runInterval: "30s": 30s is not a whole number of minutes; cron's resolution is one minute/,
    );
  });

  it('every imported definition is valid against the HealthDefinition CRD', () => {
    const validator = getDefinitionValidator();
    for (const i of [...r.imported, ...importFixture('v2-khchecks.yaml').imported]) {
      const check = validator.check(structuredClone(i.definition));
      expect(check.issues.filter((x) => x.severity === 'error'), i.object).toEqual([]);
    }
  });
});

describe('importKhChecks: bad input', () => {
  const validator = getDefinitionValidator();
  const run = (value: unknown): ImportResult => importKhChecks([{ value, location: 'x.yaml: document 1' }], { validator, promise: 'p', defaultNamespace: 'default' });

  it('names missing fields', () => {
    const r = run({ apiVersion: 'kuberhealthy.github.io/v2', kind: 'HealthCheck', metadata: { name: 'a' }, spec: { runInterval: 5, podSpec: { spec: { containers: [] } } } });
    expect(r.problems[0]).toEqual({
      object: 'default/a',
      errors: ['spec.runInterval: must be a Go duration string, got number 5', 'spec.podSpec.spec.containers: must be a non-empty list, got an empty list'],
    });
  });

  it('refuses a KuberhealthyJob by name', () => {
    const r = run({ apiVersion: 'comcast.github.io/v1', kind: 'KuberhealthyJob', metadata: { name: 'j', namespace: 'kh' }, spec: {} });
    expect(r.problems[0]?.errors[0]).toMatch(/KuberhealthyJob is a one-off run/);
  });

  it('reports a container the CRD refuses (bad name) as an invalid converted definition', () => {
    const r = run({ apiVersion: 'comcast.github.io/v1', kind: 'KuberhealthyCheck', metadata: { name: 'b' }, spec: { podSpec: { containers: [{ name: 'Bad_Name', image: 'x' }] } } });
    expect(r.problems[0]?.object).toBe('default/b');
    expect(r.problems[0]?.errors[0]).toMatch(/converted definition is invalid: default\/b: spec\.workflow\.spec\.containers\[0\]\.name/);
  });

  it('reads kind: List', () => {
    const r = run({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'comcast.github.io/v1', kind: 'KuberhealthyCheck', metadata: { name: 'c' }, spec: { runInterval: '5m', podSpec: { containers: [{ name: 'main', image: 'x' }] } } }] });
    expect(r.imported.map((i) => [i.object, i.definition.spec.schedule, i.definition.spec.timeoutSeconds])).toEqual([['default/c', '*/5 * * * *', 300]]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  CONTAINER_DIRS,
  containerEnv,
  definitionEnv,
  expandReferences,
  objectIdentity,
  runEnv,
  type EnvList,
  type KeyRef,
  type KeyStore,
} from '../../agent/src/core/env.js';
import type { Container, EnvVar } from '../../agent/src/core/model.js';
import { checkDefinition } from '../support/check-definition.js';

const known: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
const lookup = (name: string): string | undefined => known[name];

describe('expandReferences (Kubernetes $(VAR) rules)', () => {
  it.each([
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(EMPTY)', ''],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$alpha'],
    ['$$', '$'],
    ['a$$b', 'a$b'],
    ['$A', '$A'],
    ['${A}', '${A}'],
    ['$(A', '$(A'],
    ['$', '$'],
    ['x$', 'x$'],
    ['$()', '$()'],
    ['$(A)$(B)', 'alphabeta'],
    ['no references', 'no references'],
    ['$(A)$', 'alpha$'],
  ])('%s -> %s', (input, expected) => {
    expect(expandReferences(input, lookup)).toBe(expected);
  });
});

describe('objectIdentity', () => {
  it('splits apiVersion into group and version', () => {
    expect(objectIdentity('apiVersion: aws.marketplace.kratix.io/v1alpha1\nkind: RDS\nmetadata: {name: db1}\n')).toEqual({
      kind: 'RDS',
      group: 'aws.marketplace.kratix.io',
      version: 'v1alpha1',
    });
    expect(objectIdentity('apiVersion: v1\nkind: ConfigMap\n')).toEqual({ kind: 'ConfigMap', group: '', version: 'v1' });
  });

  it('ignores inputs that are not objects with apiVersion and kind', () => {
    expect(objectIdentity(undefined)).toBeUndefined();
    expect(objectIdentity('name: db1\n')).toBeUndefined();
    expect(objectIdentity('[1, 2]')).toBeUndefined();
    expect(objectIdentity('kind: [unclosed')).toBeUndefined();
    const bomb = ['a: &a [x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b]', 'apiVersion: v1', 'kind: Bomb'].join('\n');
    expect(objectIdentity(bomb)).toBeUndefined();
  });
});

describe('definitionEnv and runEnv', () => {
  it('describes a resource health check', () => {
    const def = checkDefinition([], { resourceRef: { name: 'db1', namespace: 'team-a' }, promiseRef: { name: 'aws-rds' } });
    const env = new Map(definitionEnv(def, { kind: 'RDS', group: 'aws.marketplace.kratix.io', version: 'v1alpha1' }));
    expect(Object.fromEntries(env)).toEqual({
      KRATIX_WORKFLOW_ACTION: 'healthcheck',
      KRATIX_WORKFLOW_TYPE: 'resource',
      KRATIX_PROMISE_NAME: 'aws-rds',
      KRATIX_PIPELINE_NAME: 'healthcheck',
      KRATIX_OBJECT_NAME: 'db1',
      KRATIX_OBJECT_NAMESPACE: 'team-a',
      KRATIX_OBJECT_KIND: 'RDS',
      KRATIX_OBJECT_GROUP: 'aws.marketplace.kratix.io',
      KRATIX_OBJECT_VERSION: 'v1alpha1',
      KRATIX_CLUSTER_SCOPED: 'false',
      VIGIL_DEFINITION: 'default/web-check',
    });
  });

  it('describes a promise health check by the definition itself', () => {
    const def = checkDefinition([]);
    delete def.spec.workflow!.metadata;
    const env = new Map(definitionEnv(def, undefined));
    expect(env.get('KRATIX_WORKFLOW_TYPE')).toBe('promise');
    expect(env.get('KRATIX_PIPELINE_NAME')).toBe('healthcheck');
    expect(env.get('KRATIX_OBJECT_NAME')).toBe('web-check');
    expect(env.get('KRATIX_OBJECT_NAMESPACE')).toBe('default');
    expect(env.has('KRATIX_OBJECT_KIND')).toBe(false);
  });

  it('adds directories, run id, scheduled time in seconds and extra variables in order', () => {
    const env = runEnv({ runId: 'r1', scheduledAt: 1_700_000_000_999, dirs: CONTAINER_DIRS, extra: { VIGIL_AGENT_URL: 'http://127.0.0.1:1' } });
    expect(env).toEqual([
      ['KRATIX_INPUT_DIR', '/kratix/input'],
      ['KRATIX_OUTPUT_DIR', '/kratix/output'],
      ['KRATIX_METADATA_DIR', '/kratix/metadata'],
      ['VIGIL_RUN_ID', 'r1'],
      ['VIGIL_SCHEDULED_TIME', '1700000000'],
      ['VIGIL_AGENT_URL', 'http://127.0.0.1:1'],
    ]);
    expect(runEnv({ runId: 'r2', dirs: CONTAINER_DIRS }).some(([n]) => n === 'VIGIL_SCHEDULED_TIME')).toBe(false);
  });
});

class FakeKeys implements KeyStore {
  readonly reads: KeyRef[] = [];
  constructor(private readonly values: Record<string, string>) {}
  read(ref: KeyRef): string | undefined {
    this.reads.push(ref);
    if (ref.name === 'unreadable') throw new Error('cannot be read: EACCES');
    return this.values[`${ref.kind}/${ref.namespace}/${ref.name}/${ref.key}`];
  }
  where(ref: KeyRef): string {
    return `in /keys/${ref.namespace}/${ref.name}`;
  }
}

const BASE: EnvList = [
  ['KRATIX_OUTPUT_DIR', '/kratix/output'],
  ['VIGIL_RUN_ID', 'r1'],
];

function build(env: EnvVar[], extra: Partial<Container> = {}, keys = new FakeKeys({})) {
  const container: Container = { name: 'check', image: 'x', env, ...extra };
  return containerEnv({ base: BASE, container, path: 'spec.workflow.spec.containers[0]', definition: checkDefinition([container]), keys });
}

describe('containerEnv', () => {
  it('appends user variables after the base so they win, expanding earlier ones only', () => {
    const result = build([
      { name: 'VIGIL_RUN_ID', value: 'mine' },
      { name: 'FILE', value: '$(KRATIX_OUTPUT_DIR)/health-status.yaml' },
      { name: 'EARLY', value: '$(LATER)' },
      { name: 'LATER', value: 'x' },
      { name: 'ESCAPED', value: '$$(FILE)' },
      { name: 'EMPTY' },
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.fromEntries(result.env)).toEqual({
      KRATIX_OUTPUT_DIR: '/kratix/output',
      VIGIL_RUN_ID: 'mine',
      FILE: '/kratix/output/health-status.yaml',
      EARLY: '$(LATER)',
      LATER: 'x',
      ESCAPED: '$(FILE)',
      EMPTY: '',
    });
  });

  it('expands command and args against the whole environment', () => {
    const result = build([{ name: 'TARGET', value: 'https://example.org' }], {
      command: ['/bin/check', '$(TARGET)'],
      args: ['--out=$(KRATIX_OUTPUT_DIR)', '$(NOPE)', '$$(TARGET)'],
    });
    expect(result.ok && result.command).toEqual(['/bin/check', 'https://example.org']);
    expect(result.ok && result.args).toEqual(['--out=/kratix/output', '$(NOPE)', '$(TARGET)']);
  });

  it('leaves command and args undefined when the container does not set them', () => {
    const result = build([]);
    expect(result.ok && 'command' in result).toBe(false);
    expect(result.ok && 'args' in result).toBe(false);
  });

  it('resolves secretKeyRef, configMapKeyRef and fieldRef in the definition namespace', () => {
    const keys = new FakeKeys({ 'secret/default/db-creds/password': 's3cret', 'configMap/default/settings/url': 'http://db' });
    const result = build(
      [
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
        { name: 'URL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'url' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } },
        { name: 'DSN', value: '$(URL)?password=$(PASSWORD)' },
      ],
      {},
      keys,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.env.get('PASSWORD')).toBe('s3cret');
    expect(result.env.get('URL')).toBe('http://db');
    expect(result.env.get('NS')).toBe('default');
    expect(result.env.get('NAME')).toBe('web-check');
    expect(result.env.has('OPTIONAL')).toBe(false);
    expect(result.env.get('DSN')).toBe('http://db?password=s3cret');
    expect(keys.reads.map((r) => `${r.kind}:${r.namespace}/${r.name}/${r.key}`)).toEqual([
      'secret:default/db-creds/password',
      'configMap:default/settings/url',
      'secret:default/absent/k',
    ]);
  });

  it('names the field of a missing secret key, and never the value of anything', () => {
    const result = build([
      { name: 'A', value: 'visible-value' },
      { name: 'B', value: 'b' },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
    ]);
    expect(result).toEqual({
      ok: false,
      path: 'spec.workflow.spec.containers[0].env[2].valueFrom.secretKeyRef',
      message: 'secret "db-creds" key "password" not found in /keys/default/db-creds',
    });
  });

  it.each<[string, EnvVar, string, string]>([
    ['unreadable keys', { name: 'X', valueFrom: { configMapKeyRef: { name: 'unreadable', key: 'k' } } }, 'env[0].valueFrom.configMapKeyRef', 'configmap "unreadable" key "k": cannot be read: EACCES'],
    ['other fieldRefs', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, 'env[0].valueFrom.fieldRef.fieldPath', '"status.podIP" is not supported locally'],
    ['resourceFieldRef', { name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }, 'env[0].valueFrom.resourceFieldRef', 'is not supported locally'],
    ['empty valueFrom', { name: 'X', valueFrom: {} }, 'env[0].valueFrom', 'must set exactly one source, got none'],
    ['value and valueFrom', { name: 'X', value: 'v', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, 'env[0]', 'mutually exclusive'],
    ['names with =', { name: 'A=B', value: 'v' }, 'env[0].name', 'is not a valid environment variable name'],
    ['NUL in values', { name: 'A', value: 'a\0b' }, 'env[0]', 'NUL'],
  ])('fails on %s, naming the field', (_what, entry, path, message) => {
    const result = build([entry]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.path).toBe(`spec.workflow.spec.containers[0].${path}`);
    expect(result.message).toContain(message);
  });
});

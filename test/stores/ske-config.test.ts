/**
 * Store settings from Kratix GitStateStore/BucketStateStore objects and SKE's
 * health-state-store-config ConfigMap (shared/reference kratix.md §2, §4), through the agent
 * configuration (store.kratixStateStore) down to the adapter build.buildStore makes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../agent/src/config/config.js';
import { buildStore } from '../../agent/src/agent/build.js';
import { kratixStoreSettings } from '../../agent/src/stores/ske-config.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { tempDir } from '../support/tmp.js';

const BUCKET_STORE = `apiVersion: platform.kratix.io/v1alpha1
kind: BucketStateStore
metadata: {name: default}
spec:
  endpoint: s3.eu-west-2.amazonaws.com
  bucketName: kratix
  path: platform
  insecure: false
  authMethod: accessKey
  secretRef: {name: aws-creds, namespace: default}
`;

const GIT_STORE = `apiVersion: platform.kratix.io/v1alpha1
kind: GitStateStore
metadata: {name: default}
spec:
  url: git@github.com:acme/platform-state.git
  branch: health
  path: clusters/platform
  authMethod: ssh
  secretRef: {name: git-ssh, namespace: flux-system}
  gitAuthor: {name: kratix, email: kratix@acme.test}
`;

const SKE_BUCKET = `apiVersion: v1
kind: ConfigMap
metadata: {name: health-state-store-config, namespace: k8s-health-agent-system}
data:
  stateStoreKind: BucketStateStore
  endpoint: minio.minio.svc:9000
  bucketName: kratix
  authMethod: accessKey
  secretName: s3-creds
  path: health
  insecure: "true"
`;

const SKE_GIT = `apiVersion: v1
kind: ConfigMap
metadata: {name: health-state-store-config, namespace: k8s-health-agent-system}
data: {stateStoreKind: GitStateStore, url: "https://github.com/acme/state.git", secretName: git-creds, branch: main}
`;

describe('store settings from Kratix and SKE objects', () => {
  it('maps a Kratix BucketStateStore field by field', () => {
    expect(kratixStoreSettings(BUCKET_STORE, 'f.yaml')).toEqual({
      settings: { kind: 'bucket', endpoint: 's3.eu-west-2.amazonaws.com', bucketName: 'kratix', path: 'platform', insecure: false, authMethod: 'accessKey' },
      secretRef: { name: 'aws-creds', namespace: 'default' },
      origin: 'BucketStateStore default',
      warnings: [],
    });
  });

  it('maps a Kratix GitStateStore (ssh) field by field', () => {
    expect(kratixStoreSettings(GIT_STORE, 'f.yaml')).toEqual({
      settings: { kind: 'git', url: 'git@github.com:acme/platform-state.git', branch: 'health', path: 'clusters/platform', authMethod: 'ssh', gitAuthor: { name: 'kratix', email: 'kratix@acme.test' } },
      secretRef: { name: 'git-ssh', namespace: 'flux-system' },
      origin: 'GitStateStore default',
      warnings: [],
    });
  });

  it('maps SKE health-state-store-config ConfigMaps (string values; the Secret is in the ConfigMap namespace)', () => {
    expect(kratixStoreSettings(SKE_BUCKET, 'cm.yaml')).toMatchObject({
      settings: { kind: 'bucket', endpoint: 'minio.minio.svc:9000', bucketName: 'kratix', path: 'health', insecure: true, authMethod: 'accessKey' },
      secretRef: { name: 's3-creds', namespace: 'k8s-health-agent-system' },
    });
    expect(kratixStoreSettings(SKE_GIT, 'cm.yaml')).toMatchObject({
      settings: { kind: 'git', url: 'https://github.com/acme/state.git', branch: 'main', authMethod: 'basicAuth' },
      secretRef: { name: 'git-creds', namespace: 'k8s-health-agent-system' },
    });
    // just the data mapping works too
    expect(kratixStoreSettings('stateStoreKind: BucketStateStore\nendpoint: h:9000\nbucketName: b\nauthMethod: IAM\n', 'd.yaml').settings).toEqual({ kind: 'bucket', endpoint: 'h:9000', bucketName: 'b', authMethod: 'IAM' });
  });

  it('errors name the file and the field', () => {
    expect(() => kratixStoreSettings(GIT_STORE.replace('authMethod: ssh', 'authMethod: githubApp'), 'f.yaml')).toThrow(/^store\.kratixStateStore: f\.yaml: spec\.authMethod: "githubApp" is not supported by vigil/);
    expect(() => kratixStoreSettings(BUCKET_STORE.replace('  endpoint: s3.eu-west-2.amazonaws.com\n', ''), 'f.yaml')).toThrow('store.kratixStateStore: f.yaml: spec.endpoint: is required');
    expect(() => kratixStoreSettings(SKE_BUCKET.replace('insecure: "true"', 'insecure: "yes"'), 'cm.yaml')).toThrow('store.kratixStateStore: cm.yaml: data.insecure: must be true or false, not "yes"');
    expect(() => kratixStoreSettings(SKE_GIT.replace('GitStateStore', 'KubernetesStore'), 'cm.yaml')).toThrow(/^store\.kratixStateStore: cm\.yaml: data\.stateStoreKind: "KubernetesStore" is not GitStateStore or BucketStateStore/);
    expect(() => kratixStoreSettings('kind: Deployment\n', 'x.yaml')).toThrow(/^store\.kratixStateStore: x\.yaml: kind: "Deployment" is not GitStateStore/);
    expect(kratixStoreSettings(BUCKET_STORE.replace('insecure: false', 'useDualStack: true'), 'f.yaml').warnings).toEqual(['BucketStateStore default: spec.useDualStack is ignored: vigil uses spec.endpoint exactly as given (give a dual-stack endpoint there)']);
  });
});

describe('store.kratixStateStore in the agent configuration', () => {
  it('takes the settings from the file, finds the Secret under runtime.secretsDir, lets vigil.yaml settings win, and builds the store', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), SKE_BUCKET);
    mkdirSync(join(dir, 'secrets', 'k8s-health-agent-system', 's3-creds'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'k8s-health-agent-system', 's3-creds', 'accessKeyID'), 'AKIA-TEST\n');
    writeFileSync(join(dir, 'secrets', 'k8s-health-agent-system', 's3-creds', 'secretAccessKey'), 'shh\n');
    writeFileSync(join(dir, 'vigil.yaml'), 'runtime: {secretsDir: ./secrets}\nstore:\n  kratixStateStore: ./store.yaml\n  path: overridden\n');
    const { config } = loadConfig(join(dir, 'vigil.yaml'), {}, {});
    expect(config.store).toMatchObject({
      kind: 'bucket',
      endpoint: 'minio.minio.svc:9000',
      bucketName: 'kratix',
      path: 'overridden',
      insecure: true,
      authMethod: 'accessKey',
      secretDir: join(dir, 'secrets', 'k8s-health-agent-system', 's3-creds'),
    });
    const store = buildStore(config, silentLogger());
    expect(store.kind).toBe('bucket');
    expect(store.describe()).toBe('bucket kratix at http://minio.minio.svc:9000 (path overridden)');
    await store.close();
  });

  it('a Kratix GitStateStore with an explicit store.secretDir', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'git.yaml'), GIT_STORE);
    writeFileSync(join(dir, 'vigil.yaml'), 'store: {kratixStateStore: git.yaml, secretDir: /run/secrets/git}\n');
    expect(loadConfig(join(dir, 'vigil.yaml'), {}, {}).config.store).toMatchObject({
      kind: 'git', url: 'git@github.com:acme/platform-state.git', branch: 'health', path: 'clusters/platform', authMethod: 'ssh', secretDir: '/run/secrets/git', gitAuthor: { name: 'kratix', email: 'kratix@acme.test' },
    });
  });

  it('reports what is missing naming the setting', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'git.yaml'), GIT_STORE);
    const load = (yaml: string): string => {
      writeFileSync(join(dir, 'vigil.yaml'), yaml);
      try {
        loadConfig(join(dir, 'vigil.yaml'), {}, {});
        return 'no error';
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
    };
    expect(load('store: {kratixStateStore: git.yaml}\n')).toContain('store.secretDir: GitStateStore default uses Secret flux-system/git-ssh: mount it and set store.secretDir');
    expect(load('store: {kratixStateStore: nope.yaml}\n')).toMatch(/store\.kratixStateStore: cannot read .*nope\.yaml: ENOENT/);
    expect(load('store: {kind: bucket, kratixStateStore: git.yaml, secretDir: /s}\n')).toContain('store.kind: "bucket" contradicts store.kratixStateStore (GitStateStore default is a git store)');
    expect(load('store: {kind: bucket, bucketName: b}\n')).toMatch(/store\.endpoint: required when store\.kind is bucket/);
    expect(load('store: {kind: bucket, endpoint: h, bucketName: b}\n')).toMatch(/store\.secretDir: required for authMethod accessKey \(the default of store\.kind bucket/);
    expect(load('store: {kind: bucket, endpoint: h, bucketName: b, authMethod: ssh, secretDir: /s}\n')).toMatch(/store\.authMethod: "ssh" is not one of accessKey, IAM for store\.kind bucket/);
    expect(load('store: {kind: bucket, endpoint: h, bucketName: b, authMethod: IAM}\n')).toBe('no error');
  });
});

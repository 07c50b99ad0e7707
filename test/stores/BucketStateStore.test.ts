/**
 * The bucket store against a real S3-compatible server on loopback (s3rver behind a front
 * that verifies AWS Signature V4 with the SDK's own signer: test/support/s3.ts).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketStateStore, type BucketStateStoreOptions } from '../../agent/src/stores/BucketStateStore.js';
import { InitOnUse } from '../../agent/src/stores/InitOnUse.js';
import { RecordDelivery } from '../../agent/src/records/RecordDelivery.js';
import { buildHealthRecord } from '../../agent/src/core/record.js';
import type { HealthRecord } from '../../agent/src/core/model.js';
import { parseYamlDocument } from '../../agent/src/core/yaml.js';
import { silentLogger } from '../../agent/src/logging/logger.js';
import { freePort } from '../support/git.js';
import { startS3, type S3Server } from '../support/s3.js';

const T0 = 1_700_000_000_000;

function record(name: string, state: HealthRecord['data']['state'] = 'healthy', finishedAt = T0, details: Record<string, unknown> = {}): HealthRecord {
  return buildHealthRecord({
    definition: { apiVersion: 'platform.kratix.io/v1alpha1', kind: 'HealthDefinition', metadata: { name, namespace: 'team-a' }, spec: { promiseRef: { name: 'p' }, schedule: '@hourly' } },
    destination: 'local',
    state,
    details,
    finishedAt,
  });
}

let s3: S3Server;
let raw: S3Client;
const stores: BucketStateStore[] = [];

beforeAll(async () => {
  s3 = await startS3({ buckets: ['records', 'other'] });
  raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
});

afterAll(async () => {
  for (const s of stores) await s.close();
  raw.destroy();
  await s3.stop();
});

let bucketSeq = 0;
function store(options: Partial<BucketStateStoreOptions> = {}, clock = { now: () => T0 + 1000 }): BucketStateStore {
  const s = new BucketStateStore({
    endpoint: s3.hostPort,
    insecure: true,
    bucketName: 'records',
    path: `run-${++bucketSeq}`,
    auth: { kind: 'accessKey', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    logger: silentLogger(),
    clock,
    ...options,
  });
  stores.push(s);
  return s;
}

async function object(key: string, bucket = 'records'): Promise<string | undefined> {
  try {
    const out = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

const puts = (): number => s3.requests.PUT ?? 0;
const deletes = (): number => s3.requests.DELETE ?? 0;

describe('BucketStateStore', () => {
  it('puts a record at <path>/<namespace>/<name>.yaml as the HealthRecord YAML and lists it back', async () => {
    const s = store({ path: 'platform-health/records' });
    await s.init();
    const r = record('web');
    await s.put(r);
    const text = await object('platform-health/records/team-a/web-local.yaml');
    expect(parseYamlDocument(text ?? '')).toEqual(r);
    expect(await s.list()).toEqual([r]);
    expect(s.describe()).toBe(`bucket records at ${s3.endpoint} (path platform-health/records)`);
  });

  it('overwrites a changed record; an unchanged one makes no request until the heartbeat', async () => {
    const clock = { t: T0 + 1000, now: () => clock.t };
    const s = store({ heartbeatMs: 3_600_000 }, clock);
    await s.init();
    await s.list();
    await s.put(record('db', 'healthy', T0, { replicas: 3, zones: ['a', 'b'] }));
    let before = puts();
    const totalBefore = Object.values(s3.requests).reduce((a, b) => a + b, 0);
    clock.t += 60_000;
    // same state and details (keys in another order), newer lastRun: nothing is sent at all
    await s.put(record('db', 'healthy', clock.t, { zones: ['a', 'b'], replicas: 3 }));
    expect(Object.values(s3.requests).reduce((a, b) => a + b, 0)).toBe(totalBefore);
    await s.put(record('db', 'degraded', clock.t, { replicas: 1, zones: ['a', 'b'] }));
    expect(puts()).toBe(before + 1);
    expect(await object(`run-${bucketSeq}/team-a/db-local.yaml`)).toContain('state: degraded');
    before = puts();
    clock.t = T0 + 3_600_000 + 120_000; // the stored lastRun is now older than the heartbeat
    await s.put(record('db', 'degraded', clock.t, { replicas: 1, zones: ['a', 'b'] }));
    expect(puts()).toBe(before + 1);
    expect(parseYamlDocument((await object(`run-${bucketSeq}/team-a/db-local.yaml`)) ?? '')).toMatchObject({ data: { lastRun: Math.floor(clock.t / 1000) } });
  });

  it('a new store instance (after a restart, without list) learns what is stored from object metadata: no rewrite', async () => {
    const first = store({ path: 'restart' });
    await first.init();
    await first.put(record('api'));
    const again = store({ path: 'restart' });
    await again.init();
    const before = puts();
    const heads = s3.requests.HEAD ?? 0;
    await again.put(record('api', 'healthy', T0 + 500));
    expect(puts()).toBe(before);
    expect(s3.requests.HEAD ?? 0).toBe(heads + 1);
    // an object written by someone else (no vigil metadata) is rewritten
    await raw.send(new PutObjectCommand({ Bucket: 'records', Key: 'restart/team-a/foreign-local.yaml', Body: 'kind: HealthRecord\n' }));
    await again.put(record('foreign'));
    expect(puts()).toBe(before + 2);
    expect(await object('restart/team-a/foreign-local.yaml')).toContain('state: healthy');
  });

  it('deletes a record; deleting an absent record after list() makes no request', async () => {
    const s = store();
    await s.init();
    await s.put(record('gone'));
    await s.delete({ namespace: 'team-a', name: 'gone-local' });
    expect(await object(`run-${bucketSeq}/team-a/gone-local.yaml`)).toBeUndefined();
    await s.list();
    const before = deletes();
    await s.delete({ namespace: 'team-a', name: 'never-there' });
    await s.delete({ namespace: 'team-a', name: 'gone-local' });
    expect(deletes()).toBe(before);
    // without a complete index, a delete of an unknown key is sent (S3 deletes are idempotent)
    const fresh = store({ path: `run-${bucketSeq}` });
    await fresh.delete({ namespace: 'team-a', name: 'never-there' });
    expect(deletes()).toBe(before + 1);
  });

  it('lists across pages and ignores objects that are not records', async () => {
    const s = store({ path: 'paged', listPageSize: 2 });
    await s.init();
    const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const n of names) await s.put(record(n));
    await raw.send(new PutObjectCommand({ Bucket: 'records', Key: 'paged/team-a/README.md', Body: 'not a record' }));
    await raw.send(new PutObjectCommand({ Bucket: 'records', Key: 'paged/team-a/notes.yaml', Body: 'kind: ConfigMap\n' }));
    await raw.send(new PutObjectCommand({ Bucket: 'records', Key: 'paged/deep/er/x.yaml', Body: 'kind: HealthRecord\n' }));
    await raw.send(new PutObjectCommand({ Bucket: 'records', Key: 'pagedother/team-a/z.yaml', Body: 'kind: HealthRecord\n' }));
    const listed = await s.list();
    expect(listed.map((r) => r.metadata.name)).toEqual(names.map((n) => `${n}-local`));
  });

  it('refuses an unknown access key, naming store.secretDir', async () => {
    const s = store({ auth: { kind: 'accessKey', accessKeyId: 'NOT-A-KEY', secretAccessKey: s3.secretAccessKey } });
    await expect(s.init()).rejects.toThrow(/^store\.secretDir: the accessKeyID was rejected by http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId/);
  });

  it('refuses a wrong secret key (the signature is verified), naming store.secretDir and never printing the secret', async () => {
    const refused = s3.refused.SignatureDoesNotMatch ?? 0;
    const s = store({ auth: { kind: 'accessKey', accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong-secret-value' } });
    const error = await s.init().then(() => undefined, (err: unknown) => err as Error);
    expect(error?.message).toMatch(/^store\.secretDir: the secretAccessKey does not match the accessKeyID at http:\/\/127\.0\.0\.1:\d+ \(SignatureDoesNotMatch\)$/);
    expect(error?.message).not.toContain('wrong-secret-value');
    expect(s3.refused.SignatureDoesNotMatch).toBe(refused + 1);
    // a put of an unknown key starts with a HEAD, whose 403 has no body to tell why
    await expect(s.put(record('x'))).rejects.toThrow(/^store\.secretDir: the accessKeyID\/secretAccessKey were refused by .* \(HTTP 403: wrong key, wrong secret or no permission\)$/);
  });

  it('reports a missing bucket naming store.bucketName', async () => {
    const s = store({ bucketName: 'no-such-bucket' });
    await expect(s.init()).rejects.toThrow(`store.bucketName: bucket "no-such-bucket" does not exist at ${s3.endpoint}`);
  });

  it('reports an endpoint nobody listens on naming store.endpoint', async () => {
    const port = await freePort();
    const s = store({ endpoint: `127.0.0.1:${port}`, maxAttempts: 1 });
    await expect(s.init()).rejects.toThrow(new RegExp(`^store\\.endpoint: cannot reach "http://127\\.0\\.0\\.1:${port}": ECONNREFUSED`));
  });

  it('refuses bad settings at construction naming the field', () => {
    const base = { bucketName: 'records', auth: { kind: 'IAM' as const }, logger: silentLogger() };
    expect(() => new BucketStateStore({ ...base, endpoint: 'http://h/some/path' })).toThrow(/^store\.endpoint: "http:\/\/h\/some\/path" must not have a path/);
    expect(() => new BucketStateStore({ ...base, endpoint: 'not a host' })).toThrow(/^store\.endpoint: "not a host" is not a host\[:port\]/);
    expect(() => new BucketStateStore({ ...base, endpoint: 'h', bucketName: 'Bad_Bucket' })).toThrow(/^store\.bucketName: "Bad_Bucket"/);
    expect(() => new BucketStateStore({ ...base, endpoint: 'h', path: '../up' })).toThrow(/^store\.path: "\.\.\/up"/);
    expect(() => new BucketStateStore({ ...base, endpoint: 'h', auth: { kind: 'accessKey', accessKeyId: '', secretAccessKey: 'x' } })).toThrow(/^store\.secretDir: /);
  });

  it('server down then back: through RecordDelivery (and InitOnUse) every record arrives, the newest version wins', async () => {
    await s3.down();
    const inner = store({ path: 'outage', maxAttempts: 1, requestTimeoutMs: 2000 });
    const wrapped = new InitOnUse(inner);
    const delivery = new RecordDelivery({ store: wrapped, logger: silentLogger(), retryMs: 50, maxRetryMs: 200 });
    try {
      for (let i = 0; i < 20; i++) delivery.put(record(`r${i}`, 'healthy', T0 + i));
      delivery.put(record('r0', 'unhealthy', T0 + 100));
      delivery.delete({ namespace: 'team-a', name: 'r19-local' });
      await new Promise((r) => setTimeout(r, 300));
      expect(delivery.pending).toBe(20);
      expect(delivery.lastError?.message).toMatch(/^store\.endpoint: cannot reach "http:\/\/127\.0\.0\.1:\d+": ECONNREFUSED/);
      await s3.up();
      expect(await delivery.flush(20_000)).toBe(true);
    } finally {
      delivery.close();
    }
    const listed = await wrapped.list();
    expect(listed).toHaveLength(19);
    expect(listed.find((r) => r.metadata.name === 'r0-local')?.data.state).toBe('unhealthy');
    expect(listed.some((r) => r.metadata.name === 'r19-local')).toBe(false);
  });
});

describe('BucketStateStore over https with a self-signed certificate', () => {
  let tls: S3Server;
  beforeAll(async () => { tls = await startS3({ buckets: ['records'], tls: true }); });
  afterAll(async () => { await tls.stop(); });

  const tlsStore = (endpoint: string, insecure: boolean): BucketStateStore => {
    const s = new BucketStateStore({ endpoint, insecure, bucketName: 'records', auth: { kind: 'accessKey', accessKeyId: tls.accessKeyId, secretAccessKey: tls.secretAccessKey }, logger: silentLogger(), maxAttempts: 1 });
    stores.push(s);
    return s;
  };

  it('refuses the certificate by default, naming store.endpoint and store.insecure', async () => {
    const s = tlsStore(tls.hostPort, false); // a host endpoint: https with verification
    await expect(s.init()).rejects.toThrow(/^store\.endpoint: TLS with https:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT: .*\); for a server without a trusted certificate set store\.insecure: true$/);
  });

  it('with an https:// endpoint and insecure: true, keeps TLS and skips verification', async () => {
    const s = tlsStore(tls.endpoint, true);
    await s.init();
    await s.put(record('tls'));
    expect((await s.list()).map((r) => r.metadata.name)).toEqual(['tls-local']);
    expect(s.describe()).toBe(`bucket records at ${tls.endpoint}`);
  });
});

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveRdsCheckConfig, runRdsCheck, stateForStatus } from '../../../check-images/rds/src/check.js';
import { startFakeRds, type FakeRds } from '../../support/fake-rds.js';

let fake: FakeRds;
beforeAll(async () => {
  fake = await startFakeRds();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.clearFailures();
  fake.instances.clear();
  fake.requests.length = 0;
});

const env = () => ({
  AWS_ACCESS_KEY_ID: fake.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: fake.credentials.secretAccessKey,
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL_RDS: fake.url,
});
const check = (raw: unknown, input: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}) =>
  runRdsCheck(resolveRdsCheckConfig(raw, input, { ...env(), ...extraEnv }));

describe('runRdsCheck against the RDS Query API fake (real @aws-sdk/client-rds)', () => {
  it('is healthy for an available instance, with the details the issue lists', async () => {
    fake.put({
      identifier: 'db1-default-postgres',
      status: 'available',
      engine: 'postgres',
      engineVersion: '16.3',
      instanceClass: 'db.t3.small',
      endpoint: { address: 'db1-default-postgres.abc.eu-west-1.rds.amazonaws.com', port: 5432 },
      multiAZ: true,
      pendingModifications: { DBInstanceClass: 'db.t3.medium' },
    });
    const result = await check({ identifier: 'db1-default-postgres' });
    expect(result).toEqual({
      state: 'healthy',
      details: {
        identifier: 'db1-default-postgres',
        region: 'eu-west-1',
        instanceStatus: 'available',
        engine: 'postgres',
        engineVersion: '16.3',
        endpoint: { address: 'db1-default-postgres.abc.eu-west-1.rds.amazonaws.com', port: 5432 },
        multiAZ: true,
        instanceClass: 'db.t3.small',
        pendingModifications: { DBInstanceClass: 'db.t3.medium' },
      },
    });
    expect(fake.requests).toEqual([
      expect.objectContaining({
        action: 'DescribeDBInstances',
        params: expect.objectContaining({ Version: '2014-10-31', DBInstanceIdentifier: 'db1-default-postgres' }),
        region: 'eu-west-1',
        accessKeyId: fake.credentials.accessKeyId,
        status: 200,
      }),
    ]);
  });

  it('computes <metadata.name>-<metadata.namespace>-<spec.engine> from a resource request', async () => {
    fake.put({ identifier: 'example-default-mysql', status: 'backing-up' });
    const rr = { apiVersion: 'aws.marketplace.kratix.io/v1alpha1', kind: 'RDS', metadata: { name: 'example', namespace: 'default' }, spec: { engine: 'mysql', size: 'micro' } };
    const result = await check(undefined, rr);
    expect(result.state).toBe('degraded');
    expect(result.details).toMatchObject({ identifier: 'example-default-mysql', instanceStatus: 'backing-up' });
    expect(result.details).not.toHaveProperty('endpoint');
  });

  it.each([
    ['modifying', 'degraded'],
    ['configuring-enhanced-monitoring', 'degraded'],
    ['creating', 'unknown'],
    ['stopped', 'unhealthy'],
    ['storage-full', 'unhealthy'],
    ['inaccessible-encryption-credentials-recoverable', 'unhealthy'],
  ])('maps status %s to %s', async (status, state) => {
    fake.put({ identifier: 'db', status });
    const result = await check({ identifier: 'db' });
    expect(result.state).toBe(state);
    expect(result.details!.instanceStatus).toBe(status);
    if (status === 'creating') expect(result.details).toMatchObject({ reason: 'Creating' });
  });

  it('is unhealthy when the instance does not exist (DBInstanceNotFound parsed by the SDK)', async () => {
    const result = await check({ identifier: 'gone' });
    expect(result).toEqual({
      state: 'unhealthy',
      details: { identifier: 'gone', region: 'eu-west-1', instanceStatus: 'not-found', reason: 'NotFound', message: 'DBInstance gone not found.' },
    });
    expect(fake.requests.map((r) => r.status)).toEqual([404]);
  });

  it('is unknown with reason Throttling when every attempt is throttled (the SDK retries)', async () => {
    fake.put({ identifier: 'db', status: 'available' });
    fake.failAlways('Throttling');
    const result = await check({ identifier: 'db', max_attempts: 2 });
    expect(result).toEqual({
      state: 'unknown',
      details: { identifier: 'db', region: 'eu-west-1', reason: 'Throttling', code: 'Throttling', message: 'Rate exceeded' },
    });
    expect(fake.requests.map((r) => r.status)).toEqual([400, 400]);
  });

  it('recovers from one throttled answer through the SDK retry', async () => {
    fake.put({ identifier: 'db', status: 'available' });
    fake.fail('Throttling');
    const result = await check({ identifier: 'db', max_attempts: 2 });
    expect(result.state).toBe('healthy');
    expect(fake.requests.map((r) => r.status)).toEqual([400, 200]);
  });

  it('is unknown with reason AccessDenied', async () => {
    fake.failAlways('AccessDenied');
    const result = await check({ identifier: 'db', max_attempts: 1 });
    expect(result.state).toBe('unknown');
    expect(result.details).toMatchObject({ reason: 'AccessDenied', code: 'AccessDenied', message: expect.stringContaining('not authorized') });
  });

  it('is unknown with reason InvalidCredentials for a key the service does not know, without printing the secret', async () => {
    const result = await check({ identifier: 'db', max_attempts: 1 }, {}, { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN', AWS_SECRET_ACCESS_KEY: 'super-secret-value' });
    expect(result.details).toMatchObject({ reason: 'InvalidCredentials', code: 'InvalidClientTokenId' });
    expect(JSON.stringify(result)).not.toContain('super-secret-value');
  });

  it('is unknown with reason Unreachable when nothing listens at the endpoint', async () => {
    const result = await check({ identifier: 'db', max_attempts: 1, endpoint: 'http://127.0.0.1:9' });
    expect(result.state).toBe('unknown');
    expect(result.details).toMatchObject({ reason: 'Unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('is unknown with reason Timeout when the endpoint never answers within the timeout', async () => {
    const hanging = http.createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hanging.address() as AddressInfo;
      const result = await check({ identifier: 'db', max_attempts: 1, timeout: 0.3, endpoint: `http://127.0.0.1:${port}` });
      expect(result).toEqual({ state: 'unknown', details: { identifier: 'db', region: 'eu-west-1', reason: 'Timeout', message: 'no answer from RDS within 300 ms (1 attempt(s))' } });
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('rejects with the abort reason when its signal is aborted', async () => {
    fake.put({ identifier: 'db', status: 'available' });
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(runRdsCheck(resolveRdsCheckConfig({ identifier: 'db' }, {}, env()), { signal: controller.signal })).rejects.toThrow('shutting down');
  });
});

describe('the SDK itself', () => {
  it('honours AWS_ENDPOINT_URL_RDS from the process environment (verified, not assumed)', async () => {
    fake.put({ identifier: 'db', status: 'available' });
    const before = process.env.AWS_ENDPOINT_URL_RDS;
    process.env.AWS_ENDPOINT_URL_RDS = fake.url;
    try {
      const client = new RDSClient({ region: 'eu-west-1', credentials: fake.credentials, maxAttempts: 1 });
      const answer = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db' }));
      client.destroy();
      expect(answer.DBInstances?.[0]?.DBInstanceStatus).toBe('available');
      expect(fake.requests).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_RDS;
      else process.env.AWS_ENDPOINT_URL_RDS = before;
    }
  });
});

describe('stateForStatus', () => {
  it('follows the README table', () => {
    expect(stateForStatus('available')).toEqual({ state: 'healthy' });
    for (const s of ['backing-up', 'modifying', 'upgrading', 'starting', 'rebooting', 'maintenance', 'configuring-log-exports', 'storage-optimization', 'renaming', 'resetting-master-credentials']) {
      expect(stateForStatus(s).state, s).toBe('degraded');
    }
    expect(stateForStatus('creating')).toEqual({ state: 'unknown', reason: 'Creating' });
    for (const s of ['stopped', 'stopping', 'failed', 'storage-full', 'incompatible-parameters', 'incompatible-network', 'inaccessible-encryption-credentials', 'deleting']) {
      expect(stateForStatus(s).state, s).toBe('unhealthy');
    }
    expect(stateForStatus('some-new-status')).toEqual({ state: 'unknown', reason: 'UnrecognisedStatus' });
  });
});

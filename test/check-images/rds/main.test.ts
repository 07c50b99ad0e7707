import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeRds, type FakeRds } from '../../support/fake-rds.js';
import { distFile, distMissing, makeTempDir, removeTempDir, spawnNode } from '../helpers.js';

const MAIN = 'check-images/rds/src/main.js';

describe.skipIf(distMissing(MAIN))('the RDS check image entry point (compiled, real process, real SDK)', () => {
  let fake: FakeRds;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await startFakeRds();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    dir = await makeTempDir();
    for (const sub of ['input', 'output', 'metadata']) await mkdir(join(dir, sub));
    env = {
      KRATIX_INPUT_DIR: join(dir, 'input'),
      KRATIX_OUTPUT_DIR: join(dir, 'output'),
      KRATIX_METADATA_DIR: join(dir, 'metadata'),
      // Keep the SDK's default chain away from this machine's files and instance metadata.
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_RDS: fake.url,
    };
  });
  afterEach(async () => {
    fake.instances.clear();
    fake.requests.length = 0;
    await removeTempDir(dir);
  });

  const keys = () => ({ AWS_ACCESS_KEY_ID: fake.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: fake.credentials.secretAccessKey });
  const run = (extra: Record<string, string> = {}) => spawnNode([distFile(MAIN)], { env: { ...env, ...extra } });
  const status = async () => parse(await readFile(join(dir, 'output', 'health-status.yaml'), 'utf8')) as Record<string, any>;

  it('describes the instance of the aws-rds resource request given as input', async () => {
    fake.put({ identifier: 'example-default-mysql', status: 'available', endpoint: { address: 'example.rds.local', port: 3306 } });
    await writeFile(
      join(dir, 'input', 'object.yaml'),
      'apiVersion: aws.marketplace.kratix.io/v1alpha1\nkind: RDS\nmetadata: {name: example, namespace: default}\nspec: {size: micro, dbName: superdb, engine: mysql}\n',
    );
    const result = await run(keys());
    expect(result.code).toBe(0);
    expect(await status()).toEqual({
      state: 'healthy',
      details: {
        identifier: 'example-default-mysql',
        region: 'eu-west-1',
        instanceStatus: 'available',
        engine: 'mysql',
        engineVersion: '8.0.35',
        endpoint: { address: 'example.rds.local', port: 3306 },
        multiAZ: false,
        instanceClass: 'db.t3.micro',
      },
    });
    expect(fake.requests[0]).toMatchObject({ region: 'eu-west-1', params: { DBInstanceIdentifier: 'example-default-mysql' } });
  });

  it('writes unknown with reason NoCredentials when the default chain finds none', async () => {
    const result = await run({ RDS_INSTANCE_IDENTIFIER: 'db' });
    expect(result.code).toBe(0);
    const file = await status();
    expect(file.state).toBe('unknown');
    expect(file.details).toMatchObject({ identifier: 'db', reason: 'NoCredentials' });
    expect(fake.requests).toHaveLength(0);
  });

  it('takes credentials and region from the shared config files of the default chain (AWS_PROFILE)', async () => {
    fake.put({ identifier: 'db', status: 'backing-up' });
    await writeFile(join(dir, 'credentials'), `[checks]\naws_access_key_id = ${fake.credentials.accessKeyId}\naws_secret_access_key = ${fake.credentials.secretAccessKey}\n`);
    await writeFile(join(dir, 'config'), '[profile checks]\nregion = ap-south-1\n');
    const { AWS_REGION: _region, ...withoutRegion } = env;
    env = withoutRegion;
    const result = await run({ RDS_INSTANCE_IDENTIFIER: 'db', AWS_PROFILE: 'checks', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') });
    expect(result.code, result.stderr).toBe(0);
    expect(await status()).toMatchObject({ state: 'degraded', details: { identifier: 'db', instanceStatus: 'backing-up' } });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ region: 'ap-south-1', status: 200 });
    expect(result.stderr).not.toContain(fake.credentials.secretAccessKey);
  });

  it('takes credentials from web identity (IRSA): AssumeRoleWithWebIdentity at STS with the token file', async () => {
    fake.put({ identifier: 'db', status: 'available' });
    const calls: string[] = [];
    const sts = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        calls.push(body);
        res.writeHead(200, { 'content-type': 'text/xml' }).end(
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>' +
            `<AccessKeyId>${fake.credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${fake.credentials.secretAccessKey}</SecretAccessKey>` +
            '<SessionToken>session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>' +
            '<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/checks/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>' +
            '</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>',
        );
      });
    });
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
    try {
      await writeFile(join(dir, 'token'), 'projected-service-account-jwt');
      const result = await run({
        RDS_INSTANCE_IDENTIFIER: 'db',
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'token'),
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/checks',
        AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(await status()).toMatchObject({ state: 'healthy', details: { identifier: 'db', instanceStatus: 'available' } });
      expect(calls).toHaveLength(1);
      expect(new URLSearchParams(calls[0])).toSatisfy((p: URLSearchParams) => p.get('Action') === 'AssumeRoleWithWebIdentity' && p.get('WebIdentityToken') === 'projected-service-account-jwt' && p.get('RoleArn') === 'arn:aws:iam::123456789012:role/checks');
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]).toMatchObject({ status: 200 });
    } finally {
      sts.close();
    }
  });

  it('exits 1 naming the field when the instance cannot be identified', async () => {
    const result = await run(keys());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rds\.identifier: is required/);
  });
});

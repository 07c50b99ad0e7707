import { describe, expect, it } from 'vitest';
import { CheckConfigError } from '../../../check-images/sdk/src/index.js';
import { resolveRdsCheckConfig } from '../../../check-images/rds/src/config.js';

const issues = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CheckConfigError);
    return (err as CheckConfigError).message.split('\n');
  }
  throw new Error('expected a CheckConfigError');
};

describe('resolveRdsCheckConfig', () => {
  it('prefers the explicit identifier, then RDS_INSTANCE_IDENTIFIER, then the resource request', () => {
    const rr = { metadata: { name: 'db1', namespace: 'team-a' }, spec: { engine: 'postgres' } };
    expect(resolveRdsCheckConfig({ identifier: 'explicit' }, rr, { RDS_INSTANCE_IDENTIFIER: 'fromenv' })).toMatchObject({ identifier: 'explicit', identifierFrom: 'config' });
    expect(resolveRdsCheckConfig(undefined, rr, { RDS_INSTANCE_IDENTIFIER: 'fromenv' })).toMatchObject({ identifier: 'fromenv', identifierFrom: 'env' });
    expect(resolveRdsCheckConfig(undefined, rr, {})).toMatchObject({ identifier: 'db1-team-a-postgres', identifierFrom: 'input' });
    // spec.engine defaults to mysql, as in the aws-rds Promise's CRD.
    expect(resolveRdsCheckConfig(undefined, { metadata: { name: 'example', namespace: 'default' } }, {}).identifier).toBe('example-default-mysql');
  });

  it('takes region, endpoint and static credentials from the environment it is given', () => {
    const cfg = resolveRdsCheckConfig({ identifier: 'db' }, {}, {
      AWS_DEFAULT_REGION: 'us-east-2',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ACCESS_KEY_ID: 'AKIA1',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_SESSION_TOKEN: 't',
    });
    expect(cfg).toEqual({
      identifier: 'db',
      identifierFrom: 'config',
      region: 'us-east-2',
      endpoint: 'http://127.0.0.1:4566',
      timeoutMs: 10_000,
      maxAttempts: 3,
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's', sessionToken: 't' },
    });
    expect(resolveRdsCheckConfig({ identifier: 'db', region: 'eu-west-1' }, { spec: { region: 'eu-central-1' } }, { AWS_REGION: 'us-east-1' }).region).toBe('eu-west-1');
    expect(resolveRdsCheckConfig({ identifier: 'db' }, { spec: { region: 'eu-central-1' } }, { AWS_REGION: 'us-east-1' }).region).toBe('eu-central-1');
    expect(resolveRdsCheckConfig({ identifier: 'db' }, {}, {}).credentials).toBeUndefined();
  });

  it('names every bad field and never repeats a credential', () => {
    const messages = issues(() =>
      resolveRdsCheckConfig({ identifier: '1bad_id', region: 'Mars', endpoint: 'ftp://x', timeout: -1, max_attempts: 1.5, extra: 1 }, {}, { AWS_SECRET_ACCESS_KEY: 'hidden' }),
    );
    expect(messages).toEqual([
      'rds.extra: unknown field (known: identifier, region, endpoint, timeout, max_attempts)',
      'rds.identifier: must be 1 to 63 letters, digits or hyphens, starting with a letter (an RDS DB instance identifier)',
      'rds.region: must be an AWS region such as eu-west-1',
      'rds.endpoint: must be an http(s) URL',
      'rds.timeout: must be a number from 0.001 to 300',
      'rds.max_attempts: must be an integer from 1 to 10',
    ]);
    expect(messages.join('\n')).not.toContain('hidden');
  });

  it('explains how to name the instance when it cannot be computed', () => {
    expect(issues(() => resolveRdsCheckConfig(undefined, { metadata: { name: 'x' } }, {}))[0]).toMatch(
      /^rds\.identifier: is required: set rds\.identifier or RDS_INSTANCE_IDENTIFIER, or give the resource request as input/,
    );
    expect(issues(() => resolveRdsCheckConfig('db', {}, {}))[0]).toMatch(/^rds: must be a mapping, found/);
  });
});

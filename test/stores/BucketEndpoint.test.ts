import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../agent/src/stores/bucket/endpoint.js';
import { describeBucketError } from '../../agent/src/stores/bucket/errors.js';

describe('bucket store endpoint (Kratix BucketStateStore semantics)', () => {
  it('a host without scheme is https, or http with insecure; AWS hosts are virtual-hosted with their region', () => {
    expect(resolveEndpoint('s3.eu-west-2.amazonaws.com', { env: {} })).toEqual({ url: 'https://s3.eu-west-2.amazonaws.com', skipTlsVerify: false, forcePathStyle: false, region: 'eu-west-2' });
    expect(resolveEndpoint('s3-us-gov-west-1.amazonaws.com', { env: {} }).region).toBe('us-gov-west-1');
    expect(resolveEndpoint('s3.dualstack.ap-south-1.amazonaws.com', { env: {} }).region).toBe('ap-south-1');
    expect(resolveEndpoint('minio.minio.svc:9000', { insecure: true, env: {} })).toEqual({ url: 'http://minio.minio.svc:9000', skipTlsVerify: false, forcePathStyle: true, region: 'us-east-1' });
    expect(resolveEndpoint('127.0.0.1:9000', { env: {} }).url).toBe('https://127.0.0.1:9000');
  });

  it('an explicit scheme is kept; https with insecure skips certificate verification', () => {
    expect(resolveEndpoint('https://minio.local:9000/', { insecure: true, env: {} })).toMatchObject({ url: 'https://minio.local:9000', skipTlsVerify: true, forcePathStyle: true });
    expect(resolveEndpoint('http://minio.local', { env: {} })).toMatchObject({ url: 'http://minio.local', skipTlsVerify: false });
  });

  it('the region is the setting, else the AWS host, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1', () => {
    expect(resolveEndpoint('s3.eu-west-2.amazonaws.com', { region: 'eu-central-1', env: {} }).region).toBe('eu-central-1');
    expect(resolveEndpoint('s3.amazonaws.com', { env: { AWS_REGION: 'ca-central-1' } }).region).toBe('ca-central-1');
    expect(resolveEndpoint('minio:9000', { env: { AWS_DEFAULT_REGION: 'eu-north-1' } }).region).toBe('eu-north-1');
    expect(resolveEndpoint('minio:9000', { env: {} }).region).toBe('us-east-1');
  });

  it('refuses what is not a host or an http(s) URL, naming store.endpoint', () => {
    expect(() => resolveEndpoint('')).toThrow(/^store\.endpoint: "" is empty/);
    expect(() => resolveEndpoint('ftp://h')).toThrow(/^store\.endpoint: "ftp:\/\/h" must be a host\[:port\] or an http\(s\):\/\/ URL/);
    expect(() => resolveEndpoint('https://key:secret@h')).toThrow(/must not contain credentials/);
    expect(() => resolveEndpoint('h/bucket')).toThrow(/is not a host\[:port\]/);
    expect(() => resolveEndpoint('https://h/bucket')).toThrow(/must not have a path/);
  });
});

describe('bucket store errors name the setting', () => {
  const ctx = { endpoint: 'https://s3.example', bucket: 'b', authMethod: 'accessKey' as const, operation: 'check the bucket' };
  it.each([
    [{ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }, /^store\.bucketName: bucket "b" does not exist at https:\/\/s3\.example$/],
    [{ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }, /^store\.secretDir: the accessKeyID was rejected/],
    [{ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }, /^store\.secretDir: the secretAccessKey does not match/],
    [{ name: 'AccessDenied', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }, /^store\.secretDir: the accessKeyID is not allowed to check the bucket in bucket "b"/],
    [{ name: 'AuthorizationHeaderMalformed', message: "the region 'us-east-1' is wrong; expecting 'eu-west-2'", $metadata: { httpStatusCode: 400 } }, /^store\.region: /],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), /^store\.endpoint: cannot reach "https:\/\/s3\.example": ECONNREFUSED/],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), /^store\.endpoint: TLS with https:\/\/s3\.example failed .* set store\.insecure: true/],
    [{ name: 'InternalError', message: 'boom', $metadata: { httpStatusCode: 503 } }, /^bucket store https:\/\/s3\.example: the server failed to check the bucket \(HTTP 503/],
  ])('%o', (err, pattern) => {
    expect(describeBucketError(err, ctx).message).toMatch(pattern);
  });

  it('IAM without credentials names store.authMethod', () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeBucketError(err, { ...ctx, authMethod: 'IAM' }).message).toMatch(/^store\.authMethod: IAM found no AWS credentials/);
  });
});

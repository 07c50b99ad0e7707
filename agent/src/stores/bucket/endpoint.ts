/**
 * The bucket store's `endpoint`, `insecure` and `region` settings turned into what the S3
 * client needs, with Kratix's BucketStateStore semantics:
 * - `endpoint` is a host (`s3.eu-west-2.amazonaws.com`, `minio.local:9000`); vigil also
 *   accepts an `http://` or `https://` URL.
 * - Without a scheme, `insecure: true` means plain http (Kratix: "skip TLS / use http");
 *   otherwise https with certificate verification. An explicit `https://` endpoint with
 *   `insecure: true` keeps TLS but skips certificate verification.
 * - Path-style addressing (`<endpoint>/<bucket>/<key>`) for every endpoint but AWS's own,
 *   as the MinIO client Kratix uses does.
 * - The region is the setting, else the one in an AWS endpoint's host name, else
 *   AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 (what MinIO and most S3-compatible
 *   servers accept).
 */

export interface ResolvedEndpoint {
  /** Base URL given to the S3 client, e.g. `https://s3.eu-west-2.amazonaws.com`. */
  url: string;
  /** Skip TLS certificate verification (https with insecure). */
  skipTlsVerify: boolean;
  forcePathStyle: boolean;
  region: string;
}

const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

export function resolveEndpoint(endpoint: string, options: { insecure?: boolean; region?: string; env?: NodeJS.ProcessEnv } = {}): ResolvedEndpoint {
  const raw = endpoint.trim();
  const bad = (why: string): Error => new Error(`store.endpoint: "${endpoint}" ${why}`);
  if (raw === '') throw bad('is empty; give a host such as s3.eu-west-2.amazonaws.com or 127.0.0.1:9000');
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    try {
      url = new URL(raw);
    } catch {
      throw bad('is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('must be a host[:port] or an http(s):// URL');
    if (url.username || url.password) throw bad('must not contain credentials; use store.secretDir (accessKeyID, secretAccessKey)');
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw bad('must not have a path, query or fragment; the bucket goes in store.bucketName and the prefix in store.path');
  } else {
    if (!HOST_PORT.test(raw)) throw bad('is not a host[:port] (no scheme, path or spaces), e.g. s3.eu-west-2.amazonaws.com or 127.0.0.1:9000');
    url = new URL(`${options.insecure ? 'http' : 'https'}://${raw}`);
  }
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) throw bad('has an invalid port');
  const host = url.hostname.toLowerCase();
  const aws = /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
  const env = options.env ?? process.env;
  const region = options.region?.trim() || regionOfAwsHost(host) || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return {
    url: `${url.protocol}//${url.host}`,
    skipTlsVerify: url.protocol === 'https:' && options.insecure === true,
    forcePathStyle: !aws,
    region,
  };
}

/** `s3.eu-west-2.amazonaws.com`, `s3-eu-west-2.amazonaws.com`, `s3.dualstack.eu-west-2.amazonaws.com` → `eu-west-2`. */
function regionOfAwsHost(host: string): string | undefined {
  const m = /(?:^|\.)s3(?:[.-]dualstack)?[.-]([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m?.[1];
}

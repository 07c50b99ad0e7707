/**
 * Turns what the S3 client throws into one clear sentence naming the setting to fix:
 * `store.endpoint` (unreachable, TLS), `store.bucketName` (no such bucket),
 * `store.secretDir` (accessKeyID / secretAccessKey rejected), `store.authMethod` (no IAM
 * credentials), `store.region` (wrong region). Never includes credentials.
 */

export interface BucketErrorContext {
  endpoint: string;
  bucket: string;
  authMethod: 'accessKey' | 'IAM';
  /** What was being done, e.g. `put team-a/web.yaml`. */
  operation: string;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout']);
const TLS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|wrong version number/i;

export function describeBucketError(err: unknown, ctx: BucketErrorContext): Error {
  const e = (err ?? {}) as SdkErrorShape;
  const code = e.Code ?? e.name ?? '';
  const sysCode = e.code ?? (e.cause as SdkErrorShape | undefined)?.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = oneLine(e.message ?? String(err));
  const where = ctx.endpoint;
  const creds = ctx.authMethod === 'IAM' ? 'store.authMethod: the IAM credentials' : 'store.secretDir: the accessKeyID';
  const wrap = (text: string): Error => new Error(text, { cause: err });

  if (code === 'NoSuchBucket' || (code === 'NotFound' && ctx.operation === 'check the bucket')) {
    return wrap(`store.bucketName: bucket "${ctx.bucket}" does not exist at ${where}`);
  }
  if (code === 'InvalidAccessKeyId') {
    return wrap(`${creds} ${ctx.authMethod === 'IAM' ? 'were' : 'was'} rejected by ${where} (InvalidAccessKeyId: the access key id is not known there)`);
  }
  if (code === 'SignatureDoesNotMatch') {
    return wrap(ctx.authMethod === 'IAM'
      ? `store.authMethod: the IAM credentials were rejected by ${where} (SignatureDoesNotMatch)`
      : `store.secretDir: the secretAccessKey does not match the accessKeyID at ${where} (SignatureDoesNotMatch)`);
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || code === 'AllAccessDisabled' || (status === 403 && code !== 'RequestTimeTooSkewed')) {
    // A HEAD answer has no body: S3 cannot say whether the key, the signature or the policy is wrong.
    const known = code !== '' && code !== 'Unknown' && code !== 'Forbidden';
    const subject = ctx.authMethod === 'IAM' ? 'store.authMethod: the IAM credentials were' : 'store.secretDir: the accessKeyID/secretAccessKey were';
    return wrap(known
      ? `${creds} ${ctx.authMethod === 'IAM' ? 'are' : 'is'} not allowed to ${ctx.operation} in bucket "${ctx.bucket}" at ${where} (${code}: ${message})`
      : `${subject} refused by ${where} when trying to ${ctx.operation} in bucket "${ctx.bucket}" (HTTP 403: wrong key, wrong secret or no permission)`);
  }
  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return wrap(`store.authMethod: IAM found no AWS credentials (environment, web identity token, shared config, container or instance metadata): ${message}`);
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || code === 'IllegalLocationConstraintException') {
    return wrap(`store.region: bucket "${ctx.bucket}" is in another region than the one vigil signs for (${code}: ${message})`);
  }
  if (code === 'RequestTimeTooSkewed') {
    return wrap(`bucket store ${where}: the system clock differs too much from the server's (RequestTimeTooSkewed)`);
  }
  if (TLS.test(sysCode) || TLS.test(code) || /certificate|ssl|tls/i.test(message)) {
    return wrap(`store.endpoint: TLS with ${where} failed (${sysCode || code}: ${message}); for a server without a trusted certificate set store.insecure: true`);
  }
  if (NETWORK.has(sysCode) || NETWORK.has(code) || /socket hang up|connect E|getaddrinfo/i.test(message)) {
    return wrap(`store.endpoint: cannot reach "${where}": ${sysCode || code}${message && !message.includes(sysCode || code) ? ` (${message})` : ''}`);
  }
  if (status !== undefined && status >= 500) {
    return wrap(`bucket store ${where}: the server failed to ${ctx.operation} (HTTP ${status} ${code}: ${message})`);
  }
  if (status !== undefined && (code === 'Unknown' || code === 'UnknownError' || code === '' || /Deserialization|char '.'|non-whitespace/i.test(message))) {
    return wrap(`store.endpoint: "${where}" did not answer like an S3 server (HTTP ${status}: ${message})`);
  }
  return wrap(`bucket store ${where}: cannot ${ctx.operation}: ${code ? `${code}: ` : ''}${message}`);
}

function oneLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * A real S3-compatible server on loopback for tests: s3rver (a Koa implementation of the
 * S3 REST API storing objects on disk) behind a thin front that verifies AWS Signature V4.
 *
 * Why the front: s3rver checks that the access key id exists, but does not verify V4
 * signatures (its source says "Signature version 4 calculation is unimplemented"), so a
 * wrong secret key would be accepted. The front recomputes every request's signature with
 * the AWS SDK's own signer (@smithy/signature-v4, the code @aws-sdk/client-s3 signs with)
 * and the configured secret, and answers 403 `SignatureDoesNotMatch` (or
 * `InvalidAccessKeyId`) in S3's XML format before anything reaches s3rver. It also checks
 * that a signed payload hash matches the body. Everything else is s3rver's real protocol.
 *
 * The front can be stopped and started again on the same port (a store outage); s3rver's
 * objects live on disk meanwhile.
 *
 * s3rver runs in its own Node process started with `--openssl-legacy-provider`: its
 * ListObjectsV2 continuation tokens are DES-encrypted, which OpenSSL 3 only offers through
 * the legacy provider (without it every truncated listing fails with HTTP 500).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';

export interface S3ServerOptions {
  /** Buckets created at start. Default `['records']`. */
  buckets?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Serve the front over https with a throwaway self-signed certificate for 127.0.0.1 (made with openssl). */
  tls?: boolean;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` of the verifying front. */
  endpoint: string;
  /** `127.0.0.1:<port>`, the form Kratix's BucketStateStore.endpoint takes. */
  hostPort: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Requests that reached s3rver, by method (`PUT`, `GET`, `DELETE`, `HEAD`...). */
  requests: Record<string, number>;
  /** Requests the front refused, by S3 error code. */
  refused: Record<string, number>;
  /** Stops accepting connections (existing ones are cut); objects stay on disk. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** A SHA-256 implementation with the shape the smithy signer expects. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * The s3rver process: registers the access key with s3rver's account registry (it only knows
 * S3RVER/S3RVER by default), creates the buckets, prints `{"port":N}` once listening.
 */
const BACKEND_SCRIPT = `
const S3rver = require(process.env.S3RVER_MODULE);
const account = require(require('node:path').join(require('node:path').dirname(process.env.S3RVER_MODULE), 'models', 'account.js'));
account.DUMMY_ACCOUNT.createKeyPair(process.env.S3_KEY_ID, process.env.S3_SECRET);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3RVER_DIR,
  configureBuckets: JSON.parse(process.env.S3RVER_BUCKETS).map((name) => ({ name })) });
server.run().then((address) => { process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'); },
  (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => { server.close().then(() => process.exit(0)); });
`;

/** Starts s3rver in a child process; resolves with its port. */
async function startBackend(directory: string, buckets: string[], accessKeyId: string, secretAccessKey: string): Promise<{ port: number; child: ChildProcess }> {
  const require = createRequire(import.meta.url);
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', BACKEND_SCRIPT], {
    env: { ...process.env, S3RVER_MODULE: require.resolve('s3rver'), S3RVER_DIR: directory, S3RVER_BUCKETS: JSON.stringify(buckets), S3_KEY_ID: accessKeyId, S3_SECRET: secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`s3rver did not start: ${err}`)); }, 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`s3rver exited (${String(code)}): ${err}`)); });
  });
  return { port, child };
}

function s3Error(res: ServerResponse, status: number, code: string, message: string, method: string | undefined): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>front</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': 'front' });
  res.end(method === 'HEAD' ? undefined : body);
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** Verifies the request's SigV4 signature; returns an S3 error code, or undefined when it is good. */
async function verify(req: IncomingMessage, body: Buffer, keys: Map<string, string>): Promise<string | undefined> {
  const auth = AUTH.exec(req.headers.authorization ?? '');
  if (!auth) return 'AccessDenied';
  const [, accessKeyId, , region, signedHeaders, signature] = auth as unknown as [string, string, string, string, string, string];
  const secretAccessKey = keys.get(accessKeyId);
  if (secretAccessKey === undefined) return 'InvalidAccessKeyId';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return 'AccessDenied';
  const signingDate = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) {
    const value = req.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const url = new URL(req.url ?? '/', 'http://front');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash && /^[0-9a-f]{64}$/.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash) return 'XAmzContentSHA256Mismatch';
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: 'front', path: decodeURIComponent(url.pathname), query, headers },
    { signingDate, signingRegion: region, signingService: 's3' },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const ok = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return ok ? undefined : 'SignatureDoesNotMatch';
}

/** A self-signed certificate for 127.0.0.1 (openssl), written to `dir`. */
function selfSignedCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, 'front.key');
  const cert = join(dir, 'front.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** Starts s3rver and its verifying front on free loopback ports. */
export async function startS3(options: S3ServerOptions = {}): Promise<S3Server> {
  const accessKeyId = options.accessKeyId ?? 'VIGILTESTKEY';
  const secretAccessKey = options.secretAccessKey ?? 'vigil-test-secret-key';
  const keys = new Map([[accessKeyId, secretAccessKey]]);
  const directory = mkdtempSync(join(tmpdir(), 'vigil-s3-'));
  const backend = await startBackend(directory, options.buckets ?? ['records'], accessKeyId, secretAccessKey);
  const backendPort = backend.port;
  const requests: Record<string, number> = {};
  const refused: Record<string, number> = {};

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void verify(req, body, keys).then((problem) => {
        if (problem) {
          refused[problem] = (refused[problem] ?? 0) + 1;
          const message = problem === 'SignatureDoesNotMatch'
            ? 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'
            : problem === 'InvalidAccessKeyId' ? 'The AWS Access Key Id you provided does not exist in our records.' : 'Access Denied';
          s3Error(res, 403, problem, message, req.method);
          return;
        }
        const method = req.method ?? 'GET';
        requests[method] = (requests[method] ?? 0) + 1;
        const upstream = httpRequest({ host: '127.0.0.1', port: backendPort, method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on('error', (err) => { res.destroy(err); });
        upstream.end(body);
      }, (err: unknown) => { s3Error(res, 500, 'InternalError', (err as Error).message, req.method); });
    });
  };

  let server: Server | undefined;
  let port = 0;
  const tlsDir = options.tls ? mkdtempSync(join(tmpdir(), 'vigil-s3-tls-')) : undefined;
  const tls = tlsDir ? selfSignedCertificate(tlsDir) : undefined;
  const listen = (): Promise<void> => new Promise((resolve, reject) => {
    const s = tls ? createHttpsServer(tls, handler) : createServer(handler);
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      port = (s.address() as AddressInfo).port;
      server = s;
      resolve();
    });
  });
  const down = (): Promise<void> => new Promise((resolve) => {
    const s = server;
    server = undefined;
    if (!s) { resolve(); return; }
    s.close(() => { resolve(); });
    s.closeAllConnections();
  });
  await listen();

  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    port,
    accessKeyId,
    secretAccessKey,
    requests,
    refused,
    down,
    up: listen,
    stop: async () => {
      await down();
      if (backend.child.exitCode === null && backend.child.signalCode === null) {
        const exited = new Promise((resolve) => { backend.child.once('exit', resolve); });
        backend.child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
      if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
    },
  };
}

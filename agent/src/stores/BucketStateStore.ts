/**
 * Bucket state store: HealthRecords are objects `<path>/<namespace>/<name>.yaml` in an
 * S3-compatible bucket (AWS S3, MinIO, Ceph RGW, GCS interop...), the git store's layout
 * and YAML, so Flux's `Bucket` source (or anything reading the bucket) applies them.
 *
 * Write on change, as the git store: a put whose state and details equal the stored object
 * (and whose stored lastRun is younger than `heartbeatMs`) makes no request. What is stored
 * is known from an in-memory index seeded by `list()` (which reads every record) and kept
 * up to date by every write; a key the index does not know is looked up with one HEAD, whose
 * metadata (`x-amz-meta-vigil-digest`, `-vigil-lastrun`) says what the object holds.
 * Deleting a record deletes its object; deleting an absent record makes no request once the
 * index is complete.
 *
 * `init()` checks the endpoint, the credentials and the bucket with one ListObjectsV2; errors
 * name the setting to fix (see bucket/errors.ts). Wrap the store in InitOnUse so that a store
 * unreachable at start is retried on use while records wait in the outbox.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { systemClock, type Clock, type RecordRef, type StateStore } from '../core/interfaces.js';
import { HEALTH_RECORD_KIND, type HealthRecord } from '../core/model.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../core/naming.js';
import { isMapping } from '../core/pipeline.js';
import { parseYamlDocument, toYaml } from '../core/yaml.js';
import { resolveEndpoint, type ResolvedEndpoint } from './bucket/endpoint.js';
import { describeBucketError } from './bucket/errors.js';
import { contentDigest, normaliseStorePath, unchangedDigestAndFresh } from './write-on-change.js';
import { RequestLimiter } from './RequestLimiter.js';

/** How the store authenticates: Kratix's `authMethod` with the Secret's keys. */
export type BucketAuth =
  | { kind: 'accessKey'; accessKeyId: string; secretAccessKey: string }
  /** The AWS SDK's default credential chain: env, web identity (IRSA), SSO, shared files, ECS, EC2 IMDS. */
  | { kind: 'IAM' };

export interface BucketStateStoreOptions {
  /** Host[:port] (Kratix form) or an http(s) URL. */
  endpoint: string;
  bucketName: string;
  /** Prefix inside the bucket. Default: the bucket root. */
  path?: string;
  /** Without a scheme in `endpoint`: plain http. With https: skip certificate verification. */
  insecure?: boolean;
  /** Signing region; default from an AWS endpoint host, AWS_REGION, or us-east-1. */
  region?: string;
  auth: BucketAuth;
  logger: Logger;
  /** An unchanged record is still rewritten once its stored lastRun is this old. Default one hour. */
  heartbeatMs?: number;
  clock?: Clock;
  /** Objects read at once by list(). Default 16. */
  listConcurrency?: number;
  /** Limit of one request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request inside the SDK (RecordDelivery retries on top). Default 2. */
  maxAttempts?: number;
  /** Objects larger than this are not read by list(). Default 1 MiB. */
  maxObjectBytes?: number;
  /** Keys per ListObjectsV2 page. Default 1000 (the S3 maximum). */
  listPageSize?: number;
  /**
   * Requests in flight at once; the others wait their turn here, not in the HTTP agent's
   * socket queue where the connection timeout would already be running. Default 32.
   */
  maxConcurrentRequests?: number;
}

interface Known {
  digest: string;
  lastRun: number;
}

const META_DIGEST = 'vigil-digest';
const META_LAST_RUN = 'vigil-lastrun';

export class BucketStateStore implements StateStore {
  readonly kind = 'bucket';
  private readonly endpoint: ResolvedEndpoint;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly auth: BucketAuth;
  private readonly logger: Logger;
  private readonly heartbeatMs: number;
  private readonly clock: Clock;
  private readonly listConcurrency: number;
  private readonly maxObjectBytes: number;
  private readonly listPageSize: number;
  private readonly maxConcurrent: number;
  private readonly limiter: RequestLimiter;
  private readonly client: S3Client;
  /** What the bucket holds per key: a version, or null for known absent. */
  private index = new Map<string, Known | null>();
  /** True once list() has read the whole prefix: a key missing from the index is absent. */
  private indexComplete = false;
  private closed = false;

  constructor(options: BucketStateStoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucketName) || options.bucketName.includes('..')) {
      throw new Error(`store.bucketName: "${options.bucketName}" is not a valid bucket name (3-63 lower-case letters, digits, '.' and '-')`);
    }
    this.endpoint = resolveEndpoint(options.endpoint, { ...(options.insecure !== undefined ? { insecure: options.insecure } : {}), ...(options.region !== undefined ? { region: options.region } : {}) });
    this.bucket = options.bucketName;
    const path = normaliseStorePath(options.path ?? '');
    this.prefix = path === '' ? '' : `${path}/`;
    this.auth = options.auth;
    if (this.auth.kind === 'accessKey' && (this.auth.accessKeyId === '' || this.auth.secretAccessKey === '')) {
      throw new Error('store.secretDir: accessKeyID and secretAccessKey must not be empty for authMethod accessKey');
    }
    this.logger = options.logger.child({ store: 'bucket', endpoint: this.endpoint.url, bucket: this.bucket });
    this.heartbeatMs = options.heartbeatMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
    this.listConcurrency = options.listConcurrency ?? 16;
    this.maxObjectBytes = options.maxObjectBytes ?? 1024 * 1024;
    this.listPageSize = options.listPageSize ?? 1000;
    this.maxConcurrent = Math.max(1, options.maxConcurrentRequests ?? 32);
    this.limiter = new RequestLimiter(this.maxConcurrent);
    const config: S3ClientConfig = {
      endpoint: this.endpoint.url,
      region: this.endpoint.region,
      forcePathStyle: this.endpoint.forcePathStyle,
      maxAttempts: options.maxAttempts ?? 2,
      // S3-compatible servers (MinIO before 2023, Ceph, s3rver...) do not all accept the
      // SDK's default CRC32 checksums or aws-chunked uploads: checksum only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
        requestTimeout: options.requestTimeoutMs ?? 30_000,
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets: this.maxConcurrent }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: this.maxConcurrent, ...(this.endpoint.skipTlsVerify ? { rejectUnauthorized: false } : {}) }),
      },
      ...(this.auth.kind === 'accessKey' ? { credentials: { accessKeyId: this.auth.accessKeyId, secretAccessKey: this.auth.secretAccessKey } } : {}),
    };
    this.client = new S3Client(config);
  }

  describe(): string {
    return `bucket ${this.bucket} at ${this.endpoint.url}${this.prefix ? ` (path ${this.prefix.slice(0, -1)})` : ''}`;
  }

  /** Checks endpoint, credentials and bucket with one ListObjectsV2 (clear errors naming the setting). */
  async init(): Promise<void> {
    this.assertOpen();
    await this.call(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 })), 'check the bucket');
    this.logger.info({ path: this.prefix, region: this.endpoint.region, pathStyle: this.endpoint.forcePathStyle, authMethod: this.auth.kind }, 'bucket state store ready');
  }

  /** The object key of a record. Throws on names that are not valid Kubernetes names. */
  keyOf(ref: RecordRef): string {
    const nsProblem = dns1123LabelProblem(ref.namespace);
    if (nsProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.namespace: ${nsProblem}`);
    const nameProblem = dns1123SubdomainProblem(ref.name);
    if (nameProblem) throw new Error(`record ${ref.namespace}/${ref.name}: metadata.name: ${nameProblem}`);
    return `${this.prefix}${ref.namespace}/${ref.name}.yaml`;
  }

  async put(record: HealthRecord): Promise<void> {
    this.assertOpen();
    const key = this.keyOf(record.metadata);
    const known = await this.knownVersion(key);
    if (unchangedDigestAndFresh(known ?? undefined, record, this.clock.now(), this.heartbeatMs)) return;
    const digest = contentDigest(record.data.state, record.data.details);
    await this.call(() => this.client.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: toYaml(record),
      ContentType: 'application/yaml',
      Metadata: { [META_DIGEST]: digest, [META_LAST_RUN]: String(record.data.lastRun ?? 0) },
    })), `put ${key}`);
    this.index.set(key, { digest, lastRun: record.data.lastRun ?? 0 });
  }

  async delete(ref: RecordRef): Promise<void> {
    this.assertOpen();
    const key = this.keyOf(ref);
    const known = this.index.get(key);
    if (known === null || (known === undefined && this.indexComplete)) return;
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })), `delete ${key}`);
    this.index.set(key, null);
  }

  /** Every record under `path` (ListObjectsV2, paginated; objects read `listConcurrency` at a time). */
  async list(): Promise<HealthRecord[]> {
    this.assertOpen();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const input = { Bucket: this.bucket, Prefix: this.prefix, MaxKeys: this.listPageSize, ...(token ? { ContinuationToken: token } : {}) };
      const page = await this.call(() => this.client.send(new ListObjectsV2Command(input)), 'list objects');
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !this.isRecordKey(object.Key)) continue;
        if ((object.Size ?? 0) > this.maxObjectBytes) {
          this.logger.warn({ key: object.Key, bytes: object.Size }, 'ignoring an object in the state store larger than a record can be');
          continue;
        }
        keys.push(object.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    const index = new Map<string, Known | null>();
    const records: HealthRecord[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const record = await this.read(key);
        if (record === undefined) continue;
        records.push(record);
        index.set(key, { digest: contentDigest(record.data.state, record.data.details), lastRun: typeof record.data.lastRun === 'number' ? record.data.lastRun : 0 });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.listConcurrency, keys.length) }, worker));
    // Writes that finished while listing are newer than what was read.
    const listed = new Set(keys);
    for (const [key, value] of this.index) if (!listed.has(key) || value === null) index.set(key, value);
    this.index = index;
    this.indexComplete = true;
    return records.sort((a, b) => (this.keyOf(a.metadata) < this.keyOf(b.metadata) ? -1 : 1));
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.client.destroy();
    }
    return Promise.resolve();
  }

  // ------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.closed) throw new Error(`bucket state store ${this.describe()}: closed`);
  }

  /** `<prefix><namespace>/<name>.yaml` with valid names: anything else in the bucket is not ours. */
  private isRecordKey(key: string): boolean {
    if (!key.startsWith(this.prefix) || !key.endsWith('.yaml')) return false;
    const parts = key.slice(this.prefix.length, -'.yaml'.length).split('/');
    return parts.length === 2 && dns1123LabelProblem(parts[0]!) === undefined && dns1123SubdomainProblem(parts[1]!) === undefined;
  }

  /** What the bucket holds at `key` (null: absent), from the index or one HEAD. */
  private async knownVersion(key: string): Promise<Known | null> {
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.indexComplete) return null;
    let head;
    try {
      head = await this.limited(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) {
        this.index.set(key, null);
        return null;
      }
      throw this.error(err, `read ${key}`);
    }
    const digest = head.Metadata?.[META_DIGEST];
    const lastRun = Number(head.Metadata?.[META_LAST_RUN]);
    // Written by something else than vigil: its content is unknown, so it is rewritten.
    if (digest === undefined || !Number.isFinite(lastRun)) return null;
    const version = { digest, lastRun };
    this.index.set(key, version);
    return version;
  }

  /** Reads and checks one object; undefined (with a warning) when it is not a HealthRecord. */
  private async read(key: string): Promise<HealthRecord | undefined> {
    let text: string;
    try {
      text = await this.limited(async () => {
        const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return (await object.Body?.transformToString('utf8')) ?? '';
      });
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined; // deleted meanwhile
      throw this.error(err, `read ${key}`);
    }
    try {
      const value = parseYamlDocument(text);
      if (isMapping(value) && value.kind === HEALTH_RECORD_KIND && isMapping(value.metadata) && isMapping(value.data)) return value as unknown as HealthRecord;
      this.logger.warn({ key }, 'ignoring an object in the state store that is not a HealthRecord');
    } catch (err) {
      this.logger.warn({ key, err: (err as Error).message }, 'ignoring an unreadable object in the state store');
    }
    return undefined;
  }

  /** Runs `request` once fewer than maxConcurrentRequests are in flight. */
  private limited<T>(request: () => Promise<T>): Promise<T> {
    return this.limiter.run(request);
  }

  private async call<T>(request: () => Promise<T>, operation: string): Promise<T> {
    try {
      return await this.limited(request);
    } catch (err) {
      throw this.error(err, operation);
    }
  }

  private error(err: unknown, operation: string): Error {
    return describeBucketError(err, { endpoint: this.endpoint.url, bucket: this.bucket, authMethod: this.auth.kind, operation });
  }
}

/**
 * A wire-level fake of the Amazon RDS Query API for tests: a real HTTP server on
 * 127.0.0.1 that accepts what `@aws-sdk/client-rds` sends (form-encoded POST,
 * `Action=DescribeDBInstances`, `Version=2014-10-31`, a SigV4 `Authorization` header)
 * and answers with the XML the real SDK parses, including the error documents
 * (`<ErrorResponse><Error><Code>...`) its error parser turns into typed exceptions:
 * `DBInstanceNotFound` (404, DBInstanceNotFoundFault), `Throttling` (400) and
 * `AccessDenied` (403).
 *
 * Point a client at it with `endpoint: fake.url` or `AWS_ENDPOINT_URL_RDS=<fake.url>`,
 * and give it the fake's credentials (`fake.credentials`).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export const RDS_API_VERSION = '2014-10-31';
const XMLNS = `http://rds.amazonaws.com/doc/${RDS_API_VERSION}/`;

/** One DB instance as the fake holds it; rendered into a `<DBInstance>` element. */
export interface FakeDbInstance {
  identifier: string;
  /** DBInstanceStatus, e.g. available, creating, backing-up, stopped. */
  status: string;
  engine?: string;
  engineVersion?: string;
  instanceClass?: string;
  /** Absent while an instance is being created, as in AWS. */
  endpoint?: { address: string; port: number };
  multiAZ?: boolean;
  /** PendingModifiedValues children, e.g. {DBInstanceClass: 'db.t3.small'}. */
  pendingModifications?: Record<string, string | number | boolean>;
}

/** Scripted API errors, answered instead of the real result. */
export type FakeRdsFailure = 'Throttling' | 'AccessDenied' | 'InternalFailure';

const FAILURES: Record<FakeRdsFailure, { status: number; type: 'Sender' | 'Receiver'; message: string }> = {
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  AccessDenied: {
    status: 403,
    type: 'Sender',
    message: 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: rds:DescribeDBInstances',
  },
  InternalFailure: { status: 500, type: 'Receiver', message: 'An internal error has occurred' },
};

/** What the fake saw of one request. */
export interface FakeRdsRequest {
  action: string | undefined;
  params: Record<string, string>;
  /** From the SigV4 credential scope, e.g. eu-west-1. */
  region: string | undefined;
  accessKeyId: string | undefined;
  status: number;
}

export interface FakeRds {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The only credentials the fake accepts (others get InvalidClientTokenId). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  instances: Map<string, FakeDbInstance>;
  requests: FakeRdsRequest[];
  put(instance: FakeDbInstance): void;
  /** The next `times` requests fail with this error (default 1). */
  fail(failure: FakeRdsFailure, times?: number): void;
  /** Every request from now on fails with this error, until clearFailures(). */
  failAlways(failure: FakeRdsFailure): void;
  clearFailures(): void;
  close(): Promise<void>;
}

export interface FakeRdsOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Starts the fake on 127.0.0.1, a free port. */
export async function startFakeRds(opts: FakeRdsOptions = {}): Promise<FakeRds> {
  const credentials = { accessKeyId: opts.accessKeyId ?? 'AKIAFAKERDS000000001', secretAccessKey: opts.secretAccessKey ?? 'fake-rds-secret-key' };
  const instances = new Map<string, FakeDbInstance>();
  const requests: FakeRdsRequest[] = [];
  const queued: FakeRdsFailure[] = [];
  let always: FakeRdsFailure | undefined;

  /** The status and XML body for one request. */
  const answer = (req: http.IncomingMessage, params: Record<string, string>, scope: RegExpExecArray | null): [number, string] => {
    const error = (status: number, code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): [number, string] => [
      status,
      errorXml(code, message, type),
    ];
    if (req.method !== 'POST') return error(400, 'InvalidAction', `The HTTP method ${req.method ?? ''} is not supported`);
    if (!/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      return error(400, 'MalformedQueryString', 'expected a form-encoded body');
    }
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ') || !scope) {
      return error(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    }
    if (scope[1] !== credentials.accessKeyId) {
      return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    if (params.Version !== RDS_API_VERSION) return error(400, 'InvalidParameterValue', `Unsupported Version ${params.Version ?? '(none)'}`);
    const failure = queued.shift() ?? always;
    if (failure) {
      const f = FAILURES[failure];
      return error(f.status, failure, f.message, f.type);
    }
    if (params.Action !== 'DescribeDBInstances') {
      return error(400, 'InvalidAction', `The action ${params.Action ?? '(none)'} is not valid for this web service.`);
    }
    const id = params.DBInstanceIdentifier;
    if (id === undefined) return [200, describeXml([...instances.values()])];
    const found = instances.get(id);
    return found ? [200, describeXml([found])] : error(404, 'DBInstanceNotFound', `DBInstance ${id} not found.`);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const params = Object.fromEntries(new URLSearchParams(body));
      const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/rds\/aws4_request/.exec(req.headers.authorization ?? '');
      const seen: FakeRdsRequest = { action: params.Action, params, region: scope?.[2], accessKeyId: scope?.[1], status: 200 };
      requests.push(seen);
      const [status, xml] = answer(req, params, scope);
      seen.status = status;
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      res.end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    credentials,
    instances,
    requests,
    put: (instance) => instances.set(instance.identifier, instance),
    fail: (failure, times = 1) => {
      for (let i = 0; i < times; i += 1) queued.push(failure);
    },
    failAlways: (failure) => {
      always = failure;
    },
    clearFailures: () => {
      always = undefined;
      queued.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function describeXml(list: readonly FakeDbInstance[]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeDBInstancesResponse xmlns="${XMLNS}">` +
    `<DescribeDBInstancesResult><DBInstances>${list.map(instanceXml).join('')}</DBInstances></DescribeDBInstancesResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`
  );
}

function instanceXml(i: FakeDbInstance): string {
  const el = (name: string, value: string | number | boolean | undefined): string =>
    value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
  const pending = Object.entries(i.pendingModifications ?? {})
    .map(([k, v]) => el(k, v))
    .join('');
  return (
    '<DBInstance>' +
    el('DBInstanceIdentifier', i.identifier) +
    el('DBInstanceClass', i.instanceClass ?? 'db.t3.micro') +
    el('Engine', i.engine ?? 'mysql') +
    el('DBInstanceStatus', i.status) +
    el('MasterUsername', 'admin') +
    (i.endpoint ? `<Endpoint>${el('Address', i.endpoint.address)}${el('Port', i.endpoint.port)}${el('HostedZoneId', 'Z29XKXDKYMONMX')}</Endpoint>` : '') +
    el('AllocatedStorage', 20) +
    `<PendingModifiedValues>${pending}</PendingModifiedValues>` +
    el('MultiAZ', i.multiAZ ?? false) +
    el('EngineVersion', i.engineVersion ?? '8.0.35') +
    el('DBInstanceArn', `arn:aws:rds:eu-west-1:123456789012:db:${i.identifier}`) +
    '</DBInstance>'
  );
}

function errorXml(code: string, message: string, type: 'Sender' | 'Receiver'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

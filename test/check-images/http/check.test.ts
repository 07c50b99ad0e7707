import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_STATUS_BYTES,
  evaluateTarget,
  parseHttpCheckConfig,
  redact,
  runHttpCheck,
  type TargetReport,
} from '../../../check-images/http/src/check.js';
import { serializeStatus } from '../../../check-images/sdk/src/index.js';
import { makeTempDir, removeTempDir } from '../helpers.js';
import { closedPort, opensslMissing, reply, selfSignedCertificate, startServer, type TestServer } from './servers.js';

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const check = (raw: unknown, opts: Parameters<typeof runHttpCheck>[1] = {}) => runHttpCheck(parseHttpCheckConfig(raw), opts);
const targetsOf = (details: Record<string, unknown> | undefined) => details!.targets as TargetReport[];

describe('runHttpCheck against real HTTP servers', () => {
  it('is healthy when every target answers as expected', async () => {
    const s = await server(reply(200, 'ok'));
    const result = await check({ config: [{ url: `${s.url}/a` }, { url: `${s.url}/b` }] });
    expect(result.state).toBe('healthy');
    expect(result.details!.summary).toEqual({ total: 2, ok: 2, failed: 0 });
    expect(targetsOf(result.details)).toEqual([
      { url: `${s.url}/a`, ok: true, status_code: 200, latency_ms: expect.any(Number) },
      { url: `${s.url}/b`, ok: true, status_code: 200, latency_ms: expect.any(Number) },
    ]);
    expect(s.requests.map((r) => [r.method, r.url, r.headers['user-agent']])).toEqual([
      ['GET', '/a', 'vigil-http-check'],
      ['GET', '/b', 'vigil-http-check'],
    ]);
  });

  it('is degraded when one of two targets fails', async () => {
    const s = await server((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200).end();
    });
    const result = await check([{ url: `${s.url}/up` }, { url: `${s.url}/missing` }]);
    expect(result.state).toBe('degraded');
    expect(result.details!.summary).toEqual({ total: 2, ok: 1, failed: 1 });
    expect(targetsOf(result.details)[1]).toMatchObject({ ok: false, status_code: 404, failed_checks: ['status 404 is not 200'] });
  });

  it('is unhealthy when every target fails', async () => {
    const s = await server(reply(503, 'down'));
    const result = await check([{ url: `${s.url}/x` }, { url: `${s.url}/y` }]);
    expect(result.state).toBe('unhealthy');
    expect(result.details!.summary).toEqual({ total: 2, ok: 0, failed: 2 });
  });

  it('records a refused connection as an error, without a status code', async () => {
    const port = await closedPort();
    const result = await check([{ url: `http://127.0.0.1:${port}/` }]);
    expect(result.state).toBe('unhealthy');
    const [t] = targetsOf(result.details);
    expect(t).toMatchObject({ ok: false, status_code: null });
    expect(t!.error).toMatch(/ECONNREFUSED/);
    expect(t!.failed_checks).toBeUndefined();
  });

  it('gives up on a server that never answers, after the target timeout', async () => {
    const s = await server(() => {
      /* never responds */
    });
    const good = await server(reply(200));
    const result = await check({ timeout: 30, config: [{ url: `${s.url}/hang`, timeout: 0.2 }, { url: good.url }] });
    expect(result.state).toBe('degraded');
    expect(targetsOf(result.details)[0]).toMatchObject({ ok: false, status_code: null, error: 'timed out after 200 ms' });
  });

  it('matches expected_status lists and ranges', async () => {
    const s = await server((req, res) => {
      res.writeHead(Number(req.url!.slice(1))).end();
    });
    const result = await check([
      { url: `${s.url}/204`, expected_status: [200, '2xx'] },
      { url: `${s.url}/302`, expected_status: '3xx' },
      { url: `${s.url}/302`, expected_status: 200 },
      { url: `${s.url}/500`, expected_status: [200, '2xx', 404] },
    ]);
    expect(targetsOf(result.details).map((t) => [t.ok, t.failed_checks])).toEqual([
      [true, undefined],
      [true, undefined],
      [false, ['status 302 is not 200']],
      [false, ['status 500 is not one of 200, 2xx, 404']],
    ]);
  });

  it('checks body_contains', async () => {
    const s = await server(reply(200, 'status: all systems go'));
    const result = await check([
      { url: s.url, body_contains: 'systems go' },
      { url: s.url, body_contains: 'ready' },
    ]);
    expect(targetsOf(result.details).map((t) => t.failed_checks)).toEqual([undefined, ['body does not contain "ready"']]);
  });

  it('checks json_path and json_equals', async () => {
    const body = JSON.stringify({ status: 'UP', components: { db: { status: 'DOWN', pool: [1, 2] } } });
    const s = await server((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/text' ? 'not json' : body);
    });
    const result = await check([
      { url: s.url, json_path: 'status', json_equals: 'UP' },
      { url: s.url, json_path: 'components.db', json_equals: { pool: [1, 2], status: 'DOWN' } },
      { url: s.url, json_path: 'components.db.status', json_equals: 'UP' },
      { url: s.url, json_path: 'components.cache.status' },
      { url: s.url, json_path: 'components.db.pool[1]' },
      { url: `${s.url}/text`, json_path: 'status', json_equals: 'UP' },
    ]);
    expect(targetsOf(result.details).map((t) => t.failed_checks)).toEqual([
      undefined,
      undefined,
      ['json_path components.db.status: expected "UP", got "DOWN"'],
      ['json_path components.cache.status: not found'],
      undefined,
      ['json_path status: body is not valid JSON'],
    ]);
  });

  it('checks max_response_time_ms against a slow server', async () => {
    const s = await server((_req, res) => {
      setTimeout(() => res.writeHead(200).end(), 300);
    });
    const result = await check([
      { url: s.url, max_response_time_ms: 50 },
      { url: s.url, max_response_time_ms: 60_000 },
    ]);
    const [slow, fine] = targetsOf(result.details);
    expect(slow!.ok).toBe(false);
    expect(slow!.failed_checks![0]).toMatch(/^response time \d+ ms is over 50 ms$/);
    expect(fine!.ok).toBe(true);
  });

  it('reads at most maxBodyBytes and says so when a body check fails', async () => {
    const s = await server(reply(200, `${'x'.repeat(5000)}MARKER`));
    const result = await check(
      [{ url: s.url }, { url: s.url, body_contains: 'MARKER' }, { url: s.url, json_path: 'a' }],
      { maxBodyBytes: 1000 },
    );
    expect(targetsOf(result.details).map((t) => [t.ok, t.failed_checks])).toEqual([
      [true, undefined],
      [false, ['body does not contain "MARKER" (in the first 1000 bytes)']],
      [false, ['json_path a: body is larger than 1000 bytes, not parsed']],
    ]);
  });

  it('sends method and headers, bearer and basic auth, and never reports the secrets', async () => {
    const s = await server(reply(200));
    const result = await check([
      { url: `${s.url}/bearer`, bearer_token: 'tok-s3cr3t', headers: { 'X-Foo': 'bar', Cookie: 'sid=cookie-s3cr3t' } },
      { url: `${s.url}/basic`, auth: 'admin,pw-s3cr3t', method: 'POST' },
      { url: `${s.url.replace('//', '//alice:url-s3cr3t@')}/userinfo?token=query-s3cr3t&page=1`, method: 'HEAD' },
    ]);
    const seen = Object.fromEntries(s.requests.map((r) => [r.url.split('?')[0], r]));
    expect(seen['/bearer']!.headers).toMatchObject({ authorization: 'Bearer tok-s3cr3t', 'x-foo': 'bar', cookie: 'sid=cookie-s3cr3t' });
    expect(seen['/basic']!.method).toBe('POST');
    expect(seen['/basic']!.headers.authorization).toBe(`Basic ${Buffer.from('admin:pw-s3cr3t').toString('base64')}`);
    expect(seen['/userinfo']!.method).toBe('HEAD');
    expect(seen['/userinfo']!.headers.authorization).toBe(`Basic ${Buffer.from('alice:url-s3cr3t').toString('base64')}`);
    expect(seen['/userinfo']!.url).toBe('/userinfo?token=query-s3cr3t&page=1');
    expect(result.state).toBe('healthy');
    const text = serializeStatus(result);
    expect(text).not.toMatch(/s3cr3t|alice|YWRtaW46|Bearer|Basic/);
    expect(targetsOf(result.details)[2]!.url).toBe(`${s.url}/userinfo?token=REDACTED&page=1`);
  });

  it('rejects with the abort reason when its signal is aborted mid-run', async () => {
    const controller = new AbortController();
    const s = await server(() => {
      controller.abort(new Error('agent shutting down'));
    });
    await expect(check([{ url: s.url, timeout: 30 }], { signal: controller.signal })).rejects.toThrow('agent shutting down');
  });
});

describe('details size', () => {
  it('stays within the termination-message budget for many failing targets', async () => {
    const port = await closedPort();
    const raw = Array.from({ length: 150 }, (_, i) => ({ url: `http://127.0.0.1:${port}/${'segment/'.repeat(30)}${i}` }));
    const result = await check(raw);
    const size = Buffer.byteLength(serializeStatus(result), 'utf8');
    expect(size).toBeLessThanOrEqual(DEFAULT_MAX_STATUS_BYTES);
    const listed = targetsOf(result.details);
    expect(listed.length).toBeGreaterThan(0);
    expect(result.details!.summary).toEqual({ total: 150, ok: 0, failed: 150, omitted: 150 - listed.length });
    for (const t of listed) {
      expect(t.url.length).toBeLessThanOrEqual(200);
      expect(t.error!.length).toBeLessThanOrEqual(160);
    }
  });

  it('drops good targets before failed ones', async () => {
    const s = await server((req, res) => {
      res.writeHead(req.url!.startsWith('/bad') ? 500 : 200).end();
    });
    const raw = [
      ...Array.from({ length: 80 }, (_, i) => ({ url: `${s.url}/good/${i}` })),
      { url: `${s.url}/bad/1` },
      { url: `${s.url}/bad/2` },
    ];
    const result = await check(raw);
    expect(result.state).toBe('degraded');
    expect(targetsOf(result.details).map((t) => t.url)).toEqual([`${s.url}/bad/1`, `${s.url}/bad/2`]);
    expect(result.details!.summary).toEqual({ total: 82, ok: 80, failed: 2, omitted: 80 });
  });
});

describe('evaluateTarget', () => {
  it('redacts secrets from probe errors before truncating', () => {
    const [target] = parseHttpCheckConfig([{ url: 'http://h/', bearer_token: 'tok-abc' }]).targets;
    const report = evaluateTarget(
      target!,
      { statusCode: null, latencyMs: 1, body: Buffer.alloc(0), bodyTruncated: false, redirects: 0, error: `bad header Bearer tok-abc ${'x'.repeat(300)}` },
      0,
    );
    expect(report.error).toMatch(/^bad header \[redacted\] x+…$/);
    expect(report.error).toHaveLength(160);
  });

  it('redact replaces every occurrence', () => {
    expect(redact('a-s-a-s', ['s', ''])).toBe('a-[redacted]-a-[redacted]');
  });
});

describe.skipIf(opensslMissing())('runHttpCheck against a real HTTPS server with a self-signed certificate', () => {
  let dir: string;
  let tls: { key: string; cert: string };
  beforeAll(async () => {
    dir = await makeTempDir();
    tls = selfSignedCertificate(dir, 100);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('fails with verify_url true (the default)', async () => {
    const s = await server(reply(200), tls);
    const result = await check([{ url: s.url }]);
    expect(result.state).toBe('unhealthy');
    expect(targetsOf(result.details)[0]!.error).toMatch(/self-signed certificate/);
  });

  it('passes with verify_url false and reports the days to certificate expiry', async () => {
    const s = await server(reply(200, 'secure'), tls);
    const result = await check([{ url: s.url, verify_url: false, body_contains: 'secure' }]);
    expect(result.state).toBe('healthy');
    const days = targetsOf(result.details)[0]!.tls_days_to_expiry!;
    expect(days).toBeGreaterThanOrEqual(98);
    expect(days).toBeLessThanOrEqual(100);
  });

  it('computes the days to expiry from the injected clock', async () => {
    const s = await server(reply(200), tls);
    const validTo = Date.parse(new X509Certificate(tls.cert).validTo);
    const clock = { now: () => validTo - 10 * 86_400_000 - 60_000 };
    const result = await check([{ url: s.url, verify_url: false }], { clock });
    expect(targetsOf(result.details)[0]!.tls_days_to_expiry).toBe(10);
  });
});

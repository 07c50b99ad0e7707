import { afterEach, describe, expect, it } from 'vitest';
import { parseHttpCheckConfig, runHttpCheck, type TargetReport } from '../../../check-images/http/src/check.js';
import { startServer, type Handler, type TestServer } from './servers.js';

const servers: TestServer[] = [];
async function server(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const check = async (raw: unknown) => {
  const result = await runHttpCheck(parseHttpCheckConfig(raw));
  return { state: result.state, target: (result.details!.targets as TargetReport[])[0]! };
};
const redirectTo = (status: number, location: string): Handler => (_req, res) => {
  res.writeHead(status, { location }).end();
};

describe('redirects', () => {
  it('follows up to 5 redirects by default and judges the last answer', async () => {
    const s = await server((req, res) => {
      if (req.url === '/old') res.writeHead(301, { location: '/older' }).end();
      else if (req.url === '/older') res.writeHead(302, { location: '/new?token=abc' }).end();
      else res.writeHead(200).end('ok');
    });
    const { state, target } = await check([{ url: `${s.url}/old`, body_contains: 'ok' }]);
    expect(state).toBe('healthy');
    expect(target).toMatchObject({ ok: true, status_code: 200, redirects: 2, final_url: `${s.url}/new?token=REDACTED` });
    expect(s.requests.map((r) => r.url)).toEqual(['/old', '/older', '/new?token=abc']);
  });

  it('with max_redirects 0 judges the 3xx answer itself', async () => {
    const s = await server(redirectTo(302, '/elsewhere'));
    expect((await check([{ url: s.url, max_redirects: 0 }])).target).toMatchObject({ ok: false, status_code: 302, failed_checks: ['status 302 is not 200'] });
    const accepted = await check([{ url: s.url, max_redirects: 0, expected_status: ['3xx'] }]);
    expect(accepted.target).toMatchObject({ ok: true, status_code: 302 });
    expect(accepted.target.redirects).toBeUndefined();
    expect(s.requests).toHaveLength(2);
  });

  it('stops a redirect loop after max_redirects and says so', async () => {
    const s = await server(redirectTo(307, '/loop'));
    const { state, target } = await check([{ url: `${s.url}/loop`, max_redirects: 3 }]);
    expect(state).toBe('unhealthy');
    expect(target).toMatchObject({ ok: false, status_code: 307, redirects: 3, error: 'stopped after 3 redirects' });
    expect(s.requests).toHaveLength(4);
  });

  it('sends credentials along a same-origin redirect but never to another origin', async () => {
    const other = await server((_req, res) => {
      res.writeHead(200).end();
    });
    const s = await server((req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(302, { location: `${other.url}/c` }).end();
      else res.writeHead(404).end();
    });
    const { target } = await check([{ url: `${s.url}/a`, bearer_token: 'tok-123', headers: { 'X-Api-Key': 'k-456', 'X-Trace': 'keep' } }]);
    expect(target).toMatchObject({ ok: true, redirects: 2, final_url: `${other.url}/c` });
    expect(s.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok-123', 'Bearer tok-123']);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();
    expect(other.requests[0]!.headers['x-trace']).toBe('keep');
  });

  it('turns a POST into a GET after 303 (and 301/302), keeps it after 307', async () => {
    const s = await server((req, res) => {
      if (req.url === '/see-other') res.writeHead(303, { location: '/done' }).end();
      else if (req.url === '/temporary') res.writeHead(307, { location: '/done' }).end();
      else res.writeHead(200).end();
    });
    await check([{ url: `${s.url}/see-other`, method: 'POST' }]);
    await check([{ url: `${s.url}/temporary`, method: 'POST' }]);
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /see-other', 'GET /done', 'POST /temporary', 'POST /done']);
  });

  it('refuses to follow a redirect to a non-http URL', async () => {
    const s = await server(redirectTo(302, 'file:///etc/passwd'));
    const { target } = await check([{ url: s.url }]);
    expect(target).toMatchObject({ ok: false, status_code: 302, error: 'redirected to a file: URL, not http(s)' });
  });

  it('refuses a bad max_redirects naming the field', () => {
    expect(() => parseHttpCheckConfig([{ url: 'http://h/', max_redirects: 99 }])).toThrow('health_checks[0].max_redirects: must be a whole number from 0 to 20');
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  httpCheckConfigFromEnv,
  loadHttpCheckConfig,
  parseHttpCheckConfig,
} from '../../../check-images/http/src/config.js';
import { CheckConfigError } from '../../../check-images/sdk/src/index.js';
import { makeTempDir, removeTempDir } from '../helpers.js';

function errorOf(fn: () => unknown): CheckConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CheckConfigError) return err;
    throw err;
  }
  throw new Error('expected a CheckConfigError');
}

describe('parseHttpCheckConfig', () => {
  it('applies defaults to a minimal target', () => {
    const { targets } = parseHttpCheckConfig({ config: [{ url: 'https://example.test/healthz' }] });
    expect(targets).toHaveLength(1);
    const t = targets[0]!;
    expect(t.url.href).toBe('https://example.test/healthz');
    expect(t.method).toBe('GET');
    expect(t.headers).toEqual({});
    expect(t.verifyTls).toBe(true);
    expect(t.expectedStatus).toEqual([{ min: 200, max: 200 }]);
    expect(t.timeoutMs).toBe(5000);
    expect(t.bodyContains).toBeUndefined();
    expect(t.jsonPath).toBeUndefined();
    expect(t.jsonEquals).toBeUndefined();
  });

  it('reads every field, and the default timeout', () => {
    const { targets } = parseHttpCheckConfig({
      timeout: 2,
      interval: 2,
      config: [
        {
          url: 'http://svc:8080/status',
          method: 'head',
          headers: { 'X-Foo': 'bar', 'X-Num': 3 },
          verify_url: false,
          expected_status: [200, '204', '3xx'],
          body_contains: 'ok',
          json_path: 'a.b[0]',
          json_equals: null,
          max_response_time_ms: 500,
          exit_on_failure: true,
        },
        { url: 'http://svc/other', timeout: 0.5, expected_status: 503 },
      ],
    });
    const [a, b] = targets;
    expect(a).toMatchObject({
      method: 'HEAD',
      headers: { 'x-foo': 'bar', 'x-num': '3' },
      verifyTls: false,
      expectedStatus: [{ min: 200, max: 200 }, { min: 204, max: 204 }, { min: 300, max: 399 }],
      timeoutMs: 2000,
      bodyContains: 'ok',
      jsonPath: { text: 'a.b[0]', segments: ['a', 'b', 0] },
      jsonEquals: { value: null },
      maxResponseTimeMs: 500,
    });
    expect(b).toMatchObject({ timeoutMs: 500, expectedStatus: [{ min: 503, max: 503 }] });
  });

  it('accepts a bare list of targets', () => {
    expect(parseHttpCheckConfig([{ url: 'http://a/' }, { url: 'http://b/' }]).targets.map((t) => t.url.host)).toEqual(['a', 'b']);
  });

  it('turns bearer_token, auth and URL user info into Authorization and records them as secrets', () => {
    const { targets } = parseHttpCheckConfig([
      { url: 'http://a/', bearer_token: 's3cr3t' },
      { url: 'http://b/', auth: 'user,pa,ss' },
      { url: 'http://alice:p%40ss@c/x?token=abc&page=2' },
      { url: 'http://d/', headers: { Cookie: 'session=xyz' } },
    ]);
    const [a, b, c, d] = targets;
    expect(a!.headers.authorization).toBe('Bearer s3cr3t');
    expect(a!.secrets).toContain('s3cr3t');
    expect(b!.headers.authorization).toBe(`Basic ${Buffer.from('user:pa,ss').toString('base64')}`);
    expect(b!.secrets).toContain('pa,ss');
    expect(c!.headers.authorization).toBe(`Basic ${Buffer.from('alice:p@ss').toString('base64')}`);
    expect(c!.url.href).toBe('http://c/x?token=abc&page=2');
    expect(c!.displayUrl).toBe('http://c/x?token=REDACTED&page=2');
    expect(c!.secrets).toContain('p@ss');
    expect(d!.secrets).toEqual(['session=xyz']);
  });

  it('collects every problem with its field path', () => {
    const err = errorOf(() =>
      parseHttpCheckConfig({
        timeout: -1,
        config: [
          { url: 'https://ok.example/' },
          { url: 'ftp://files.example/' },
          { url: 'http://x/', method: 'FETCH', expected_status: ['2xx', 700], json_equals: 1, colour: 'red' },
          'http://bare-string/',
          { url: 'http://y/', headers: { 'Bad Name': 'v', 'X-Line': 'a\nb' }, timeout: 'soon', json_path: 'a..b' },
          { url: 'http://z/', bearer_token: 't', auth: 'u,p' },
          { url: 'http://w/', auth: 'no-comma', verify_url: 'yes', body_contains: '' },
          {},
        ],
      }),
    );
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'health_checks.timeout: must be a number of seconds above 0 and at most 600',
      'health_checks.config[1].url: must be an http(s) URL',
      expect.stringMatching(/^health_checks\.config\[2\]\.colour: unknown field \(known: url, method, /),
      'health_checks.config[2].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      'health_checks.config[2].expected_status[1]: must be a status code (100-599) or a range like 2xx',
      'health_checks.config[2].json_equals: requires json_path',
      'health_checks.config[3]: must be a mapping with a url, found a string',
      'health_checks.config[4].headers.Bad Name: is not a valid header name',
      'health_checks.config[4].headers.X-Line: must not contain line breaks or NUL',
      'health_checks.config[4].timeout: must be a number of seconds above 0 and at most 600',
      'health_checks.config[4].json_path: empty name at position 3',
      'health_checks.config[5]: set only one of bearer_token, auth (each sets Authorization)',
      'health_checks.config[6].auth: must be a string "user,password"',
      'health_checks.config[6].verify_url: must be true or false, found a string',
      'health_checks.config[6].body_contains: must be a non-empty string',
      'health_checks.config[7].url: is required',
    ]);
    expect(err.message.split('\n')).toHaveLength(16);
  });

  it('refuses a missing, empty or oversized target list', () => {
    expect(() => parseHttpCheckConfig({ timeout: 3 })).toThrow('health_checks.config: is required (a list of targets)');
    expect(() => parseHttpCheckConfig([])).toThrow('health_checks: must list at least one target');
    expect(() => parseHttpCheckConfig({ config: { url: 'http://a/' } })).toThrow('health_checks.config: must be a list of targets, found an object');
    expect(() => parseHttpCheckConfig(Array(201).fill({ url: 'http://a/' }))).toThrow('lists 201 targets, over the limit of 200');
    expect(() => parseHttpCheckConfig('http://a/')).toThrow('health_checks: must be a mapping with a config list, or a list of targets; found a string');
    expect(() => parseHttpCheckConfig(null)).toThrow('found null');
  });

  it('never repeats secrets or URLs in its messages', () => {
    const err = errorOf(() =>
      parseHttpCheckConfig([
        { url: 'gopher://admin:hunter2@host/', headers: { Authorization: 'Bearer tok-123' }, bearer_token: 'tok-456' },
        { url: 'http://h/', auth: 'user-without-comma-hunter2' },
      ]),
    );
    for (const secret of ['hunter2', 'tok-123', 'tok-456', 'gopher']) expect(err.message).not.toContain(secret);
  });

  it('uses the given path prefix', () => {
    expect(() => parseHttpCheckConfig([{ url: 'x' }], 'spec.health_checks')).toThrow('spec.health_checks[0].url: must be an http(s) URL');
  });
});

describe('httpCheckConfigFromEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is undefined without HTTP_CHECK_URL', () => {
    vi.stubEnv('HTTP_CHECK_URL', undefined);
    expect(httpCheckConfigFromEnv()).toBeUndefined();
  });

  it('builds one default target per URL', () => {
    vi.stubEnv('HTTP_CHECK_URL', 'http://a/healthz, https://u:pw@b/');
    vi.stubEnv('HTTP_CHECK_EXPECTED_STATUS', '200,3xx');
    vi.stubEnv('HTTP_CHECK_TIMEOUT', '2');
    const config = httpCheckConfigFromEnv()!;
    expect(config.targets.map((t) => [t.displayUrl, t.timeoutMs, t.expectedStatus])).toEqual([
      ['http://a/healthz', 2000, [{ min: 200, max: 200 }, { min: 300, max: 399 }]],
      ['https://b/', 2000, [{ min: 200, max: 200 }, { min: 300, max: 399 }]],
    ]);
    expect(config.targets[1]!.headers.authorization).toBe(`Basic ${Buffer.from('u:pw').toString('base64')}`);
    expect(config.targets[1]!.secrets).toContain('pw');
  });

  it('names the variable and item that is wrong', () => {
    vi.stubEnv('HTTP_CHECK_URL', 'http://a/,file:///etc/passwd');
    vi.stubEnv('HTTP_CHECK_EXPECTED_STATUS', 'ok');
    expect(() => httpCheckConfigFromEnv()).toThrow(
      'HTTP_CHECK_EXPECTED_STATUS[0]: must be a status code (100-599) or a range like 2xx\nHTTP_CHECK_URL[1]: must be an http(s) URL',
    );
    vi.stubEnv('HTTP_CHECK_EXPECTED_STATUS', undefined);
    vi.stubEnv('HTTP_CHECK_URL', 'http://a/');
    vi.stubEnv('HTTP_CHECK_TIMEOUT', '0');
    expect(() => httpCheckConfigFromEnv()).toThrow('environment variable HTTP_CHECK_TIMEOUT must be between 1 and 600');
  });
});

describe('loadHttpCheckConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
    vi.stubEnv('KRATIX_INPUT_DIR', dir);
    vi.stubEnv('VIGIL_CHECK_CONFIG', undefined);
    vi.stubEnv('HTTP_CHECK_URL', undefined);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await removeTempDir(dir);
  });

  it('prefers VIGIL_CHECK_CONFIG, then the input, then spec, then HTTP_CHECK_URL', async () => {
    const hosts = async () => (await loadHttpCheckConfig()).targets.map((t) => t.url.host);
    vi.stubEnv('HTTP_CHECK_URL', 'http://from-env-shorthand/');
    expect(await hosts()).toEqual(['from-env-shorthand']);
    await writeFile(join(dir, 'object.yaml'), 'spec:\n  health_checks: [{url: "http://from-spec/"}]\n');
    expect(await hosts()).toEqual(['from-spec']);
    await writeFile(join(dir, 'object.yaml'), 'health_checks: {config: [{url: "http://from-input/"}]}\n');
    expect(await hosts()).toEqual(['from-input']);
    vi.stubEnv('VIGIL_CHECK_CONFIG', '{"config": [{"url": "http://from-config-env/"}]}');
    expect(await hosts()).toEqual(['from-config-env']);
  });

  it('explains where configuration can come from when there is none', async () => {
    await expect(loadHttpCheckConfig()).rejects.toThrow(
      "no HTTP check configuration: set health_checks in the HealthDefinition's input (or its spec), the VIGIL_CHECK_CONFIG environment variable, or HTTP_CHECK_URL",
    );
  });
});

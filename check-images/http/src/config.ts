/**
 * The HTTP check's configuration: Krkn's `health_checks` fields, extended. Parsing
 * collects every problem with its field path and throws one CheckConfigError; no
 * message ever repeats a secret (tokens, passwords, header values, URLs).
 */
import {
  CheckConfigError,
  describeType,
  envInt,
  envList,
  isPlainObject,
  type EnvSource,
  loadCheckConfig,
  type ConfigIssue,
} from '../../sdk/src/index.js';
import { parseJsonPath, type JsonPathSegment } from './json-path.js';

/** The config key, in the input object or its `spec` (as in Krkn). */
export const HTTP_CHECK_KEY = 'health_checks';
export const DEFAULT_TIMEOUT_SECONDS = 5;
export const MAX_TIMEOUT_SECONDS = 600;
export const MAX_TARGETS = 200;
export const URL_ENV = 'HTTP_CHECK_URL';
export const EXPECTED_STATUS_ENV = 'HTTP_CHECK_EXPECTED_STATUS';
export const TIMEOUT_ENV = 'HTTP_CHECK_TIMEOUT';
/** Redirects followed by default (`max_redirects: 0` checks the 3xx answer itself). */
export const DEFAULT_MAX_REDIRECTS = 5;
export const MAX_REDIRECTS = 20;
/** Krkn's default probe interval, seconds. */
export const DEFAULT_WATCH_INTERVAL_SECONDS = 2;
export const MAX_WATCH_DURATION_SECONDS = 86_400;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/**
 * `interval` and `duration` (seconds) make a watching run: every target is probed every
 * `interval` for `duration`, as Krkn does during a chaos experiment. Without `duration`,
 * `interval` is accepted and ignored (vigil's schedule replaces it), as is `exit_on_failure`.
 */
const TOP_FIELDS = ['timeout', 'config', 'interval', 'duration'];
const TARGET_FIELDS = [
  'url',
  'method',
  'headers',
  'bearer_token',
  'auth',
  'verify_url',
  'expected_status',
  'timeout',
  'body_contains',
  'json_path',
  'json_equals',
  'max_response_time_ms',
  'max_redirects',
  'exit_on_failure',
];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header and query parameter names whose values are treated as secrets. */
export const SENSITIVE_NAME = /authorization|cookie|token|secret|password|passwd|api[-_]?key|signature|^sig$|^key$/i;

/** An accepted status code range, inclusive. */
export interface StatusRange {
  min: number;
  max: number;
}

export interface HttpTarget {
  /** The URL requested, without user info. */
  url: URL;
  /** The URL as reported: no user info, values of secret-looking query parameters replaced. */
  displayUrl: string;
  method: string;
  /** Lower-case header names; includes Authorization built from bearer_token, auth or URL user info. */
  headers: Record<string, string>;
  verifyTls: boolean;
  expectedStatus: StatusRange[];
  timeoutMs: number;
  bodyContains?: string;
  jsonPath?: { text: string; segments: JsonPathSegment[] };
  /** Present when `json_equals` was given (its value may be null). */
  jsonEquals?: { value: unknown };
  maxResponseTimeMs?: number;
  /** Redirects (301, 302, 303, 307, 308 with a Location) followed before the answer is judged; 0: none. */
  maxRedirects: number;
  /** Strings never to be shown: tokens, passwords, sensitive header values. */
  secrets: string[];
}

export interface HttpCheckConfig {
  targets: HttpTarget[];
  /** Present for a watching run (`duration` given). */
  watch?: { intervalMs: number; durationMs: number };
}

/**
 * Validates a `health_checks` value: a mapping `{timeout?, config: [targets]}` or a bare
 * list of targets. `path` prefixes field paths in errors.
 */
export function parseHttpCheckConfig(raw: unknown, path = HTTP_CHECK_KEY): HttpCheckConfig {
  const issues: ConfigIssue[] = [];
  let list: unknown = raw;
  let listPath = path;
  let defaultTimeout = DEFAULT_TIMEOUT_SECONDS;
  let watch: HttpCheckConfig['watch'];
  if (isPlainObject(raw)) {
    unknownFields(raw, TOP_FIELDS, path, issues);
    defaultTimeout = readSeconds(raw.timeout, `${path}.timeout`, issues) ?? DEFAULT_TIMEOUT_SECONDS;
    watch = readWatch(raw, path, issues);
    list = raw.config;
    listPath = `${path}.config`;
  } else if (!Array.isArray(raw)) {
    issues.push({ path, message: `must be a mapping with a config list, or a list of targets; found ${describeType(raw)}` });
    throw new CheckConfigError(issues);
  }
  const targets: HttpTarget[] = [];
  if (list === undefined) issues.push({ path: listPath, message: 'is required (a list of targets)' });
  else if (!Array.isArray(list)) issues.push({ path: listPath, message: `must be a list of targets, found ${describeType(list)}` });
  else if (list.length === 0) issues.push({ path: listPath, message: 'must list at least one target' });
  else if (list.length > MAX_TARGETS) issues.push({ path: listPath, message: `lists ${list.length} targets, over the limit of ${MAX_TARGETS}` });
  else {
    list.forEach((item: unknown, i) => {
      const target = parseTarget(item, `${listPath}[${i}]`, defaultTimeout, issues);
      if (target) targets.push(target);
    });
  }
  if (issues.length > 0) throw new CheckConfigError(issues);
  return { targets, ...(watch ? { watch } : {}) };
}

function readWatch(raw: Record<string, unknown>, path: string, issues: ConfigIssue[]): HttpCheckConfig['watch'] {
  const seconds = (value: unknown, field: string, max: number): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
      issues.push({ path: `${path}.${field}`, message: `must be a number of seconds above 0 and at most ${max}` });
      return undefined;
    }
    return value;
  };
  const interval = seconds(raw.interval, 'interval', MAX_WATCH_DURATION_SECONDS);
  const duration = seconds(raw.duration, 'duration', MAX_WATCH_DURATION_SECONDS);
  if (duration === undefined) return undefined;
  const intervalSeconds = interval ?? DEFAULT_WATCH_INTERVAL_SECONDS;
  if (raw.interval !== undefined && interval === undefined) return undefined;
  return { intervalMs: Math.round(intervalSeconds * 1000), durationMs: Math.round(duration * 1000) };
}

/**
 * The environment shorthand: HTTP_CHECK_URL (comma-separated URLs), optional
 * HTTP_CHECK_EXPECTED_STATUS (comma-separated codes or ranges) and HTTP_CHECK_TIMEOUT
 * (seconds). Returns undefined when HTTP_CHECK_URL is unset or empty.
 */
export function httpCheckConfigFromEnv(env: EnvSource = process.env): HttpCheckConfig | undefined {
  const urls = envList(URL_ENV, [], env);
  if (urls.length === 0) return undefined;
  const issues: ConfigIssue[] = [];
  const timeoutMs = envInt(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS, { min: 1, max: MAX_TIMEOUT_SECONDS }, env) * 1000;
  const statuses = envList(EXPECTED_STATUS_ENV, [], env);
  const expectedStatus = statuses.length > 0 ? readExpectedStatus(statuses, EXPECTED_STATUS_ENV, issues) : [{ min: 200, max: 200 }];
  const targets: HttpTarget[] = [];
  urls.forEach((text, i) => {
    const url = readUrl(text, `${URL_ENV}[${i}]`, issues);
    if (!url || !expectedStatus) return;
    const secrets = url.credentials ? [url.credentials.password, url.credentials.header] : [];
    const headers: Record<string, string> = url.credentials ? { authorization: url.credentials.header } : {};
    targets.push({
      url: url.url,
      displayUrl: url.display,
      method: 'GET',
      headers,
      verifyTls: true,
      expectedStatus,
      timeoutMs,
      maxRedirects: DEFAULT_MAX_REDIRECTS,
      secrets,
    });
  });
  if (issues.length > 0) throw new CheckConfigError(issues);
  return { targets };
}

/**
 * The configuration of one run, first match wins: VIGIL_CHECK_CONFIG, `health_checks`
 * in the input object, `spec.health_checks` in it, then the HTTP_CHECK_* shorthand.
 * Throws when there is none or it is invalid.
 */
export async function loadHttpCheckConfig(): Promise<HttpCheckConfig> {
  return httpCheckConfigFrom(await loadCheckConfig(HTTP_CHECK_KEY), process.env);
}

/**
 * The configuration from the `health_checks` value already found (undefined when there
 * is none), else the HTTP_CHECK_* shorthand of `env`. Throws when there is neither.
 */
export function httpCheckConfigFrom(raw: unknown, env: EnvSource): HttpCheckConfig {
  if (raw !== undefined) return parseHttpCheckConfig(raw);
  const fromEnv = httpCheckConfigFromEnv(env);
  if (fromEnv) return fromEnv;
  throw new Error(
    `no HTTP check configuration: set ${HTTP_CHECK_KEY} in the HealthDefinition's input (or its spec), ` +
      `the VIGIL_CHECK_CONFIG environment variable, or ${URL_ENV}`,
  );
}

function parseTarget(raw: unknown, path: string, defaultTimeout: number, issues: ConfigIssue[]): HttpTarget | undefined {
  if (!isPlainObject(raw)) {
    issues.push({ path, message: `must be a mapping with a url, found ${describeType(raw)}` });
    return undefined;
  }
  const before = issues.length;
  unknownFields(raw, TARGET_FIELDS, path, issues);
  let url: ParsedUrl | undefined;
  if (raw.url === undefined) issues.push({ path: `${path}.url`, message: 'is required' });
  else url = readUrl(raw.url, `${path}.url`, issues);
  const method = readMethod(raw.method, `${path}.method`, issues);
  const headers = readHeaders(raw.headers, `${path}.headers`, issues);
  const bearer = readText(raw.bearer_token, `${path}.bearer_token`, issues);
  const auth = readBasicAuth(raw.auth, `${path}.auth`, issues);
  const verifyTls = readBoolean(raw.verify_url, `${path}.verify_url`, issues) ?? true;
  const expectedStatus = raw.expected_status === undefined ? [{ min: 200, max: 200 }] : readExpectedStatus(raw.expected_status, `${path}.expected_status`, issues);
  const timeout = readSeconds(raw.timeout, `${path}.timeout`, issues) ?? defaultTimeout;
  const bodyContains = readText(raw.body_contains, `${path}.body_contains`, issues);
  const jsonPath = readJsonPathField(raw.json_path, `${path}.json_path`, issues);
  const maxResponseTimeMs = readPositive(raw.max_response_time_ms, `${path}.max_response_time_ms`, issues);
  const maxRedirects = readRedirects(raw.max_redirects, `${path}.max_redirects`, issues);
  readBoolean(raw.exit_on_failure, `${path}.exit_on_failure`, issues);
  if (raw.json_equals !== undefined && raw.json_path === undefined) {
    issues.push({ path: `${path}.json_equals`, message: 'requires json_path' });
  }
  const authSources = [
    headers?.authorization !== undefined ? 'headers.Authorization' : undefined,
    bearer !== undefined ? 'bearer_token' : undefined,
    auth !== undefined ? 'auth' : undefined,
    url?.credentials ? 'user info in url' : undefined,
  ].filter((s) => s !== undefined);
  if (authSources.length > 1) issues.push({ path, message: `set only one of ${authSources.join(', ')} (each sets Authorization)` });
  if (issues.length > before || !url || !method || !headers || !expectedStatus) return undefined;

  const secrets = Object.entries(headers)
    .filter(([name]) => SENSITIVE_NAME.test(name))
    .map(([, value]) => value);
  if (bearer !== undefined) {
    headers.authorization = `Bearer ${bearer}`;
    secrets.push(bearer, headers.authorization);
  }
  const credentials = auth ?? url.credentials;
  if (credentials) {
    headers.authorization = credentials.header;
    secrets.push(credentials.password, credentials.header);
  }
  return {
    url: url.url,
    displayUrl: url.display,
    method,
    headers,
    verifyTls,
    expectedStatus,
    timeoutMs: Math.round(timeout * 1000),
    ...(bodyContains !== undefined ? { bodyContains } : {}),
    ...(jsonPath ? { jsonPath } : {}),
    ...(raw.json_equals !== undefined ? { jsonEquals: { value: raw.json_equals } } : {}),
    ...(maxResponseTimeMs !== undefined ? { maxResponseTimeMs } : {}),
    maxRedirects: maxRedirects ?? DEFAULT_MAX_REDIRECTS,
    secrets: secrets.filter((s) => s !== ''),
  };
}

interface BasicCredentials {
  password: string;
  /** The whole Authorization header value. */
  header: string;
}

interface ParsedUrl {
  url: URL;
  display: string;
  credentials?: BasicCredentials;
}

function readUrl(value: unknown, path: string, issues: ConfigIssue[]): ParsedUrl | undefined {
  let url: URL | undefined;
  if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    issues.push({ path, message: 'must be an http(s) URL' });
    return undefined;
  }
  let credentials: BasicCredentials | undefined;
  if (url.username !== '' || url.password !== '') {
    credentials = basicCredentials(decodeURIComponent(url.username), decodeURIComponent(url.password));
    url.username = '';
    url.password = '';
  }
  return { url, display: displayUrl(url), ...(credentials ? { credentials } : {}) };
}

/** A URL as reported: no user info, values of secret-looking query parameters replaced by REDACTED. */
export function displayUrl(url: URL): string {
  const display = new URL(url.href);
  display.username = '';
  display.password = '';
  for (const name of new Set(display.searchParams.keys())) {
    if (SENSITIVE_NAME.test(name)) display.searchParams.set(name, 'REDACTED');
  }
  return display.href;
}

function basicCredentials(user: string, password: string): BasicCredentials {
  return { password, header: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}

function readBasicAuth(value: unknown, path: string, issues: ConfigIssue[]): BasicCredentials | undefined {
  if (value === undefined) return undefined;
  const comma = typeof value === 'string' ? value.indexOf(',') : -1;
  if (typeof value !== 'string' || comma <= 0) {
    issues.push({ path, message: 'must be a string "user,password"' });
    return undefined;
  }
  return basicCredentials(value.slice(0, comma), value.slice(comma + 1));
}

function readMethod(value: unknown, path: string, issues: ConfigIssue[]): string | undefined {
  if (value === undefined) return 'GET';
  const method = typeof value === 'string' ? value.toUpperCase() : '';
  if (METHODS.includes(method)) return method;
  issues.push({ path, message: `must be one of ${METHODS.join(', ')}` });
  return undefined;
}

function readHeaders(value: unknown, path: string, issues: ConfigIssue[]): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    issues.push({ path, message: `must be a mapping of header names to values, found ${describeType(value)}` });
    return undefined;
  }
  const headers: Record<string, string> = {};
  let ok = true;
  for (const [name, raw] of Object.entries(value)) {
    const where = `${path}.${name}`;
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) issues.push({ path: where, message: 'is not a valid header name' });
    else if (lower in headers) issues.push({ path: where, message: 'is given twice (header names ignore case)' });
    else if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      issues.push({ path: where, message: `must be a string, found ${describeType(raw)}` });
    } else if (/[\r\n\0]/.test(String(raw))) issues.push({ path: where, message: 'must not contain line breaks or NUL' });
    else {
      headers[lower] = String(raw);
      continue;
    }
    ok = false;
  }
  return ok ? headers : undefined;
}

function readExpectedStatus(value: unknown, path: string, issues: ConfigIssue[]): StatusRange[] | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) {
    issues.push({ path, message: 'must list at least one status code' });
    return undefined;
  }
  const ranges: StatusRange[] = [];
  items.forEach((item: unknown, i) => {
    const where = Array.isArray(value) ? `${path}[${i}]` : path;
    const range = statusRange(item);
    if (range) ranges.push(range);
    else issues.push({ path: where, message: 'must be a status code (100-599) or a range like 2xx' });
  });
  return ranges.length === items.length ? ranges : undefined;
}

function statusRange(item: unknown): StatusRange | undefined {
  const text = typeof item === 'number' ? String(item) : typeof item === 'string' ? item.trim() : '';
  if (/^[1-5]\d\d$/.test(text)) return { min: Number(text), max: Number(text) };
  const range = /^([1-5])xx$/i.exec(text);
  if (range) return { min: Number(range[1]) * 100, max: Number(range[1]) * 100 + 99 };
  return undefined;
}

function readSeconds(value: unknown, path: string, issues: ConfigIssue[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS) {
    issues.push({ path, message: `must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}` });
    return undefined;
  }
  return value;
}

function readPositive(value: unknown, path: string, issues: ConfigIssue[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    issues.push({ path, message: 'must be a number above 0' });
    return undefined;
  }
  return value;
}

function readRedirects(value: unknown, path: string, issues: ConfigIssue[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_REDIRECTS) return value;
  issues.push({ path, message: `must be a whole number from 0 to ${MAX_REDIRECTS}` });
  return undefined;
}

function readBoolean(value: unknown, path: string, issues: ConfigIssue[]): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.push({ path, message: `must be true or false, found ${describeType(value)}` });
  return undefined;
}

function readText(value: unknown, path: string, issues: ConfigIssue[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  issues.push({ path, message: 'must be a non-empty string' });
  return undefined;
}

function readJsonPathField(value: unknown, path: string, issues: ConfigIssue[]): HttpTarget['jsonPath'] {
  const text = readText(value, path, issues);
  if (text === undefined) return undefined;
  try {
    return { text, segments: parseJsonPath(text) };
  } catch (err) {
    issues.push({ path, message: (err as Error).message });
    return undefined;
  }
}

function unknownFields(raw: Record<string, unknown>, known: readonly string[], path: string, issues: ConfigIssue[]): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) issues.push({ path: `${path}.${key}`, message: `unknown field (known: ${known.join(', ')})` });
  }
}

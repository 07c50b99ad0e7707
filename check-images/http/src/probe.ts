/**
 * One HTTP(S) probe with node:http/node:https: its own deadline (covering redirects), a
 * bounded body read, no connection reuse (`agent: false`: a new connection per probe, as
 * a health probe should), redirects followed up to the target's limit, and the server
 * certificate's expiry for https.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { TLSSocket } from 'node:tls';
import { SENSITIVE_NAME, type HttpTarget } from './config.js';

export const USER_AGENT = 'vigil-http-check';
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export interface ProbeOptions {
  /** Aborts the request (e.g. on shutdown); the target's own timeout applies regardless. */
  signal?: AbortSignal;
  /** Bytes of body kept; the connection is closed once more arrives. */
  maxBodyBytes: number;
}

export interface ProbeResult {
  /** null when no response arrived. */
  statusCode: number | null;
  /** From sending the first request to the end of the last body (or the failure). */
  latencyMs: number;
  body: Buffer;
  /** True when the body was longer than maxBodyBytes and only its start was kept. */
  bodyTruncated: boolean;
  /** The server certificate's notAfter (ms since the epoch), https only (of the last answer). */
  certificateValidTo?: number;
  /** Redirects followed. */
  redirects: number;
  /** The URL of the last request, when redirects were followed. */
  finalUrl?: URL;
  /** Why no complete response was received. */
  error?: string;
}

interface Hop {
  statusCode: number | null;
  location?: string;
  body: Buffer;
  bodyTruncated: boolean;
  certificateValidTo?: number;
  error?: string;
}

/**
 * Sends the request and follows redirects (301/302/303/307/308 with a Location) up to
 * `target.maxRedirects`: 303, and 301/302 after a POST, continue with GET; credentials
 * and secret-looking headers are not sent to another origin. Never rejects: failures are
 * reported in `error`.
 */
export async function probe(target: HttpTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const abortMessage = (): string => (timeout.aborted ? `timed out after ${target.timeoutMs} ms` : 'aborted');
  let url = target.url;
  let method = target.method;
  let headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*', ...target.headers };
  let redirects = 0;
  for (;;) {
    const hop = await exchange(url, method, headers, target.verifyTls, signal, abortMessage, opts.maxBodyBytes);
    const result = (error?: string): ProbeResult => ({
      statusCode: hop.statusCode,
      latencyMs: Math.round(performance.now() - started),
      body: hop.body,
      bodyTruncated: hop.bodyTruncated,
      ...(hop.certificateValidTo !== undefined ? { certificateValidTo: hop.certificateValidTo } : {}),
      redirects,
      ...(redirects > 0 ? { finalUrl: url } : {}),
      ...((error ?? hop.error) !== undefined ? { error: error ?? hop.error } : {}),
    });
    if (hop.error !== undefined || hop.statusCode === null || !REDIRECT_CODES.has(hop.statusCode) || hop.location === undefined) {
      return result();
    }
    if (target.maxRedirects === 0) return result();
    if (redirects >= target.maxRedirects) return result(`stopped after ${target.maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(hop.location, url);
    } catch {
      return result('redirected to an invalid Location');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return result(`redirected to a ${next.protocol.slice(0, 12)} URL, not http(s)`);
    if (next.origin !== url.origin) headers = withoutSecrets(headers);
    if (hop.statusCode === 303 ? method !== 'HEAD' : (hop.statusCode === 301 || hop.statusCode === 302) && method === 'POST') method = 'GET';
    url = next;
    redirects += 1;
  }
}

/** Headers safe to send to another origin: no Authorization, Cookie or secret-looking ones. */
function withoutSecrets(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !SENSITIVE_NAME.test(name)));
}

/** One request and its (bounded) answer. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  verifyTls: boolean,
  signal: AbortSignal,
  abortMessage: () => string,
  maxBodyBytes: number,
): Promise<Hop> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let statusCode: number | null = null;
    let location: string | undefined;
    let validTo: number | undefined;
    let settled = false;

    const settle = (error?: string): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      request.destroy();
      resolve({
        statusCode,
        ...(location !== undefined ? { location } : {}),
        body: Buffer.concat(chunks),
        bodyTruncated: truncated,
        ...(validTo !== undefined ? { certificateValidTo: validTo } : {}),
        ...(error !== undefined ? { error } : {}),
      });
    };
    const onAbort = (): void => {
      settle(abortMessage());
    };

    const request = (url.protocol === 'https:' ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        agent: false,
        rejectUnauthorized: verifyTls,
      },
      (response) => {
        statusCode = response.statusCode ?? null;
        if (statusCode !== null && REDIRECT_CODES.has(statusCode) && typeof response.headers.location === 'string') {
          location = response.headers.location;
        }
        if (response.socket instanceof TLSSocket) {
          const notAfter = Date.parse(response.socket.getPeerCertificate().valid_to);
          if (Number.isFinite(notAfter)) validTo = notAfter;
        }
        response.on('data', (chunk: Buffer) => {
          const room = maxBodyBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            truncated = true;
            settle();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          settle();
        });
        response.on('error', (err) => {
          settle(describeError(err));
        });
        response.on('close', () => {
          settle('connection closed before the response was complete');
        });
      },
    );
    request.on('error', (err) => {
      settle(describeError(err));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    request.end();
  });
}

/** `CODE: message`, flattening the AggregateError Node raises when every address of a host failed. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message || 'request failed';
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

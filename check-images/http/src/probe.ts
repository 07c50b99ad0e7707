/**
 * One HTTP(S) request with node:http/node:https: its own deadline, a bounded body
 * read, no connection reuse, and the server certificate's expiry for https.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { TLSSocket } from 'node:tls';
import type { HttpTarget } from './config.js';

export const USER_AGENT = 'vigil-http-check';

export interface ProbeOptions {
  /** Aborts the request (e.g. on shutdown); the target's own timeout applies regardless. */
  signal?: AbortSignal;
  /** Bytes of body kept; the connection is closed once more arrives. */
  maxBodyBytes: number;
}

export interface ProbeResult {
  /** null when no response arrived. */
  statusCode: number | null;
  /** From sending the request to the end of the body (or the failure). */
  latencyMs: number;
  body: Buffer;
  /** True when the body was longer than maxBodyBytes and only its start was kept. */
  bodyTruncated: boolean;
  /** The server certificate's notAfter (ms since the epoch), https only. */
  certificateValidTo?: number;
  /** Why no complete response was received. */
  error?: string;
}

/** Sends one request; never rejects: failures are reported in `error`. */
export function probe(target: HttpTarget, opts: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let statusCode: number | null = null;
    let validTo: number | undefined;
    let settled = false;
    const timeout = AbortSignal.timeout(target.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;

    const settle = (error?: string): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      request.destroy();
      resolve({
        statusCode,
        latencyMs: Math.round(performance.now() - started),
        body: Buffer.concat(chunks),
        bodyTruncated: truncated,
        ...(validTo !== undefined ? { certificateValidTo: validTo } : {}),
        ...(error !== undefined ? { error } : {}),
      });
    };
    const onAbort = (): void => {
      settle(timeout.aborted ? `timed out after ${target.timeoutMs} ms` : 'aborted');
    };

    const { url } = target;
    const request = (url.protocol === 'https:' ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: target.method,
        headers: { 'user-agent': USER_AGENT, accept: '*/*', ...target.headers },
        agent: false,
        rejectUnauthorized: target.verifyTls,
      },
      (response) => {
        statusCode = response.statusCode ?? null;
        if (response.socket instanceof TLSSocket) {
          const notAfter = Date.parse(response.socket.getPeerCertificate().valid_to);
          if (Number.isFinite(notAfter)) validTo = notAfter;
        }
        response.on('data', (chunk: Buffer) => {
          const room = opts.maxBodyBytes - size;
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

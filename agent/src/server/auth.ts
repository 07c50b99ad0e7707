/**
 * Bearer-token authentication of the HTTP endpoints. The token comes from a file
 * (`server.tokenFile`) or the environment (`VIGIL_TOKEN`); comparison is constant-time.
 * `Authorization: Basic` with the token as the password is accepted too, so a client that
 * can only put credentials in a URL (`http://:TOKEN@host:8081/STOP`, e.g. Krkn's
 * set_stop_signal.py with requests) works unchanged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export class TokenAuth {
  private readonly digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.digest = token === undefined ? undefined : sha256(token);
  }

  /** Whether a token is configured at all. */
  get enabled(): boolean {
    return this.digest !== undefined;
  }

  /** Whether an Authorization header value carries the token. False when no token is configured. */
  accepts(header: string | undefined): boolean {
    if (this.digest === undefined || header === undefined) return false;
    const presented = presentedToken(header);
    if (presented === undefined) return false;
    return timingSafeEqual(sha256(presented), this.digest);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function presentedToken(header: string): string | undefined {
  const m = /^(\w+)\s+(\S+)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/**
 * The token from `tokenFile` (trimmed), else from `VIGIL_TOKEN`, else none. Errors name the
 * setting: an unreadable or empty file, or a token shorter than 16 characters.
 */
export function loadToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let token: string | undefined;
  let from: string;
  if (tokenFile !== undefined) {
    from = `server.tokenFile (${tokenFile})`;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`${from}: cannot read the token: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  } else {
    from = 'VIGIL_TOKEN';
    token = env.VIGIL_TOKEN?.trim();
    if (token === undefined || token === '') return undefined;
  }
  if (token === '') throw new Error(`${from}: the token is empty`);
  if (token.length < 16) throw new Error(`${from}: the token is too short (${token.length} characters; use at least 16, e.g. openssl rand -hex 32)`);
  if (/\s/.test(token)) throw new Error(`${from}: the token contains whitespace`);
  return token;
}

/** Whether a listen host only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** Token loading and checking, and which listen addresses count as loopback. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenAuth, isLoopbackHost, loadToken } from '../../agent/src/server/auth.js';
import { tempDir } from '../support/tmp.js';

const TOKEN = 'abcdefghijklmnop-0123';

describe('TokenAuth', () => {
  it('accepts Bearer and Basic-with-password only with the exact token', () => {
    const auth = new TokenAuth(TOKEN);
    expect(auth.enabled).toBe(true);
    expect(auth.accepts(`Bearer ${TOKEN}`)).toBe(true);
    expect(auth.accepts(`bearer ${TOKEN}`)).toBe(true);
    expect(auth.accepts(`Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`)).toBe(true);
    expect(auth.accepts(`Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`)).toBe(false);
    expect(auth.accepts(`Bearer ${TOKEN.slice(0, -1)}`)).toBe(false);
    expect(auth.accepts(`Bearer ${TOKEN}0`)).toBe(false);
    expect(auth.accepts(TOKEN)).toBe(false);
    expect(auth.accepts(`Token ${TOKEN}`)).toBe(false);
    expect(auth.accepts(undefined)).toBe(false);
  });

  it('accepts nothing when no token is configured', () => {
    const auth = new TokenAuth(undefined);
    expect(auth.enabled).toBe(false);
    expect(auth.accepts('Bearer anything-at-all-123456')).toBe(false);
  });
});

describe('loadToken', () => {
  it('reads a token file (trimmed), else VIGIL_TOKEN, else none', () => {
    const dir = tempDir();
    const file = join(dir, 'token');
    writeFileSync(file, `  ${TOKEN}\n`);
    expect(loadToken(file, { VIGIL_TOKEN: 'ignored-because-file-wins' })).toBe(TOKEN);
    expect(loadToken(undefined, { VIGIL_TOKEN: TOKEN })).toBe(TOKEN);
    expect(loadToken(undefined, {})).toBeUndefined();
    expect(loadToken(undefined, { VIGIL_TOKEN: '' })).toBeUndefined();
  });

  it('names the setting when the token is unusable', () => {
    const dir = tempDir();
    expect(() => loadToken(join(dir, 'missing'), {})).toThrow(/^server\.tokenFile \(.*missing\): cannot read the token: ENOENT$/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => loadToken(join(dir, 'empty'), {})).toThrow(/^server\.tokenFile \(.*empty\): the token is empty$/);
    expect(() => loadToken(undefined, { VIGIL_TOKEN: 'short' })).toThrow('VIGIL_TOKEN: the token is too short (5 characters; use at least 16, e.g. openssl rand -hex 32)');
    expect(() => loadToken(undefined, { VIGIL_TOKEN: 'has a space in the middle' })).toThrow('VIGIL_TOKEN: the token contains whitespace');
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.org', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

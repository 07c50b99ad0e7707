/** The server and signal settings of the agent configuration. */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../agent/src/config/config.js';

const resolve = (raw: unknown, overrides = {}) => resolveConfig(raw, { source: 'vigil.yaml', base: '/etc/vigil', overrides, env: {} }).config;

describe('server and signals configuration', () => {
  it('has safe defaults', () => {
    const c = resolve({});
    expect(c.server).toEqual({ listen: '127.0.0.1:7723', requireTokenForReads: false, readOnly: false });
    expect(c.signals).toEqual({ listen: 'off', initialState: 'RUN' });
  });

  it('resolves the token file against the config file and takes overrides', () => {
    const c = resolve({ server: { tokenFile: 'secrets/token', requireTokenForReads: true }, signals: { listen: '127.0.0.1:8081', initialState: 'PAUSE' } }, { readOnly: true, signalsListen: 'off' });
    expect(c.server).toEqual({ listen: '127.0.0.1:7723', tokenFile: '/etc/vigil/secrets/token', requireTokenForReads: true, readOnly: true });
    expect(c.signals).toEqual({ listen: 'off', initialState: 'PAUSE' });
  });

  it('names the field of a bad setting', () => {
    expect(() => resolve({ signals: { listen: 'nowhere' } })).toThrow(ConfigError);
    expect(() => resolve({ signals: { listen: 'nowhere' } })).toThrow('vigil.yaml: signals.listen: "nowhere" is not host:port or "off"');
    expect(() => resolve({ signals: { initialState: 'STOP' } })).toThrow(/signals\.initialState/);
    expect(() => resolve({ server: { readOnly: 'yes' } })).toThrow(/server\.readOnly/);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultDestination, loadConfig, parseListen, resolveConfig } from '../../agent/src/config/config.js';
import { tempDir } from '../support/tmp.js';

describe('agent configuration', () => {
  it('has defaults for everything', () => {
    const { config, warnings } = resolveConfig({}, { source: 'test', base: '/base', env: {} });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      destination: defaultDestination(),
      dataDir: '/base/.vigil',
      definitions: { kind: 'directory', paths: ['/base/definitions'], namespace: 'default', watch: true, rescanIntervalSeconds: 30 },
      store: { kind: 'fs', root: '/base/state', fsync: true },
      scheduler: { spreadSeconds: 30, runOnStart: 'missing', defaultTimeZone: 'UTC' },
      runtime: { kind: 'local', defaultTimeoutSeconds: 300, keepRunDirs: 'never', passEnv: [], images: [], containerEngine: { command: 'auto', globalArgs: [], runArgs: [] } },
      server: { listen: '127.0.0.1:7723' },
      shutdownGraceSeconds: 30,
    });
    expect(config.scheduler.concurrency).toBeGreaterThanOrEqual(4);
  });

  it('resolves relative paths against the config file and lets flags and env win', () => {
    const dir = tempDir();
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'destination: from-file\ndefinitions: {paths: [./defs]}\nstore: {root: ../state}\nruntime:\n  images: [{image: acme/check, command: [python3, ./checks/db.py]}]\n');
    const fromFile = loadConfig(file, {}, {}).config;
    expect(fromFile.destination).toBe('from-file');
    expect(fromFile.definitions.paths).toEqual([join(dir, 'defs')]);
    expect(fromFile.store.root).toBe(join(dir, '..', 'state'));
    expect(fromFile.runtime.images[0]!.command).toEqual(['python3', join(dir, 'checks', 'db.py')]);
    expect(loadConfig(file, {}, { VIGIL_DESTINATION: 'from-env' }).config.destination).toBe('from-env');
    const overridden = loadConfig(file, { destination: 'from-flag', stateDir: 'x', listen: 'off', concurrency: 2 }, { VIGIL_DESTINATION: 'from-env' }).config;
    expect(overridden).toMatchObject({ destination: 'from-flag', server: { listen: 'off' }, scheduler: { concurrency: 2 } });
    expect(overridden.store.root).toBe(join(process.cwd(), 'x'));
  });

  it('names the file and the field in errors, and warns about unknown keys', () => {
    const bad = (raw: unknown) => {
      try {
        resolveConfig(raw, { source: 'vigil.yaml', base: '/', env: {} });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ scheduler: { spreadSeconds: -1 } })).toMatch(/^vigil\.yaml: scheduler\.spreadSeconds: -1 must be >= 0/);
    expect(bad({ store: { kind: 'nfs' } })).toMatch(/^vigil\.yaml: store\.kind: "nfs" is not one of: fs, git, bucket, kubernetes/);
    expect(bad({ store: { kind: 'kubernetes', authMethod: 'basicAuth' } })).toMatch(/^vigil\.yaml: store\.authMethod: not used by store\.kind kubernetes/);
    expect(bad({ store: { kind: 'kubernetes', kubeconfig: './kc', secretDir: './s' } })).toBe('vigil.yaml: store.kubeconfig: set store.kubeconfig or store.secretDir (key kubeconfig), not both');
    expect(bad({ store: { kind: 'kubernetes', namespace: 'Records' } })).toMatch(/^vigil\.yaml: store\.namespace: "Records" is not a valid name/);
    expect(resolveConfig({ store: { kind: 'kubernetes', kubeconfig: 'kc.yaml', context: 'platform', namespace: 'records' } }, { source: 'vigil.yaml', base: '/etc/vigil', env: {} }).config.store)
      .toMatchObject({ kind: 'kubernetes', kubeconfig: '/etc/vigil/kc.yaml', context: 'platform', namespace: 'records', heartbeatSeconds: 3600 });
    expect(bad({ destination: 'Not_Valid' })).toMatch(/^vigil\.yaml: destination: "Not_Valid" is not a valid name/);
    expect(bad({ scheduler: { defaultTimeZone: 'Europe/Nowhere' } })).toBe('vigil.yaml: scheduler.defaultTimeZone: "Europe/Nowhere" is not a known IANA time zone');
    expect(bad({ server: { listen: 'localhost' } })).toBe('vigil.yaml: server.listen: "localhost" is not host:port or "off"');
    expect(bad({ store: { kind: 'git' } })).toBe('vigil.yaml: store.url: required when store.kind is git');
    expect(bad({ store: { kind: 'git', url: 'https://example.org/r.git', authMethod: 'basicAuth' } })).toBe('vigil.yaml: store.secretDir: required for authMethod basicAuth');
    const { warnings } = resolveConfig({ sheduler: {} }, { source: 'vigil.yaml', base: '/', env: {} });
    expect(warnings).toEqual(['vigil.yaml: warning: sheduler: unknown field, ignored']);
  });

  it('reports a missing or unparsable file clearly', () => {
    expect(() => loadConfig('/nonexistent/vigil.yaml', {}, {})).toThrow(/\/nonexistent\/vigil\.yaml: cannot read config file/);
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'a: [');
    expect(() => loadConfig(join(dir, 'bad.yaml'), {}, {})).toThrow(/bad\.yaml: invalid YAML/);
  });

  it('has git store defaults and resolves its local paths', () => {
    const { config } = resolveConfig({ store: { kind: 'git', url: './remote.git', secretDir: './creds', authMethod: 'basicAuth' } }, { source: 'test', base: '/etc/vigil', env: {} });
    expect(config.store).toMatchObject({ kind: 'git', url: '/etc/vigil/remote.git', branch: 'main', path: '', secretDir: '/etc/vigil/creds', flushIntervalSeconds: 2, heartbeatSeconds: 3600 });
  });

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:7723')).toEqual({ host: '127.0.0.1', port: 7723 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen('0.0.0.0:70000')).toBeUndefined();
    expect(parseListen('7723')).toBeUndefined();
  });
});

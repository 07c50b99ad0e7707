import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinPluginDir, discoverPlugins } from '../../agent/src/plugins/discovery.js';
import { makeTempDir, removeTempDir } from '../check-images/helpers.js';

const PLUGIN = (type: string, extra = '') => `export default { type: '${type}', configKey: '${type}_check', ${extra} run: () => ({ state: 'healthy', details: { from: '${type}' } }) };\n`;

describe('discoverPlugins', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('vigil-plugins-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });
  const file = (name: string, text: string) => writeFile(join(dir, name), text);

  it('loads the built-in http, rds and vmi plugins, with the images they serve', async () => {
    const registry = await discoverPlugins();
    expect(registry.failed).toEqual([]);
    expect(registry.loaded.map((l) => [l.plugin.type, l.plugin.configKey, l.builtin])).toEqual(
      expect.arrayContaining([
        ['http', 'health_checks', true],
        ['rds', 'rds', true],
        ['vmi', 'kubevirt_checks', true],
      ]),
    );
    expect(registry.forImage('ghcr.io/vigil-health/check-http:v0.1.0')?.type).toBe('http');
    expect(registry.forImage('ghcr.io/vigil-health/check-rds@sha256:abc')?.type).toBe('rds');
    expect(registry.forImage('ghcr.io/vigil-health/check-vmi:v0.1.0')?.type).toBe('vmi');
    expect(registry.forImage('ghcr.io/example/other:1')).toBeUndefined();
    expect(registry.loaded.every((l) => l.module.startsWith(builtinPluginDir()))).toBe(true);
  });

  it('keeps loaded and failed lists: valid, misnamed, throwing-on-import, invalid export and duplicate plugins', async () => {
    await file('disk.check-plugin.js', PLUGIN('disk', "images: ['example.org/disk-check'],"));
    await file('dns.check-plugin.mjs', `export const plugin = ${PLUGIN('dns').replace('export default ', '').trimEnd()}`);
    // Misnamed: the file does not follow the convention, or names another type.
    await file('ping_check_plugin.js', PLUGIN('ping'));
    await file('Ping.check-plugin.js', PLUGIN('ping'));
    await file('queue.check-plugin.js', PLUGIN('kafka'));
    // Throws while being imported.
    await file('boom.check-plugin.js', "throw new Error('cannot connect at import time');\n");
    await file('syntax.check-plugin.js', 'export default {{\n');
    // Exports nothing usable.
    await file('empty.check-plugin.js', 'export const x = 1;\n');
    await file('norun.check-plugin.js', "export default { type: 'norun', configKey: 'k' };\n");
    // Duplicates: a type the built-ins have, a config key and an image taken by an earlier plugin.
    await file('http.check-plugin.js', PLUGIN('http'));
    await file('zdisk.check-plugin.js', "export default { type: 'zdisk', configKey: 'disk_check', run: () => ({ state: 'healthy' }) };\n");
    await file('zimage.check-plugin.js', PLUGIN('zimage', "images: ['example.org/disk-check'],"));
    // Ignored: helpers and other files.
    await file('helpers.js', 'export const helper = 1;\n');
    await file('README.md', '# my plugins\n');

    const registry = await discoverPlugins({ dirs: [dir] });
    const user = registry.loaded.filter((l) => !l.builtin);
    expect(user.map((l) => [l.plugin.type, l.module])).toEqual([
      ['disk', join(dir, 'disk.check-plugin.js')],
      ['dns', join(dir, 'dns.check-plugin.mjs')],
    ]);
    const failed = Object.fromEntries(registry.failed.map((f) => [f.module.slice(dir.length + 1), [f.reason, f.message]]));
    expect(failed).toEqual({
      'Ping.check-plugin.js': ['naming', expect.stringContaining('<type>.check-plugin.js')],
      'ping_check_plugin.js': ['naming', expect.stringContaining('<type>.check-plugin.js')],
      'queue.check-plugin.js': ['naming', 'type "kafka" does not match the file name queue.check-plugin.js (expected type "queue")'],
      'boom.check-plugin.js': ['import', 'import failed: cannot connect at import time'],
      // Under vitest the import goes through Vite, whose parse error differs from Node's SyntaxError.
      'syntax.check-plugin.js': ['import', expect.stringMatching(/^import failed: /)],
      'empty.check-plugin.js': ['invalid-export', 'exports neither default nor plugin'],
      'norun.check-plugin.js': ['invalid-export', 'run: must be a function (config, context) => {state, details}'],
      'http.check-plugin.js': ['duplicate', expect.stringMatching(/^type "http" is already loaded from .*builtin/)],
      'zdisk.check-plugin.js': ['duplicate', expect.stringMatching(/^config key "disk_check" is already read by plugin "disk"/)],
      'zimage.check-plugin.js': ['duplicate', expect.stringMatching(/^image example.org\/disk-check is already served by plugin "disk"/)],
    });
    // The built-ins still serve their images; the user plugin serves its own.
    expect(registry.forImage('ghcr.io/vigil-health/check-http')?.type).toBe('http');
    expect(registry.get('http')).toBe(registry.loaded.find((l) => l.builtin && l.plugin.type === 'http')!.plugin);
    expect(registry.forImage('example.org/disk-check:2')?.type).toBe('disk');
  });

  it('reports an unreadable plugin directory and goes on with the next', async () => {
    await mkdir(join(dir, 'ok'));
    await writeFile(join(dir, 'ok', 'one.check-plugin.js'), PLUGIN('one'));
    const registry = await discoverPlugins({ dirs: [join(dir, 'missing'), join(dir, 'ok')], builtinDir: null });
    expect(registry.loaded.map((l) => l.plugin.type)).toEqual(['one']);
    expect(registry.failed).toEqual([{ module: join(dir, 'missing'), reason: 'import', message: 'cannot read the plugin directory: ENOENT' }]);
  });
});

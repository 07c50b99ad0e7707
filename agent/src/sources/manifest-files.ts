/**
 * Finding manifest files: `*.yaml`/`*.yml` under directories (recursively), or files given
 * explicitly. Hidden entries are skipped (editor swap files, ConfigMap `..data` dirs);
 * symlinks to files are followed (ConfigMap volumes are made of them), symlinks to
 * directories are not (no loops).
 */
import { promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';

const YAML_FILE = /\.ya?ml$/i;

export function isYamlFile(path: string): boolean {
  return YAML_FILE.test(path);
}

/** Returns path -> stat for every manifest file found, in a stable (sorted) order. */
export async function collectManifestFiles(paths: readonly string[], onUnreadable?: (path: string, err: Error) => void): Promise<Map<string, Stats>> {
  const found = new Map<string, Stats>();
  for (const p of paths) await collect(p, true);
  return found;

  async function collect(path: string, explicit: boolean): Promise<void> {
    let stat: Stats;
    try {
      stat = explicit ? await fs.stat(path) : await fs.lstat(path);
      if (stat.isSymbolicLink()) {
        stat = await fs.stat(path);
        if (!stat.isFile()) return;
      }
    } catch {
      return;
    }
    if (stat.isFile()) {
      if (explicit || YAML_FILE.test(path)) found.set(path, stat);
      return;
    }
    if (!stat.isDirectory()) return;
    let names: string[];
    try {
      names = await fs.readdir(path);
    } catch (err) {
      onUnreadable?.(path, err as Error);
      return;
    }
    names.sort();
    for (const name of names) {
      if (name.startsWith('.')) continue;
      await collect(join(path, name), false);
    }
  }
}

/**
 * Locating files shipped with vigil (CRDs, built-in check entry points) both when
 * running from sources (vitest) and from the compiled dist/ tree.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The directory holding vigil's package.json. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'agent', 'manifests'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot locate the vigil package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function crdDirectory(): string {
  return join(packageRoot(), 'agent', 'manifests', 'crds');
}

/** Compiled entry point of a built-in check image, e.g. builtinCheckEntry('http'). */
export function builtinCheckEntry(check: string): string {
  return join(packageRoot(), 'dist', 'check-images', check, 'src', 'main.js');
}

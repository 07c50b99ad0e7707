/**
 * Secret and ConfigMap keys for `valueFrom`, read from directory trees laid out as
 * `<dir>/<namespace>/<name>/<key>` (the layout of a mounted Secret, one level per
 * namespace and object). Every name is validated before it becomes part of a path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyRef, KeyStore } from '../core/env.js';
import { isDns1123Label, isDns1123Subdomain } from '../core/naming.js';

/** Kubernetes' rule for Secret and ConfigMap keys. */
const KEY = /^[-._a-zA-Z0-9]+$/;

export interface KeyDirectories {
  secretsDir?: string;
  configMapsDir?: string;
}

/** A KeyStore over the configured directories; a kind without a directory has no keys. */
export function directoryKeyStore(dirs: KeyDirectories): KeyStore {
  const dirOf = (ref: KeyRef): string | undefined => (ref.kind === 'secret' ? dirs.secretsDir : dirs.configMapsDir);
  return {
    read(ref) {
      const base = dirOf(ref);
      if (base === undefined) return undefined;
      if (!isDns1123Label(ref.namespace)) throw new Error(`namespace "${ref.namespace}" is not a valid DNS-1123 label`);
      if (!isDns1123Subdomain(ref.name)) throw new Error(`name "${ref.name}" is not a valid DNS-1123 subdomain`);
      if (ref.key.length > 253 || !KEY.test(ref.key) || ref.key === '.' || ref.key === '..') {
        throw new Error(`key "${ref.key}" is not a valid key (letters, digits, '-', '_' and '.')`);
      }
      try {
        return readFileSync(join(base, ref.namespace, ref.name, ref.key), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new Error(`cannot be read: ${code ?? (err as Error).message}`, { cause: err });
      }
    },
    where(ref) {
      const base = dirOf(ref);
      if (base === undefined) return `(no ${ref.kind === 'secret' ? 'secretsDir' : 'configMapsDir'} is configured)`;
      return `in ${join(base, ref.namespace, ref.name)}`;
    },
  };
}

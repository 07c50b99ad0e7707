/**
 * Reading `object.yaml`, the HealthDefinition's `spec.input` written for the check.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { INPUT_DIR_ENV, inputDir } from './dirs.js';
import { DEFAULT_MAX_ALIAS_COUNT, describeType, isPlainObject, parseYamlText } from './yaml.js';

export const INPUT_FILE = 'object.yaml';
/** Default size limit of object.yaml. */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;

export interface ReadInputOptions {
  /** Directory holding object.yaml; default {@link inputDir}(). */
  dir?: string;
  /** Refuse larger files (default 1 MiB). */
  maxBytes?: number;
  /** Alias nodes resolved before refusing (default 50). */
  maxAliasCount?: number;
  /** Return `{}` instead of throwing when object.yaml does not exist. */
  missingOk?: boolean;
}

/**
 * Reads and parses `<inputDir>/object.yaml`. An empty file gives `{}`; anything but a
 * mapping is refused. The result is not validated against `T`: check it yourself.
 */
export async function readInput<T = Record<string, unknown>>(opts: ReadInputOptions = {}): Promise<T> {
  const file = join(opts.dir ?? inputDir(), INPUT_FILE);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const text = await readLimited(file, maxBytes, opts);
  if (text === undefined) return {} as T;
  let value: unknown;
  try {
    value = parseYamlText(text, opts.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT);
  } catch (err) {
    throw new Error(`input ${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || value === undefined) return {} as T;
  if (!isPlainObject(value)) throw new Error(`input ${file} must be a YAML mapping, found ${describeType(value)}`);
  return value as T;
}

async function readLimited(file: string, maxBytes: number, opts: ReadInputOptions): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.missingOk) return undefined;
    if (code === 'ENOENT') {
      const hint = opts.dir === undefined && !process.env[INPUT_DIR_ENV] ? ` (is ${INPUT_DIR_ENV} set?)` : '';
      throw new Error(`cannot read input ${file}: no such file${hint}`, { cause: err });
    }
    throw new Error(`cannot read input ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`cannot read input ${file}: not a regular file`);
    if (stat.size > maxBytes) throw new Error(`input ${file} is ${stat.size} bytes, over the limit of ${maxBytes} bytes`);
    // Read one byte more than allowed so a file that grew after stat() is still caught.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new Error(`input ${file} is over the limit of ${maxBytes} bytes`);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

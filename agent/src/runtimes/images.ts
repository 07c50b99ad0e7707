/**
 * Image mapping: how an image runs locally as a plain command. An entry matches its exact
 * image reference, or, when it names a repository without tag or digest, every tag and
 * digest of that repository. Exact matches win over repository matches and configured
 * entries over the built-in ones. References are compared as written (no docker.io
 * normalisation).
 */
import { builtinCheckEntry } from '../paths.js';

/** One `images` entry of the runtime configuration. */
export interface ImageMapping {
  image: string;
  /** The image's entrypoint as a local command: executable then fixed arguments. */
  command: string[];
  /** The image's default arguments (CMD), used when the container sets no `args`. */
  args?: string[];
}

/** The repository part of an image reference: without `@digest` and without `:tag`. */
export function imageRepository(ref: string): string {
  const at = ref.indexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** Vigil's own check images, run with the current node from the installed package. */
export function builtinImageMappings(): ImageMapping[] {
  return [
    { image: 'ghcr.io/vigil-health/check-http', command: [process.execPath, builtinCheckEntry('http')] },
    { image: 'ghcr.io/vigil-health/check-rds', command: [process.execPath, builtinCheckEntry('rds')] },
    { image: 'ghcr.io/vigil-health/check-vmi', command: [process.execPath, builtinCheckEntry('vmi')] },
  ];
}

/** Throws an Error naming the field (`images[2].command`) when an entry is malformed. */
export function validateImageMappings(entries: readonly unknown[], field = 'images'): ImageMapping[] {
  return entries.map((raw, i) => {
    const path = `${field}[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new Error(`${path}: must be a mapping with image and command`);
    const entry = raw as Record<string, unknown>;
    if (typeof entry.image !== 'string' || entry.image.trim() === '') throw new Error(`${path}.image: must be a non-empty string`);
    if (!isStringList(entry.command) || entry.command.length === 0 || entry.command[0] === '') {
      throw new Error(`${path}.command: must be a non-empty list of strings (the executable first)`);
    }
    if (entry.args !== undefined && !isStringList(entry.args)) throw new Error(`${path}.args: must be a list of strings`);
    return { image: entry.image, command: [...entry.command], ...(entry.args ? { args: [...entry.args] } : {}) };
  });
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Lookup table over configured and built-in mappings; O(1) per image. */
export class ImageTable {
  private readonly exact = new Map<string, ImageMapping>();
  private readonly byRepository = new Map<string, ImageMapping>();

  /** `entries` take priority over `defaults`; within each list the first entry for a key wins. */
  constructor(entries: readonly ImageMapping[], defaults: readonly ImageMapping[] = []) {
    for (const list of [entries, defaults]) {
      for (const entry of list) {
        if (!this.exact.has(entry.image)) this.exact.set(entry.image, entry);
        if (imageRepository(entry.image) === entry.image && !this.byRepository.has(entry.image)) this.byRepository.set(entry.image, entry);
      }
    }
  }

  lookup(image: string): ImageMapping | undefined {
    return this.exact.get(image) ?? this.byRepository.get(imageRepository(image));
  }
}

/**
 * The three directories of the Kratix check contract. In a cluster they are the
 * `/kratix/*` mounts; when vigil runs a check as a local process it points these
 * environment variables at the run's own directories.
 */
import { resolve } from 'node:path';

export const INPUT_DIR_ENV = 'KRATIX_INPUT_DIR';
export const OUTPUT_DIR_ENV = 'KRATIX_OUTPUT_DIR';
export const METADATA_DIR_ENV = 'KRATIX_METADATA_DIR';

/** Where `object.yaml` (the HealthDefinition's `spec.input`) is read from. */
export function inputDir(): string {
  return dirFromEnv(INPUT_DIR_ENV, '/kratix/input');
}

/** Where `health-status.yaml` is written. */
export function outputDir(): string {
  return dirFromEnv(OUTPUT_DIR_ENV, '/kratix/output');
}

/** Scratch space shared by the containers of one run. */
export function metadataDir(): string {
  return dirFromEnv(METADATA_DIR_ENV, '/kratix/metadata');
}

function dirFromEnv(name: string, fallback: string): string {
  const value = process.env[name];
  return value ? resolve(value) : fallback;
}

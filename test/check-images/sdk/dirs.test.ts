import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputDir, metadataDir, outputDir } from '../../../check-images/sdk/src/index.js';

describe('check directories', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('come from KRATIX_*_DIR when set', () => {
    vi.stubEnv('KRATIX_INPUT_DIR', '/tmp/run-1/input');
    vi.stubEnv('KRATIX_OUTPUT_DIR', '/tmp/run-1/output');
    vi.stubEnv('KRATIX_METADATA_DIR', '/tmp/run-1/metadata');
    expect([inputDir(), outputDir(), metadataDir()]).toEqual(['/tmp/run-1/input', '/tmp/run-1/output', '/tmp/run-1/metadata']);
  });

  it('fall back to the /kratix mounts when unset or empty', () => {
    vi.stubEnv('KRATIX_INPUT_DIR', undefined);
    vi.stubEnv('KRATIX_OUTPUT_DIR', '');
    vi.stubEnv('KRATIX_METADATA_DIR', undefined);
    expect([inputDir(), outputDir(), metadataDir()]).toEqual(['/kratix/input', '/kratix/output', '/kratix/metadata']);
  });

  it('resolve a relative directory against the working directory', () => {
    vi.stubEnv('KRATIX_OUTPUT_DIR', 'out');
    expect(outputDir()).toBe(resolve('out'));
  });
});

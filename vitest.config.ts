import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Process and container tests fork real processes; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});

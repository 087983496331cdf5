import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Points the compiled-module cache at a temporary folder: tests never touch the user's.
    setupFiles: ['test/setup.ts'],
    // A guard against hangs, not a performance check (tests never assert timing): property tests,
    // worker threads and the kernel tests share two cores and can take more than vitest's 5 s.
    testTimeout: 60_000,
    // The JSON report feeds scripts/test-summary.js, which .ci/run calls.
    reporters: ['default', ['json', { outputFile: 'build/test-results.json' }]],
  },
});

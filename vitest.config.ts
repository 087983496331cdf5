import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report feeds scripts/test-summary.js, which .ci/run calls.
    reporters: ['default', ['json', { outputFile: 'build/test-results.json' }]],
  },
});

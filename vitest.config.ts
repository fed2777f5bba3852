import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops every process a test file started, even when its tests fail (test/support/processes.ts).
    setupFiles: ['test/support/setup.ts'],
    // Real-process tests start clusters on loopback ports: run files one at a time on 2 cores.
    fileParallelism: false,
    // Bounds for a whole test or hook. The waits inside have their own, shorter deadlines that
    // name what never came; these only catch a test that hangs in a way those do not.
    testTimeout: 150_000,
    hookTimeout: 200_000,
    // The JSON report is what .ci/run and scripts/repeat-suite.mjs read.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});

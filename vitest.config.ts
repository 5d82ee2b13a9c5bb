import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Real servers and worker threads on a 2-core machine: a few files at a time, not one per core.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    coverage: {
      // The V8 provider, extended to the worker thread and child processes (see vitest.coverage.ts).
      provider: 'custom',
      customProviderModule: './vitest.coverage.ts',
      include: ['src/**/*.ts', 'worker/**/*.ts'],
      reporter: ['text', 'html', 'json-summary', 'json'],
      reportsDirectory: 'coverage',
    },
  },
});

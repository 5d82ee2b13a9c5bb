import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    // Real servers, sockets and timers on a shared 2-core CI machine: a test that fails is run once
    // more, and one that then passes is not hidden: the summary reporter lists it as `retried:`
    // (with .ci/run repeating the list at the end of its log), so a flaky test is seen and fixed.
    retry: 1,
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

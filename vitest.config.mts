import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**', '**/node_modules/**'],
    globalSetup: ['test/setup/tmpdir.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Behaviour tests create network namespaces and run real shells; two cores.
    maxWorkers: 2,
  },
});

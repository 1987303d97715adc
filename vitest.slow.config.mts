import { defineConfig } from 'vitest/config';

// The slow suites (`npm run test:slow`): real engines built from source, the constructs used from
// other cdk8s languages. Their setup (builds, caches) runs first, from scripts/slow-setup.d/.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    globalSetup: ['test/setup/tmpdir.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_200_000,
    maxWorkers: 1,
  },
});

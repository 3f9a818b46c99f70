import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // two cores on CI: keep the number of simulator-heavy workers small
    maxWorkers: 2,
    pool: 'forks',
  },
});

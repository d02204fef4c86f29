import { defineConfig } from 'vitest/config';

// Two cores: run test files in forked processes, one per core.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

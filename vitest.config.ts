import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/support/summary-reporter.js';

// Two cores: run test files in forked processes, one per core.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', new SummaryReporter()],
  },
});

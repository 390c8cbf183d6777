import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Namespace (honeynet) tests change kernel state; they serialise themselves through a lock file.
    pool: 'forks',
  },
});

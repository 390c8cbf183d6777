import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One test file at a time: the honeynet tests count every datagram that crosses a real bridge in network
    // namespaces, and on a 2-core machine a CPU-heavy neighbour file (corpus parsing, matcher properties) starves the
    // counting processes enough to lose datagrams in their socket buffers. Serial files keep those counts exact.
    fileParallelism: false,
    // Under CI a JSON report too, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Temporal's native worker runs in each test process; forks isolate it better than threads.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts', 'test/bundle-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

// Tests run against real PostgreSQL, Redis and moto (S3 + KMS) started by tests/harness; see README "Tests".
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/harness/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: files run in parallel pairs; heavy files mark themselves sequential.
    maxWorkers: 2,
    pool: 'forks',
  },
});

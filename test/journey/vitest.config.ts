import { defineConfig } from 'vitest/config';

/**
 * `npm run test:journey`: the newcomer journey (test/journey/newcomer.journey.ts). Its steps
 * spawn npm, node and vitest in a consumer project, so they get minutes, not seconds; the
 * recipe it runs inside that project keeps vitest's defaults.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/journey/**/*.journey.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 90_000,
    hookTimeout: 180_000,
    unstubEnvs: true,
  },
});

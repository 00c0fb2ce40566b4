import { defineConfig } from 'vitest/config';

/** `npm run test:reliability`: the chaos suite (reference workflows under seeded faults). */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    environment: 'node',
    setupFiles: ['test/helpers/setup.ts'],
    pool: 'forks',
    testTimeout: 240_000,
    hookTimeout: 30_000,
    unstubEnvs: true,
  },
});

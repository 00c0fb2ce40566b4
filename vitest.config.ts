import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests must never reach the real service: msw or the emulator answer everything.
    unstubEnvs: true,
    restoreMocks: true,
  },
});

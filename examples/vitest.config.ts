import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The example consumer test imports the built package ('nemovideo', 'nemovideo/testing'),
// as an app would: run `npm run build` first (`npm run examples` does).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['examples/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});

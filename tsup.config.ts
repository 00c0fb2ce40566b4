import { defineConfig } from 'tsup';

const shared = {
  // The output is not minified, so stack traces are readable without maps; maps would triple the package.
  sourcemap: false,
  clean: false, // `npm run build` empties dist/ once; two configs must not wipe each other's output
  target: 'node20',
  treeshake: true,
} as const;

export default defineConfig([
  // ESM: the library, the testing entry and the CLI share chunks, so the bin does not carry a
  // second copy of the SDK or the emulator.
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      helpers: 'src/helpers.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/msw': 'src/testing/msw.ts',
      'redis/index': 'src/redis/index.ts',
      'cli/bin': 'src/cli/bin.ts',
    },
    format: ['esm'],
    splitting: true,
    // The MCP server package (a dev dependency) is bundled into the chunk that only
    // `nemovideo mcp` loads (a dynamic import), so it is neither a dependency of the package nor
    // loaded by the SDK or the other commands. Its own dependency, zod, stays external (ours).
    noExternal: [/^@modelcontextprotocol\//],
    dts: {
      entry: {
        index: 'src/index.ts',
        helpers: 'src/helpers.ts',
        'testing/index': 'src/testing/index.ts',
        'testing/msw': 'src/testing/msw.ts',
        'redis/index': 'src/redis/index.ts',
      },
    },
  },
  // CommonJS for require() consumers of the library, the helpers and the testing entry.
  // Split too (tsup's CommonJS splitting), so `nemovideo` and `nemovideo/helpers` share one
  // copy of the SDK: an error thrown by a helper is an instance of the root's class.
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      helpers: 'src/helpers.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/msw': 'src/testing/msw.ts',
      'redis/index': 'src/redis/index.ts',
    },
    format: ['cjs'],
    splitting: true,
    dts: true,
  },
]);

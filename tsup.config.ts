import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { type Plugin, transform } from 'esbuild';
import { defineConfig } from 'tsup';

const shared = {
  // The output is not minified, so stack traces are readable without maps; maps would triple the package.
  sourcemap: false,
  clean: false, // `npm run build` empties dist/ once; two configs must not wipe each other's output
  target: 'node20',
  treeshake: true,
} as const;

/**
 * Packages only the CLI (commander) or the emulator (busboy and its streamsearch) use: bundled
 * into the chunks that import them, so they are not dependencies of the package and SDK users
 * never install them. The SDK's own dependencies ky and eventsource-parser stay external (zod:
 * BUNDLED_ZOD, below);
 * scripts/check-package.ts checks both lists against dist/.
 */
const BUNDLED_CJS = ['commander', 'busboy', 'streamsearch'];
/**
 * zod is bundled too, tree-shaken to the schema kinds the SDK uses (issue #14.6, import cost).
 * Every zod entry (`zod/mini`, `zod/v4/core`, and `zod` for the MCP server) loads zod's whole
 * module graph, the ~50 locale files included, which made a cold `import('nemovideo')` cost
 * more than ky and zod's own load put together. Bundled, it is one chunk of what we use. `zod`
 * stays a dependency: the declaration files name its types (`Schema<T>`).
 */
const BUNDLED_ZOD = [/^zod(\/|$)/];

/**
 * ...but not for the MCP server (`nemovideo mcp`): it and its SDK use classic `zod`, whose
 * `z.core` namespace keeps every module of zod's core, and a chunk shared with the SDK would carry
 * them all (JSON Schema generation included) into every SDK import and browser bundle. The MCP
 * chunk imports the `zod` package instead; no schema passes between it and the SDK.
 */
const zodExternalForMcp: Plugin = {
  name: 'zod-external-for-mcp',
  setup(build) {
    build.onResolve({ filter: /^zod(\/|$)/ }, (args) =>
      /[\\/](src[\\/]mcp|node_modules[\\/]@modelcontextprotocol)[\\/]/.test(args.importer)
        ? { path: args.path, external: true }
        : undefined,
    );
  },
};
/**
 * All that is bundled: the CommonJS packages above, and the MCP server package (a dev
 * dependency), bundled into the chunk that only `nemovideo mcp` loads (a dynamic import), so it
 * is neither a dependency of the package nor loaded by the SDK or the other commands. Its own
 * dependency, zod, stays external (see zodExternalForMcp).
 */
const BUNDLED = [...BUNDLED_CJS, /^@modelcontextprotocol\//, ...BUNDLED_ZOD];

const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
const BUNDLED_FILE = new RegExp(
  `[\\\\/]node_modules[\\\\/](${BUNDLED_CJS.join('|')})[\\\\/].*\\.c?js$`,
);
const REQUIRE_BUILTIN = /\brequire\(\s*(['"])((?:node:)?[a-z_/]+)\1\s*\)/g;

/**
 * In an ESM bundle, esbuild turns a bundled CommonJS package's `require('node:events')` into a
 * shim that throws "Dynamic require … is not supported" (there is no `require` in ES modules;
 * https://github.com/evanw/esbuild/issues/1921). The usual fix, a `createRequire` banner, would
 * put a static `node:module` import at the top of every chunk, the browser SDK's included. This
 * plugin instead rewrites those requires of Node built-ins, in the bundled packages only, to
 * default imports (the same object `require` returns), which esbuild hoists into the chunk of
 * that package alone. It also minifies those packages (not our code, whose stack traces stay
 * readable): commander and busboy are most of the CLI's and the emulator's bytes.
 */
const builtinRequiresAsImports: Plugin = {
  name: 'builtin-requires-as-imports',
  setup(build) {
    build.onLoad({ filter: BUNDLED_FILE }, async (args) => {
      const original = await readFile(args.path, 'utf8');
      // Licence comments are kept inline (esbuild's default for transform).
      const { code: source } = await transform(original, { loader: 'js', minify: true });
      const imports = new Map<string, string>();
      const contents = source.replace(REQUIRE_BUILTIN, (call, _quote, specifier: string) => {
        const name = specifier.replace(/^node:/, '');
        if (!NODE_BUILTINS.has(name)) return call;
        let local = imports.get(name);
        if (local === undefined) {
          local = `__node_${name.replace(/\W/g, '_')}`;
          imports.set(name, local);
        }
        return local;
      });
      if (imports.size === 0) return { contents, loader: 'js' };
      const head = [...imports].map(([name, local]) => `import ${local} from 'node:${name}';`);
      return { contents: `${head.join('\n')}\n${contents}`, loader: 'js' };
    });
  },
};

export default defineConfig([
  // ESM: the library, the testing entry and the CLI share chunks, so the bin does not carry a
  // second copy of the SDK or the emulator. The CLI's commands, the SDK and commander are
  // separate chunks the bin loads only when a command needs them (see src/cli/main.ts).
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
    noExternal: BUNDLED,
    esbuildPlugins: [zodExternalForMcp, builtinRequiresAsImports],
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
    noExternal: BUNDLED,
    esbuildPlugins: [zodExternalForMcp, builtinRequiresAsImports],
    dts: true,
  },
]);

/**
 * The layers of the package, checked by `npm run check:deps` (dependency-cruiser).
 * docs/architecture.md shows the same rules and a diagram of them.
 *
 *   errors  ←  core  ←  resources  ←  client.ts  ←  index.ts / helpers.ts   (the SDK)
 *   cli, mcp, redis   →  public entry files only (index.ts, helpers.ts, testing/index.ts)
 *   testing (the emulator)  →  nothing outside src/testing
 *
 * Type-only imports count: a type import is a dependency too.
 */

/** The SDK's layers, lowest first. */
const SDK = '^src/(errors|core|resources)/|^src/(client|index|helpers)\\.ts$';
/** Entry files the apps may import. */
const ENTRIES = ['^src/index\\.ts$', '^src/helpers\\.ts$', '^src/testing/index\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No cycles anywhere, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'errors-import-nothing-of-ours',
      severity: 'error',
      comment: 'Layer 0: src/errors imports nothing outside src/errors.',
      from: { path: '^src/errors/' },
      to: { path: '^src/', pathNot: '^src/errors/' },
    },
    {
      name: 'core-imports-only-errors',
      severity: 'error',
      comment: 'Layer 1: src/core imports src/core and src/errors only.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/(core|errors)/' },
    },
    {
      name: 'resources-import-core-and-errors',
      severity: 'error',
      comment:
        'Layer 2: a resource imports core, errors and other resources (acyclic), nothing above.',
      from: { path: '^src/resources/' },
      to: { path: '^src/', pathNot: '^src/(resources|core|errors)/' },
    },
    {
      name: 'client-imports-the-sdk-layers',
      severity: 'error',
      comment: 'Layer 3: client.ts wires resources, core and errors.',
      from: { path: '^src/client\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(resources|core|errors)/' },
    },
    {
      name: 'entries-import-the-sdk-only',
      severity: 'error',
      comment:
        'index.ts and helpers.ts expose the SDK; they never reach into the apps or the emulator.',
      from: { path: '^src/(index|helpers)\\.ts$' },
      to: { path: '^src/', pathNot: SDK },
    },
    {
      name: 'apps-import-public-entries-only',
      severity: 'error',
      comment:
        'The CLI, the MCP server and nemovideo/redis use the package as a user does: through its public entry files.',
      from: { path: '^src/(cli|mcp|redis)/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/$1/',
          ...ENTRIES,
          // `nemovideo mcp` starts the MCP server through its entry (see cli-loads-mcp-lazily).
          '^src/mcp/index\\.ts$',
        ],
      },
    },
    {
      name: 'emulator-is-independent',
      severity: 'error',
      comment:
        'The emulator is written from the wire contract, not from the SDK: src/testing imports nothing outside src/testing, not even types.',
      from: { path: '^src/testing/' },
      to: { path: '^src/', pathNot: '^src/testing/' },
    },
    ...['cli', 'mcp', 'redis'].map((app) => ({
      name: `nothing-imports-${app}`,
      severity: 'error',
      comment: `Nothing imports src/${app} but src/${app} itself (and the mcp command, below).`,
      from: {
        path: '^src/',
        pathNot: app === 'mcp' ? ['^src/mcp/', '^src/cli/commands/mcp\\.ts$'] : `^src/${app}/`,
      },
      to: { path: `^src/${app}/` },
    })),
    {
      name: 'cli-loads-mcp-lazily',
      severity: 'error',
      comment:
        'The mcp command loads the MCP server (and with it the MCP package) through src/mcp/index.ts and a dynamic import() only, so the CLI and the SDK never load it otherwise.',
      from: { path: '^src/cli/commands/mcp\\.ts$' },
      to: { path: '^src/mcp/', pathNot: '^src/mcp/index\\.ts$' },
    },
    {
      name: 'cli-loads-mcp-dynamically',
      severity: 'error',
      comment:
        'See cli-loads-mcp-lazily: a static import would load the MCP package with every command.',
      from: { path: '^src/cli/commands/mcp\\.ts$' },
      to: { path: '^src/mcp/', dynamic: false },
    },
    {
      name: 'cli-loads-emulator-dynamically',
      severity: 'error',
      comment:
        'The emulator command loads nemovideo/testing with a dynamic import() (types aside), so the other commands do not parse the emulator at startup.',
      from: { path: '^src/cli/' },
      to: { path: '^src/testing/', dynamic: false, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdk-runtime-dependencies',
      severity: 'error',
      comment:
        'The SDK depends on ky, eventsource-parser and zod only; whatever the apps need must not weigh on SDK users.',
      from: { path: SDK },
      to: {
        dependencyTypes: [
          'npm',
          'npm-dev',
          'npm-optional',
          'npm-peer',
          'npm-bundled',
          'npm-no-pkg',
        ],
        pathNot: '^node_modules/(ky|eventsource-parser|zod)/',
      },
    },
    {
      name: 'sdk-loads-node-built-ins-lazily',
      severity: 'error',
      comment:
        'The SDK runs in browsers: Node built-ins are loaded on demand through src/core/node.ts, never imported statically.',
      from: { path: SDK, pathNot: '^src/core/node\\.ts$' },
      to: {
        dependencyTypes: ['core'],
        dependencyTypesNot: ['type-only', 'type-import', 'dynamic-import'],
      },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};

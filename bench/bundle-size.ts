/**
 * Browser bundle size: `import { NemoClient } from 'nemovideo'` bundled by
 * esbuild for the browser (ESM, minified, tree-shaken, split into chunks as an
 * app's bundler does), each chunk gzipped, versus `import ky from 'ky'` bundled
 * the same way. The figure is every chunk a browser can load (the initial chunk
 * and the lazy ones), not the initial chunk alone: only chunks of Node-only code
 * (a path target, `node:http`), which a browser never loads, are left out, and
 * details list them. Goal: ≤ 25 KB gzipped. Lists the largest inputs so an
 * oversized bundle says what to cut.
 */

import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BundleFigures {
  /** Imports a plain browser build could not resolve (Node built-ins), marked external to measure anyway. */
  unresolved: string[];
  /** Every chunk the build emits, minified. */
  minBytes: number;
  /** Every chunk the build emits, each gzipped on its own (as a server sends them). */
  gzipBytes: number;
  /** What the page loads before any call: the entry chunk and what it imports statically. */
  initialGzipBytes: number;
  /** Chunks that only Node-only code paths load (see NODE_ONLY): emitted, never fetched by a browser. */
  nodeOnlyGzipBytes: number;
  /** Every chunk but the Node-only ones: what a browser app can load, whatever it calls. */
  browserGzipBytes: number;
  chunks: {
    file: string;
    gzipBytes: number;
    initial: boolean;
    nodeOnly: boolean;
    inputs: string[];
  }[];
  /** Largest contributors (bytes in the minified output), by package or file. */
  top: { input: string; bytes: number }[];
}

/**
 * Source files that only run on Node (a path target, `node:http`): when the build puts them in
 * chunks of their own, a browser never loads those chunks. A chunk counts as Node-only when
 * every input in it is one of these.
 */
const NODE_ONLY = [
  // src/ when bundling the sources; dist/<name>-<hash>.js (tsup's lazy chunks) when the package.
  /(^|\/)(src\/resources\/downloads\/)?(path-target|file-writer)(-[A-Z0-9]+)?\.[tj]s$/,
  /(^|\/)(src\/core\/)?node-http(-[A-Z0-9]+)?\.[tj]s$/,
];

const ENTRY = 'bundle-entry';

/**
 * Bundle `contents` (an ESM entry resolved from the repo root) for the browser, split into
 * chunks as an app's bundler would (dynamic imports become chunks loaded on first use).
 */
export async function bundle(contents: string): Promise<BundleFigures> {
  const entry: Plugin = {
    name: 'entry',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${ENTRY}$`) }, () => ({ path: ENTRY, namespace: ENTRY }));
      b.onLoad({ filter: /.*/, namespace: ENTRY }, () => ({
        contents,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
  const once = (external: string[]) =>
    build({
      entryPoints: [ENTRY],
      absWorkingDir: ROOT,
      plugins: [entry],
      bundle: true,
      splitting: true,
      outdir: join(tmpdir(), 'nemovideo-bundle-size'),
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      // Resolve 'nemovideo' as a user would (package exports → dist), not through
      // the repo's tsconfig `paths` (which point at src/).
      tsconfigRaw: '{}',
      external,
    });
  let unresolved: string[] = [];
  let out: Awaited<ReturnType<typeof once>>;
  try {
    out = await once([]);
  } catch (error) {
    // A browser build cannot resolve Node built-ins: note them, then measure without them.
    const errors = (error as { errors?: { text: string }[] }).errors ?? [];
    unresolved = errors
      .map((e) => /Could not resolve "([^"]+)"/.exec(e.text)?.[1])
      .filter((x): x is string => x !== undefined);
    if (unresolved.length === 0 || unresolved.length !== errors.length) throw error;
    out = await once(unresolved);
  }
  const meta = out.metafile;
  const key = (path: string) => relative(ROOT, path).replaceAll('\\', '/');
  const files = new Map(out.outputFiles.map((f) => [key(f.path), f.contents]));
  const outputs = Object.entries(meta.outputs).filter(([file]) => file.endsWith('.js'));
  const entryFile = outputs.find(([, o]) => o.entryPoint !== undefined)?.[0];
  if (!entryFile) throw new Error('esbuild produced no entry chunk');
  // The initial set: the entry and, transitively, its static imports.
  const initial = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    for (const i of meta.outputs[file]?.imports ?? []) {
      if (i.kind === 'import-statement' && !i.external) visit(i.path);
    }
  };
  visit(entryFile);
  const chunks = outputs.map(([file, o]) => {
    const bytes = files.get(file);
    if (!bytes) throw new Error(`no output for ${file}`);
    const inputs = Object.keys(o.inputs);
    return {
      file,
      gzipBytes: gzipSync(bytes, { level: 9 }).byteLength,
      minBytes: bytes.byteLength,
      initial: initial.has(file),
      nodeOnly: inputs.length > 0 && inputs.every((i) => NODE_ONLY.some((re) => re.test(i))),
      inputs,
    };
  });
  const sum = (list: typeof chunks, f: (c: (typeof chunks)[number]) => number) =>
    list.reduce((a, c) => a + f(c), 0);
  return {
    unresolved,
    minBytes: sum(chunks, (c) => c.minBytes),
    gzipBytes: sum(chunks, (c) => c.gzipBytes),
    initialGzipBytes: sum(
      chunks.filter((c) => c.initial),
      (c) => c.gzipBytes,
    ),
    nodeOnlyGzipBytes: sum(
      chunks.filter((c) => c.nodeOnly),
      (c) => c.gzipBytes,
    ),
    browserGzipBytes: sum(
      chunks.filter((c) => !c.nodeOnly),
      (c) => c.gzipBytes,
    ),
    chunks: chunks.map(({ minBytes: _, ...c }) => c),
    top: topInputs(meta),
  };
}

/** Group output bytes by package (node_modules) or by file (ours). */
function topInputs(meta: Metafile): { input: string; bytes: number }[] {
  const groups = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(input);
      const key = pkg ? `${pkg[1]} (${pkg[2]?.split('/').slice(0, 2).join('/')})` : input;
      groups.set(key, (groups.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...groups.entries()]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
}

/** Our own code per source file (dependencies external), minified, to see what is big. */
async function ownCodeBySource(): Promise<string[]> {
  const out = await build({
    stdin: {
      contents: "export { NemoClient } from './src/index.ts';",
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'entry.ts',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    tsconfigRaw: '{}',
    external: ['node:*', 'ky', 'zod', 'zod/*', 'eventsource-parser'],
  });
  const inputs = Object.values(out.metafile.outputs)[0]?.inputs ?? {};
  return Object.entries(inputs)
    .filter(([file]) => file.startsWith('src/'))
    .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
    .slice(0, 12)
    .map(([file, { bytesInOutput }]) => `${file}: ${round(bytesInOutput / 1024, 1)} KB`);
}

export async function run(): Promise<BenchResult[]> {
  const sdk = await bundle("export { NemoClient } from 'nemovideo';");
  const ky = await bundle("export { default } from 'ky';");
  const kb = (n: number) => round(n / 1024, 1);
  return [
    result({
      id: 'bundle-size',
      title: 'Browser bundle of { NemoClient }, minified + gzipped, every chunk a browser can load',
      unit: 'KB',
      sdk: kb(sdk.browserGzipBytes),
      baseline: kb(ky.gzipBytes),
      baselineLabel: 'ky, same build',
      goal: { op: '<=', value: 25, on: 'sdk', label: '≤ 25 KB' },
      details: {
        ...(sdk.unresolved.length > 0
          ? {
              unresolvedInBrowserBuild: sdk.unresolved,
              note: 'measured with these marked external; see the build row',
            }
          : {}),
        initialChunkGzipKB: kb(sdk.initialGzipBytes),
        allChunksGzipKB: kb(sdk.gzipBytes),
        nodeOnlyChunksGzipKB: kb(sdk.nodeOnlyGzipBytes),
        chunks: sdk.chunks.map(
          (c) =>
            `${basename(c.file)}: ${kb(c.gzipBytes)} KB${c.initial ? ' (initial)' : ''}${c.nodeOnly ? ' (Node only)' : ''}`,
        ),
        sdkMinifiedKB: kb(sdk.minBytes),
        kyMinifiedKB: kb(ky.minBytes),
        largestInputs: sdk.top.map((t) => `${t.input}: ${kb(t.bytes)} KB`),
        ownCodeMinifiedBySource: await ownCodeBySource(),
      },
    }),
    result({
      id: 'bundle-browser-build',
      title: 'Browser build with no bundler config: unresolvable imports',
      unit: 'imports',
      sdk: sdk.unresolved.length,
      baseline: ky.unresolved.length,
      baselineLabel: 'ky, same build',
      ratio: sdk.unresolved.length === ky.unresolved.length ? 1 : Number.POSITIVE_INFINITY,
      goal: { op: '==', value: 0, on: 'sdk', label: '0' },
      details: { unresolved: sdk.unresolved },
    }),
  ];
}

if (isMain(import.meta.url)) emit(await run());

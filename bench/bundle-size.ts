/**
 * Browser bundle size: `import { NemoClient } from 'nemovideo'` bundled by
 * esbuild for the browser (ESM, minified, tree-shaken), then gzipped, versus
 * `import ky from 'ky'` bundled the same way. Goal: ≤ 25 KB gzipped. Lists the
 * largest inputs so an oversized bundle says what to cut.
 */

import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BundleFigures {
  /** Imports a plain browser build could not resolve (Node built-ins), marked external to measure anyway. */
  unresolved: string[];
  minBytes: number;
  gzipBytes: number;
  /** Largest contributors (bytes in the minified output), by package or file. */
  top: { input: string; bytes: number }[];
}

/** Bundle `contents` (an ESM entry resolved from the repo root) for the browser. */
export async function bundle(contents: string): Promise<BundleFigures> {
  const once = (external: string[]) =>
    build({
      stdin: { contents, resolveDir: ROOT, loader: 'js', sourcefile: 'entry.js' },
      bundle: true,
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
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output');
  return {
    unresolved,
    minBytes: file.contents.byteLength,
    gzipBytes: gzipSync(file.contents, { level: 9 }).byteLength,
    top: topInputs(out.metafile),
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
      title: 'Browser bundle of { NemoClient }, minified + gzipped',
      unit: 'KB',
      sdk: kb(sdk.gzipBytes),
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

/**
 * The browser build (#14.6): `import { NemoClient }` bundled for the browser platform, split into
 * chunks as an app's bundler does. It must build with no configuration (no Node built-in to
 * resolve), and the chunks a page loads up front must carry no Node-only code: `node:http`
 * transfers and path targets sit in chunks only Node code paths load.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ONLY = [
  'src/core/node-http.ts',
  'src/resources/downloads/path-target.ts',
  'src/resources/downloads/file-writer.ts',
];
const NODE_IMPORT = /\bimport\s*\(\s*["']node:|\bfrom\s*["']node:|\brequire\s*\(\s*["']node:/;

describe('browser bundle of { NemoClient }', () => {
  it('builds for the browser with no Node import, and keeps Node-only code out of the initial chunks', async () => {
    const out = await build({
      stdin: {
        contents: "export { NemoClient } from './src/index.ts';",
        resolveDir: ROOT,
        loader: 'ts',
        sourcefile: 'entry.ts',
      },
      absWorkingDir: ROOT,
      bundle: true,
      splitting: true,
      outdir: 'out',
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const outputs = out.metafile.outputs;
    // No import of a Node built-in anywhere (a browser bundler would fail on it).
    for (const [file, output] of Object.entries(outputs)) {
      expect(
        output.imports.filter((i) => i.path.startsWith('node:')),
        file,
      ).toEqual([]);
    }
    for (const file of out.outputFiles) expect(file.text).not.toMatch(NODE_IMPORT);

    const entry = Object.keys(outputs).find((file) => outputs[file]?.entryPoint !== undefined);
    expect(entry).toBeDefined();
    const initial = new Set<string>();
    const visit = (file: string) => {
      if (initial.has(file)) return;
      initial.add(file);
      for (const i of outputs[file]?.imports ?? []) {
        if (i.kind === 'import-statement') visit(i.path);
      }
    };
    visit(entry as string);
    const initialInputs = [...initial].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}));
    expect(initialInputs).toContain('src/client.ts');
    for (const nodeOnly of NODE_ONLY) expect(initialInputs).not.toContain(nodeOnly);
    // ...but they are still reachable (lazily) for Node.
    const allInputs = Object.values(outputs).flatMap((o) => Object.keys(o.inputs));
    for (const nodeOnly of NODE_ONLY) expect(allInputs).toContain(nodeOnly);
  });
});

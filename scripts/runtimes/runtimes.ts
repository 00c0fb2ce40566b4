/**
 * Runtimes installed from the npm registry into a cache folder, once: Node 22,
 * 24 and 26 (the `node` package ships the binary through a platform package), Bun
 * (`bun`) and Deno (`deno`). The cache survives between runs
 * (`NEMO_RUNTIMES_CACHE`, default `<tmp>/nemovideo-runtimes-cache`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Runtime {
  /** `node22`, `bun`… */
  name: string;
  /** Absolute path of the executable. */
  bin: string;
  /** What `--version` printed. */
  version: string;
}

/** npm package spec and the binary inside it, per runtime. */
const SPECS: Record<string, { spec: string; bin: string }> = {
  node22: { spec: 'node@22', bin: 'node_modules/.bin/node' },
  node24: { spec: 'node@24', bin: 'node_modules/.bin/node' },
  node26: { spec: 'node@26', bin: 'node_modules/.bin/node' },
  bun: { spec: 'bun@1', bin: 'node_modules/.bin/bun' },
  deno: { spec: 'deno@2', bin: 'node_modules/.bin/deno' },
};

export function cacheDir(): string {
  return process.env.NEMO_RUNTIMES_CACHE ?? join(tmpdir(), 'nemovideo-runtimes-cache');
}

function version(bin: string): string {
  return execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 })
    .trim()
    .split('\n')[0]
    ?.replace(/ \(.*$/, '') as string;
}

/** The runtime, installed into the cache first if needed. Throws when it cannot be installed. */
export function ensureRuntime(name: string): Runtime {
  const entry = SPECS[name];
  if (!entry) throw new Error(`unknown runtime ${name}`);
  const dir = join(cacheDir(), name);
  const bin = join(dir, entry.bin);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: `runtime-${name}`, private: true }, null, 2)}\n`,
    );
    console.error(`installing ${entry.spec} into ${dir}…`);
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--foreground-scripts',
        entry.spec,
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
    );
  }
  return { name, bin, version: version(bin) };
}

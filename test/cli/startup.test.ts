/**
 * What the built bin loads before it does anything: `nemovideo --help` and `--version` need
 * neither commander nor the SDK, and declaring the commands (any `nemovideo <command> --help`)
 * needs commander but not the SDK. Checked on dist/ by following static imports, the ones
 * Node evaluates before the first line runs; `import()` is where the lazy parts start.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from './helpers.js';

beforeAll(() => {
  ensureBuilt();
}, 180_000);

const STATIC_IMPORT = /(?:^|\n)\s*(?:import|export)\s*(?:[\w*{}\s,$]*?\sfrom\s*)?["']([^"']+)["']/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Every file the entry loads statically, and the packages they import. */
function staticClosure(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (files.includes(file)) continue;
    files.push(file);
    for (const [, specifier = ''] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}

function dynamicImportOf(file: string, pattern: RegExp): string {
  for (const [, specifier = ''] of readFileSync(file, 'utf8').matchAll(DYNAMIC_IMPORT)) {
    if (pattern.test(specifier)) return resolve(dirname(file), specifier);
  }
  throw new Error(`${file} has no import() matching ${pattern}`);
}

const SDK_PACKAGES = ['ky', 'zod', 'zod/mini', 'eventsource-parser'];
/** A string of commander's code (one of its error codes), bundled into the program chunk. */
const COMMANDER = 'commander.unknownOption';
const has = (files: string[], marker: string) =>
  files.some((f) => readFileSync(f, 'utf8').includes(marker));

describe('the bin loads only what the command needs', () => {
  it('--help and --version: the bin alone, no commander, no SDK', () => {
    const { files, packages } = staticClosure(BIN);
    expect([...packages].filter((p) => !BUILTINS.has(p))).toEqual([]);
    expect(has(files, COMMANDER)).toBe(false);
    // A few small chunks: the command table, the help, the exit codes.
    const bytes = files.reduce((n, f) => n + readFileSync(f).length, 0);
    expect(bytes).toBeLessThan(40_000);
  });

  it('declaring the commands (any --help): commander, bundled, and still no SDK', () => {
    const program = dynamicImportOf(BIN, /program/);
    const { files, packages } = staticClosure(program);
    expect(has(files, COMMANDER)).toBe(true);
    // Not even the SDK's dependencies: the SDK is not loaded.
    expect([...packages].filter((p) => !BUILTINS.has(p))).toEqual([]);
  });

  it('the SDK arrives with the implementation of a command that talks to the service', () => {
    // The command table (in the bin's closure) holds the import() of each implementation.
    const table = staticClosure(BIN).files.find((f) =>
      /import\(\s*["'][^"']*download[^"']*["']\s*\)/.test(readFileSync(f, 'utf8')),
    );
    expect(table).toBeDefined();
    const { packages } = staticClosure(dynamicImportOf(table as string, /download/));
    expect(SDK_PACKAGES.filter((p) => packages.has(p))).not.toEqual([]);
  });
});

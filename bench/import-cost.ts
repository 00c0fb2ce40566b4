/**
 * Import cost: time to `await import('nemovideo')` (the built package, resolved
 * through its `exports`) versus `await import('ky')`, each in a fresh Node
 * process, median of N alternating runs. Measured inside the child, so Node's
 * own start-up is excluded.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { median, round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function importMs(specifier: string): number {
  const code = `const t0 = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t0));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (child.status !== 0) {
    throw new Error(`import(${specifier}) failed in a child process:\n${child.stderr}`);
  }
  return Number(child.stdout);
}

export async function run(options: { runs?: number } = {}): Promise<BenchResult[]> {
  const runs = options.runs ?? 21;
  // Warm the OS file cache once for both.
  importMs('nemovideo');
  importMs('ky');
  const sdk: number[] = [];
  const ky: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      sdk.push(importMs('nemovideo'));
      ky.push(importMs('ky'));
    } else {
      ky.push(importMs('ky'));
      sdk.push(importMs('nemovideo'));
    }
  }
  return [
    result({
      id: 'import-cost',
      title: `Import cost (median of ${runs} fresh processes)`,
      unit: 'ms',
      sdk: round(median(sdk), 2),
      baseline: round(median(ky), 2),
      baselineLabel: "import('ky')",
      goal: { op: '<=', value: 1.5, on: 'ratio', label: '≤ 1.5×' },
      details: {
        runs,
        sdkMinMs: round(Math.min(...sdk), 2),
        kyMinMs: round(Math.min(...ky), 2),
        note: 'nemovideo imports ky and eventsource-parser (zod is bundled into its chunk, tree-shaken), so it cannot be cheaper than ky',
      },
    }),
  ];
}

if (isMain(import.meta.url)) emit(await run());

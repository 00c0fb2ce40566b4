/**
 * CLI start-up: wall time of `nemovideo --help` (the built bin) versus `node -e 0`, each a
 * fresh process, median of interleaved rounds (the order alternates every round, so drift in
 * the machine's load hits both). Goal (#14): at most 2× `node -e 0`. Also reported, without a
 * goal: `nemovideo download --help`, which declares the commands with commander but loads
 * no SDK.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { median, round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${ROOT}dist/cli/bin.js`;

/** Wall time of one fresh `node …args` to its exit, in ms. */
function wallMs(args: readonly string[]): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    // No --import tsx or other preloads from the runner: a user's plain `node`.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ms = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited ${child.status}:\n${child.stderr}`);
  }
  return ms;
}

export async function run(options: { rounds?: number } = {}): Promise<BenchResult[]> {
  const rounds = options.rounds ?? 21;
  const cases = {
    node: ['-e', '0'],
    help: [BIN, '--help'],
    commandHelp: [BIN, 'download', '--help'],
  } as const;
  const samples: Record<keyof typeof cases, number[]> = { node: [], help: [], commandHelp: [] };
  const names = Object.keys(cases) as Array<keyof typeof cases>;
  // Warm the file cache once.
  for (const name of names) wallMs(cases[name]);
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name].push(wallMs(cases[name]));
  }
  const node = median(samples.node);
  const details = (name: keyof typeof cases) => ({
    rounds,
    minMs: round(Math.min(...samples[name]), 1),
    nodeMinMs: round(Math.min(...samples.node), 1),
  });
  return [
    result({
      id: 'cli-help',
      title: `nemovideo --help, wall time (median of ${rounds} interleaved rounds)`,
      unit: 'ms',
      sdk: round(median(samples.help), 1),
      baseline: round(node, 1),
      baselineLabel: 'node -e 0',
      goal: { op: '<=', value: 2, on: 'ratio', label: '≤ 2×' },
      details: {
        ...details('help'),
        note: 'answered from the command table: no commander, no SDK, no command module',
      },
    }),
    result({
      id: 'cli-command-help',
      title: `nemovideo download --help, wall time (median of ${rounds} rounds)`,
      unit: 'ms',
      sdk: round(median(samples.commandHelp), 1),
      baseline: round(node, 1),
      baselineLabel: 'node -e 0',
      details: {
        ...details('commandHelp'),
        note: 'commander (bundled) declares the commands; no SDK',
      },
    }),
  ];
}

if (isMain(import.meta.url)) emit(await run());

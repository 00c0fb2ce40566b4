/**
 * `npm run bench`: build the package, run every benchmark in its own Node
 * process (fresh heap, honest RSS), print one table and write
 * `bench/results.json`.
 *
 * Options: `--no-build` (use the existing dist/), `--only a,b` (file names
 * without `.ts`), `--check` (exit 1 when a goal is missed), `--update-docs`
 * (write the table into docs/performance.md between its markers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ADAPTERS } from './lib/adapters.js';
import { type BenchResult, parseResults } from './lib/result.js';
import { table } from './lib/table.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Our benchmarks first, in this order; then any other `bench/*.ts` that uses
 * the harness (calls `emit()` when run directly, see lib/result.ts). Files that
 * do not (helpers, child servers, scripts not yet adapted) are listed, not run.
 */
const ORDER = ['overhead-credits', 'token-storm', 'import-cost', 'cli-startup', 'bundle-size'];
/** Files in bench/ that are not benchmarks. */
const NOT_BENCHMARKS = new Set(['run']);

interface Failure {
  bench: string;
  error: string;
}

function args() {
  const argv = process.argv.slice(2);
  const onlyAt = argv.indexOf('--only');
  return {
    build: !argv.includes('--no-build'),
    check: argv.includes('--check'),
    updateDocs: argv.includes('--update-docs'),
    only: onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined,
  };
}

function discover(): { benches: string[]; skipped: string[] } {
  const found = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((f) => !NOT_BENCHMARKS.has(f));
  const usesHarness = (f: string) =>
    f in ADAPTERS || /\bemit\(/.test(readFileSync(`${BENCH_DIR}${f}.ts`, 'utf8'));
  const known = ORDER.filter((f) => found.includes(f));
  const others = found.filter((f) => !ORDER.includes(f)).sort();
  return {
    benches: [...known, ...others.filter(usesHarness)],
    skipped: others.filter((f) => !usesHarness(f)),
  };
}

/** Run one benchmark file in a child process; resolve with its results. */
function runChild(name: string, timeoutMs: number): Promise<BenchResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', `${BENCH_DIR}${name}.ts`, ...(ADAPTERS[name]?.args ?? [])],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NEMO_BENCH: '1' } },
    );
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stderr.write(`  [${name}] ${line}\n`);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let results = parseResults(stdout);
      const adapter = ADAPTERS[name];
      if (results.length === 0 && adapter) {
        // A script judging its own goal may exit 1 on a miss: its figures still count.
        try {
          results = adapter.parse(stdout);
          resolve(results);
          return;
        } catch (error) {
          if (code === 0) {
            reject(new Error(`its output did not parse: ${(error as Error).message}`));
            return;
          }
        }
      }
      if (code !== 0) {
        reject(
          new Error(`exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`),
        );
      } else if (results.length === 0) {
        reject(new Error('printed no BENCH_RESULT line'));
      } else resolve(results);
    });
  });
}

const DOCS = `${ROOT}docs/performance.md`;
const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

/** Replace the table between the markers of docs/performance.md. */
function updateDocs(env: { node: string; platform: string; cpus: string }, results: BenchResult[]) {
  const doc = readFileSync(DOCS, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOCS} has no ${START} … ${END} block`);
  const block = [
    START,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${env.node}, ${env.platform}, ${env.cpus} (\`npm run bench\`).`,
    '',
    table(results),
    '',
    END,
  ].join('\n');
  writeFileSync(DOCS, `${doc.slice(0, from)}${block}${doc.slice(to + END.length)}`);
  console.error(`updated ${DOCS}`);
}

async function main(): Promise<void> {
  const options = args();
  if (options.build) {
    console.error('building the package (npm run build)…');
    const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }
  const found = discover();
  const benches = found.benches.filter((b) => !options.only || options.only.has(b));
  if (found.skipped.length > 0) {
    console.error(
      `not benchmarks (no emit() call, no adapter), skipped: ${found.skipped.join(', ')}`,
    );
  }
  const results: (BenchResult & { bench?: string })[] = [];
  const failures: Failure[] = [];
  for (const bench of benches) {
    console.error(`running ${bench}…`);
    const started = performance.now();
    try {
      results.push(...(await runChild(bench, 10 * 60_000)).map((r) => ({ ...r, bench })));
      console.error(`  ${bench} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      failures.push({ bench, error: error instanceof Error ? error.message : String(error) });
      console.error(`  ${bench} FAILED: ${failures.at(-1)?.error}`);
    }
  }

  if (options.only) {
    // A partial run keeps the other benchmarks' last figures.
    try {
      const previous = JSON.parse(readFileSync(`${BENCH_DIR}results.json`, 'utf8')) as {
        results?: (BenchResult & { bench?: string })[];
      };
      const kept = (previous.results ?? []).filter((r) => r.bench && !benches.includes(r.bench));
      results.unshift(...kept);
      // Keep the usual order (ours first, then the others), whatever ran this time.
      const order = (r: { bench?: string }) => {
        const i = found.benches.indexOf(r.bench ?? '');
        return i < 0 ? found.benches.length : i;
      };
      results.sort((a, b) => order(a) - order(b));
    } catch {
      // no previous results
    }
  }
  const report = {
    generatedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
      memoryGB: Math.round(totalmem() / 2 ** 30),
    },
    results,
    failures,
  };
  writeFileSync(`${BENCH_DIR}results.json`, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\nnemovideo benchmarks, ${report.environment.node}, ${report.environment.cpus}\n`);
  console.log(table(results));
  for (const f of failures) console.log(`\nFAILED ${f.bench}: ${f.error}`);
  if (options.updateDocs) updateDocs(report.environment, results);
  const missed = results.filter((r) => r.pass === false);
  console.log(
    `\n${results.length} figures, ${missed.length} goal(s) missed, ${failures.length} benchmark(s) failed; written to bench/results.json`,
  );
  if (failures.length > 0 || (options.check && missed.length > 0)) process.exitCode = 1;
}

await main();

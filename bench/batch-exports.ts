/**
 * Batch exports (#16): 200 exports at concurrency 20 through `client.batch.export()`
 * against the loopback emulator with a fixed render time. Three processes: this one
 * orchestrates, the emulator runs in its own (batch-emulator-child.ts), and the batch in
 * its own plain Node process on the built package (batch-process.mjs: no tsx, so its
 * memory is the SDK's, as a user's batch process).
 *
 * - wall time against the ideal, items × render time ÷ concurrency (goal ≤ 1.2×): what the
 *   pool, the polling, the journal and the per-item requests add to the renders themselves;
 * - peak RSS of the batch process (goal < 150 MB), with the V8 heap at that moment;
 * - p99 event-loop delay during the batch (perf_hooks.monitorEventLoopDelay), against the
 *   same process idle.
 *
 * Env: BATCH_ITEMS (200), BATCH_CONCURRENCY (20), RENDER_MS (3000), BATCH_JOURNAL=memory
 * (the batch without the default file journal's writes).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { round } from './lib/stats.js';

const ITEMS = Number(process.env.BATCH_ITEMS ?? 200);
const CONCURRENCY = Number(process.env.BATCH_CONCURRENCY ?? 20);
const RENDER_MS = Number(process.env.RENDER_MS ?? 3000);
/**
 * Render polls every 250 ms: the wait overshoots a render by 125 ms on average (4 % of 3 s),
 * and a 3 s render costs 12 polls (every request costs CPU in both processes).
 */
const POLL_MS = 250;
const JOURNAL = process.env.BATCH_JOURNAL === 'memory' ? 'memory' : 'file';

interface BatchFigures {
  wallMs: number;
  /** CPU time of the batch process during the batch (user + system). */
  cpuMs: number;
  notDone: number;
  firstProblem?: string;
  rssBefore: number;
  peak: NodeJS.MemoryUsage;
  maxRss: number;
  loopP99: number;
  loopMax: number;
  loopMean: number;
  idleP99: number;
}

function startEmulator(): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('batch-emulator-child.ts', import.meta.url))],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RENDER_MS: String(RENDER_MS) } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
  });
}

function runBatch(env: Record<string, string>): Promise<BatchFigures> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('batch-process.mjs', import.meta.url))],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`the batch process exited (${code}): ${out}`));
        return;
      }
      resolve(JSON.parse(line) as BatchFigures);
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const emulator = await startEmulator();
  const dir = await mkdtemp(join(tmpdir(), 'nemo-bench-batch-'));
  await mkdir(join(dir, 'out'));
  try {
    const load = loadavg()[0] ?? 0;
    const f = await runBatch({
      API_URL: emulator.url,
      OUT_DIR: join(dir, 'out'),
      CONFIG_DIR: join(dir, 'config'),
      BATCH_ITEMS: String(ITEMS),
      BATCH_CONCURRENCY: String(CONCURRENCY),
      POLL_MS: String(POLL_MS),
      BATCH_JOURNAL: JOURNAL,
    });
    if (f.notDone > 0) {
      throw new Error(`${f.notDone} of ${ITEMS} exports did not finish: ${f.firstProblem}`);
    }
    const idealMs = (ITEMS * RENDER_MS) / CONCURRENCY;
    const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
    const details = {
      items: ITEMS,
      concurrency: CONCURRENCY,
      renderMs: RENDER_MS,
      pollMs: POLL_MS,
      journal: JOURNAL,
      // The machine may be shared: a load above its cores stretches the wall time.
      loadAverage1m: round(load, 1),
    };
    return [
      result({
        id: 'batch-wall',
        title: `Batch: ${ITEMS} exports at concurrency ${CONCURRENCY}, wall time`,
        unit: 'ms',
        sdk: round(f.wallMs, 0),
        baseline: idealMs,
        baselineLabel: 'ideal: items × render time ÷ concurrency',
        goal: { op: '<=', value: 1.2, on: 'ratio', label: '≤ 1.2×' },
        details: { ...details, cpuMsPerExport: round(f.cpuMs / ITEMS, 1) },
      }),
      result({
        id: 'batch-rss',
        title: `Batch: peak RSS of the batch process (${ITEMS} exports)`,
        unit: 'MB',
        sdk: mb(f.peak.rss),
        baseline: mb(f.rssBefore),
        baselineLabel: 'the same process before the batch',
        goal: { op: '<=', value: 150, on: 'sdk', label: '< 150 MB' },
        details: {
          ...details,
          maxRssMB: mb(f.maxRss),
          atPeakMB: {
            heapTotal: mb(f.peak.heapTotal),
            heapUsed: mb(f.peak.heapUsed),
            external: mb(f.peak.external),
            arrayBuffers: mb(f.peak.arrayBuffers),
          },
        },
      }),
      result({
        id: 'batch-loop-delay',
        title: 'Batch: p99 event-loop delay during the batch',
        unit: 'ms',
        sdk: round(f.loopP99, 2),
        baseline: round(f.idleP99, 2),
        baselineLabel: 'the same process idle',
        details: { ...details, maxMs: round(f.loopMax, 1), meanMs: round(f.loopMean, 2) },
      }),
    ];
  } finally {
    emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) emit(await run());

/**
 * Child process of bench/batch-exports.ts: the batch itself, in plain Node (no tsx, no
 * transpiler in memory) on the built package, as a user's batch process runs. Measures
 * its wall time, peak RSS and event-loop delay and prints them as one JSON line.
 *
 * Env: API_URL, OUT_DIR, CONFIG_DIR, BATCH_ITEMS, BATCH_CONCURRENCY, POLL_MS, BATCH_JOURNAL.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryJournal } from '../dist/helpers.js';
import { NemoClient } from '../dist/index.js';

const items = Number(process.env.BATCH_ITEMS);
const concurrency = Number(process.env.BATCH_CONCURRENCY);
const outDir = process.env.OUT_DIR;

/** The jobs, made one at a time as the batch asks for them (an async iterable). */
async function* jobs() {
  for (let i = 0; i < items; i++) {
    yield {
      inputs: [`https://cdn.example.com/clips/clip-${i}.mp4`],
      prompt: 'download this video in MP4 at 1080p',
      to: join(outDir, `clip-${i}.mp4`),
    };
  }
}

const client = new NemoClient({
  baseUrl: process.env.API_URL,
  configDir: process.env.CONFIG_DIR,
  logLevel: 'off',
});
await client.credits.balance(); // the token, once, before the clock starts

// The same process idle, for the event-loop baseline.
const idle = monitorEventLoopDelay({ resolution: 10 });
idle.enable();
await delay(1000);
idle.disable();

const rssBefore = process.memoryUsage().rss;
let peak = process.memoryUsage();
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  if (now.rss > peak.rss) peak = now;
}, 50);
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
const cpuBefore = process.cpuUsage();
const results = await client.batch.export(jobs(), {
  concurrency,
  pollInterval: Number(process.env.POLL_MS),
  maxWait: 120_000,
  ...(process.env.BATCH_JOURNAL === 'memory' ? { journal: new MemoryJournal() } : {}),
});
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
loop.disable();
clearInterval(sampler);
const end = process.memoryUsage();
if (end.rss > peak.rss) peak = end;

const notDone = results.filter((item) => item.status !== 'done');
process.stdout.write(
  `${JSON.stringify({
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    notDone: notDone.length,
    firstProblem: notDone[0]?.error?.message ?? notDone[0]?.status,
    rssBefore,
    peak,
    maxRss: process.resourceUsage().maxRSS * 1024,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    loopMean: loop.mean / 1e6,
    idleP99: idle.percentile(99) / 1e6,
  })}\n`,
);

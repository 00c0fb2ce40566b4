/**
 * Batch: several videos, each with its own instruction, session and render, at most
 * `CONCURRENCY` at a time. One failure does not stop the others.
 *
 *   NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/batch.ts
 */

import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isNemoError, NemoClient } from 'nemovideo';
import { FileTokenStore } from 'nemovideo/helpers';

const CONCURRENCY = 2;

const jobs = [
  {
    url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
    instruction: 'download this video in MP4 at 1080p',
    out: 'demo-output/batch-1.mp4',
  },
  {
    url: 'https://cdn.example.com/city.mp4',
    instruction: 'convert this video to a 720p MP4',
    out: 'demo-output/batch-2.mp4',
  },
  {
    url: 'https://cdn.example.com/beach.mov',
    instruction: 'make a vertical 1080p MP4 for reels',
    out: 'demo-output/batch-3.mp4',
  },
];

/** Runs `worker` over `items` with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        results[index] = { status: 'fulfilled', value: await worker(item, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

// One client for the whole batch: one token, one connection pool.
const client = new NemoClient({
  // Keep the free anonymous token between runs: the service grants one per client id at a time.
  tokenStore: new FileTokenStore(`${homedir()}/.config/nemovideo/examples-token.json`),
});
await mkdir('demo-output', { recursive: true });

const results = await mapBounded(jobs, CONCURRENCY, async (job, i) => {
  const session = await client.sessions.create();
  await session.uploadUrl(job.url);
  const turn = await session.send(job.instruction);
  const said = turn.silent ? (turn.summary ?? '') : turn.text;
  console.log(`[${i + 1}] ${said.replace(/\s+/g, ' ').slice(0, 100)}`);
  const result = await session.export({ to: job.out, pollInterval: 10_000 });
  return `${result.path} (${result.bytes} bytes)`;
});

results.forEach((r, i) => {
  if (r.status === 'fulfilled') console.log(`✓ ${jobs[i]?.url} → ${r.value}`);
  else
    console.log(
      `✗ ${jobs[i]?.url}: ${isNemoError(r.reason) ? r.reason.message : String(r.reason)}`,
    );
});
if (results.some((r) => r.status === 'rejected')) process.exitCode = 1;

/**
 * The producer: put one export job per video link on the queue, then wait for
 * the workers to finish them and print what became of each.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/bullmq/enqueue.ts <link> [<link>…]
 *
 * Each MP4 goes to `demo-output/bullmq/<job id>.mp4` (OUT_DIR to change it): a
 * path every worker can write, so workers on several machines need a shared
 * folder there (or a step that uploads the file where you keep results).
 */
import { resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { connect, type ExportJobData, type ExportJobReturn, QUEUE } from './shared.js';

export interface EnqueueOptions {
  redisUrl?: string | undefined;
  /** Folder of the MP4s. Default `OUT_DIR`, else `demo-output/bullmq`. */
  outDir?: string | undefined;
  /** The instruction for every video. Default: nemovideo's (`download this video in MP4`). */
  prompt?: string | undefined;
}

/** Add one job per link; resolves with the queue and the jobs' ids. */
export async function enqueue(links: readonly string[], options: EnqueueOptions = {}) {
  const queue = new Queue<ExportJobData, ExportJobReturn>(QUEUE, {
    connection: connect(options.redisUrl),
  });
  const outDir = resolve(options.outDir ?? process.env.OUT_DIR ?? 'demo-output/bullmq');
  const jobs = await queue.addBulk(
    links.map((link, i) => ({
      name: 'export',
      data: {
        export: {
          inputs: [link],
          ...(options.prompt ? { prompt: options.prompt } : {}),
          to: `${outDir}/video-${Date.now()}-${i + 1}.mp4`,
        },
      },
      // A failure another attempt may get past is retried; the workflow resumes where it stopped.
      opts: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 } },
    })),
  );
  return { queue, ids: jobs.map((job) => job.id as string) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const links = process.argv.slice(2);
  if (links.length === 0) {
    console.error('usage: npx tsx examples/bullmq/enqueue.ts <video link> [<video link>…]');
    process.exit(2);
  }
  const events = new QueueEvents(QUEUE, { connection: connect() });
  await events.waitUntilReady();
  const { queue, ids } = await enqueue(links);
  console.log(`queued ${ids.length} job(s): ${ids.join(', ')}`);
  let failed = 0;
  await Promise.all(
    ids.map(async (id) => {
      const job = await queue.getJob(id);
      try {
        const result = await job?.waitUntilFinished(events);
        console.log(`✓ job ${id}: ${result?.path} (${result?.bytes} bytes, by ${result?.worker})`);
      } catch (error) {
        failed += 1;
        console.log(`✗ job ${id}: ${(error as Error).message}`);
      }
    }),
  );
  await Promise.all([queue.close(), events.close()]);
  process.exit(failed > 0 ? 1 : 0);
}

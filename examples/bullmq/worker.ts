/**
 * A worker of the export queue: takes jobs from BullMQ and runs each as
 * nemovideo's durable export workflow, with the job's steps kept in the job's
 * data. Every worker, on any machine, shares one anonymous token and one 429
 * budget through Redis (`nemovideo/redis`).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/bullmq/worker.ts
 *
 * A worker killed mid-job (kill -9, a lost machine) stops renewing the job's
 * lock; after `lockDuration` another worker's stalled-job check puts the job
 * back in the queue, and the next worker resumes it from the steps in its data:
 * the same session and render, the message not sent again.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import {
  ApiError,
  ConnectionError,
  isNemoError,
  NemoClient,
  type NemoClientOptions,
  RateLimitError,
  StreamError,
  TimeoutError,
} from 'nemovideo';
import type { ExportJobOptions, ExportJobProgress } from 'nemovideo/helpers';
import { sharedClientOptions } from 'nemovideo/redis';
import { BullMQJournal } from './journal.js';
import { connect, type ExportJobData, type ExportJobReturn, QUEUE } from './shared.js';

export interface WorkerSettings {
  /** Redis URL. Default `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  redisUrl?: string | undefined;
  /** This worker's name (in results and logs). Default `<host>:<pid>`. */
  name?: string | undefined;
  /** Jobs run at once by this worker. Default 4. */
  concurrency?: number | undefined;
  /** How long a job stays locked to a worker that stopped renewing it. Default 30 s (BullMQ's). */
  lockDuration?: number | undefined;
  /** How often this worker looks for stalled jobs. Default 30 s (BullMQ's). */
  stalledInterval?: number | undefined;
  /** More options for the NemoClient (baseUrl, backend…). */
  client?: NemoClientOptions | undefined;
  /** More options for each export (poll interval, max wait…). */
  export?: Omit<ExportJobOptions, 'journal' | 'jobId' | 'signal'> | undefined;
  /** Called at each step of each job. */
  onProgress?: ((job: Job<ExportJobData>, progress: ExportJobProgress) => void) | undefined;
}

/** Failures that another attempt may get past (the workflow resumes where it stopped). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RateLimitError) return true;
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  if (error instanceof StreamError) return true;
  if (error instanceof ApiError) return error.httpStatus >= 500 && error.code === undefined;
  return isNemoError(error) && /^(DownloadError|UploadError)$/.test(error.name);
}

/** Start a worker; resolves once it is connected and taking jobs. */
export async function startWorker(settings: WorkerSettings = {}): Promise<Worker> {
  const name = settings.name ?? `${hostname()}:${process.pid}`;
  const redis = connect(settings.redisUrl);
  // One client per worker process: every job shares its token, connections and 429 budget,
  // and through Redis, those of every other worker.
  const client = new NemoClient({ ...(await sharedClientOptions(redis)), ...settings.client });

  const worker = new Worker<ExportJobData, ExportJobReturn>(
    QUEUE,
    async (job, _token, signal) => {
      try {
        await mkdir(dirname(job.data.export.to), { recursive: true });
        const result = await client.workflows.export(job.data.export, {
          ...settings.export,
          journal: new BullMQJournal(job),
          jobId: `bullmq_${job.id}`,
          signal,
          onProgress: (progress) => settings.onProgress?.(job, progress),
        });
        return {
          path: result.path,
          bytes: result.bytes,
          sessionId: result.sessionId,
          renderId: result.renderId,
          resumedSteps: result.resumedSteps,
          worker: name,
        };
      } catch (error) {
        // BullMQ keeps the message; the class name goes in front of it. Retry what may pass.
        const label =
          error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`;
        throw isRetryable(error) ? new Error(label) : new UnrecoverableError(label);
      }
    },
    {
      connection: redis,
      concurrency: settings.concurrency ?? 4,
      lockDuration: settings.lockDuration ?? 30_000,
      stalledInterval: settings.stalledInterval ?? 30_000,
      // A job whose worker died is resumed, not failed: allow it to stall twice.
      maxStalledCount: 2,
    },
  );
  await worker.waitUntilReady();
  return worker;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const worker = await startWorker({
    onProgress: (job, p) => console.log(`job ${job.id}: ${p.step}${p.resumed ? ' (resumed)' : ''}`),
  });
  worker.on('completed', (job, result) => console.log(`job ${job.id} done: ${result.path}`));
  worker.on('failed', (job, error) => console.log(`job ${job?.id} failed: ${error.message}`));
  console.log(`worker ready on queue ${QUEUE}; Ctrl-C to stop`);
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

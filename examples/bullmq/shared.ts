/**
 * What the queue's producer and its workers agree on: the queue name, the job
 * data, and how to reach Redis.
 */
import { Redis } from 'ioredis';
import type { ExportJob, ExportJobStep, JobRecord } from 'nemovideo/helpers';

/** The BullMQ queue of export jobs. */
export const QUEUE = 'nemovideo-exports';

/** A queued export: what to export, and (kept by the worker) the durable steps done so far. */
export interface ExportJobData {
  /** The inputs, the instruction and the output path (`client.workflows.export()`'s job). */
  export: ExportJob;
  /**
   * The job's journal record: session id, uploads, message sent, render id,
   * download progress. Written by the worker after each step (never a token).
   */
  journal?: JobRecord | undefined;
}

/** What a finished job returns. */
export interface ExportJobReturn {
  path: string;
  bytes: number;
  sessionId: string;
  renderId: string;
  /** Steps a worker took from the journal instead of doing again (after a crash, a retry). */
  resumedSteps: ExportJobStep[];
  /** The worker that finished the job. */
  worker: string;
}

/** A Redis connection for BullMQ (which needs `maxRetriesPerRequest: null` on its connections). */
export function connect(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

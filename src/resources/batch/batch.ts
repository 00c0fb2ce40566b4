import { nodePath } from '../../core/node.js';
import { ConfigError } from '../../errors/errors.js';
import type {
  ExportJob,
  ExportJobOptions,
  ExportJobProgress,
  ExportJobResult,
} from '../workflows/export-job.js';
import type { WorkflowsResource } from '../workflows/workflows.js';
import { checkConcurrency, runPool } from './pool.js';

/** The concurrency of a batch unless one is given. */
export const DEFAULT_BATCH_CONCURRENCY = 4;

/** A finished item's export, as a batch keeps it: the turn is left out (it is in `onProgress`). */
export type BatchExportResult = Omit<ExportJobResult, 'turn'>;

/**
 * What became of one job of a batch.
 *
 * - `done`: exported by this batch (perhaps resuming a run that stopped);
 * - `skipped`: already exported by an earlier run (its journal entry is done
 *   and the file is there): nothing was sent or fetched;
 * - `failed`: `error` says why (a `NemoError` subclass for anything the SDK
 *   raised). The other jobs went on.
 */
export type BatchItem =
  | {
      /** Position of the job in the input (0-based). */
      index: number;
      job: ExportJob;
      jobId: string;
      status: 'done' | 'skipped';
      result: BatchExportResult;
      error?: undefined;
    }
  | {
      index: number;
      job: ExportJob;
      /** `undefined` when the job was refused before it had an id (invalid inputs). */
      jobId: string | undefined;
      status: 'failed';
      error: Error;
      result?: undefined;
    };

/** Progress of one job of a batch: the workflow's progress, with the job's position. */
export type BatchProgress = ExportJobProgress & { index: number };

/** Options of `client.batch.export()`. */
export interface BatchExportOptions
  extends Omit<ExportJobOptions, 'jobId' | 'onProgress' | 'onEvent'> {
  /** Jobs run at once. Default 4. */
  concurrency?: number | undefined;
  /** Called once per job as it ends (in completion order). A throw stops the batch. */
  onItem?: ((item: BatchItem) => void) | undefined;
  /** Called at each step of each job (see `ExportJobProgress`), with the job's `index`. */
  onProgress?: ((progress: BatchProgress) => void) | undefined;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * `client.batch`: the durable export workflow over many jobs, a bounded number
 * at a time, one result per job.
 */
export class BatchResource {
  readonly #workflows: WorkflowsResource;

  /** @internal Use `client.batch`. */
  constructor(workflows: WorkflowsResource) {
    this.#workflows = workflows;
  }

  /**
   * Run `client.workflows.export()` for every job, at most `concurrency` at a
   * time. Resolves, once all have ended, to one {@link BatchItem} per job in
   * input order; it never rejects because a job failed (that job's item says
   * why). Each job is durable: run the same batch again and finished jobs are
   * `skipped`, unfinished ones resume where they stopped.
   *
   * `jobs` may be an array or any (async) iterable: jobs are read one at a
   * time as slots free up, never ahead, so a generator over a list of
   * millions runs in flat memory. All jobs share the client: one token, one
   * connection pool, and one 429 backoff (a 429 pauses every job, through the
   * client's rate budget). Two jobs that write the same file are refused (the
   * second fails with a `ConfigError`).
   *
   * @throws {AbortError} `signal` aborted: jobs in flight stop (each stays in
   *   the journal, to resume), no new one starts. `onItem` has reported every
   *   job that ended.
   * @throws {ConfigError} `concurrency` is not a whole number ≥ 1.
   *
   * @example
   * ```ts
   * const items = await client.batch.export(
   *   [
   *     { inputs: ['https://example.com/a.mp4'], to: 'out/a.mp4' },
   *     { inputs: ['https://example.com/b.mp4'], prompt: 'make it vertical', to: 'out/b.mp4' },
   *   ],
   *   { concurrency: 8, onItem: (item) => console.log(item.index, item.status) },
   * );
   * const failed = items.filter((item) => item.status === 'failed');
   * ```
   */
  async export(
    jobs: Iterable<ExportJob> | AsyncIterable<ExportJob>,
    options: BatchExportOptions = {},
  ): Promise<BatchItem[]> {
    const { concurrency, onItem, onProgress, signal, ...exportOptions } = options;
    const limit = checkConcurrency(concurrency ?? DEFAULT_BATCH_CONCURRENCY);
    const workflows = this.#workflows;
    /** Output paths of the batch so far, to refuse two jobs writing one file. */
    const outputs = new Map<string, number>();

    /** One job: never throws (a failure is its item); the pool only sees aborts. */
    const run = async (job: ExportJob, index: number, stop: AbortSignal): Promise<BatchItem> => {
      let jobId: string | undefined;
      try {
        const id = await workflows.jobId(job);
        jobId = id;
        const to = (await nodePath()).resolve(job.to);
        const first = outputs.get(to);
        if (first !== undefined) {
          throw new ConfigError(
            `Job ${index} of the batch writes ${to}, as job ${first} does: give each job its own output path.`,
          );
        }
        outputs.set(to, index);
        const result = await workflows.export(job, {
          ...exportOptions,
          jobId: id,
          signal: stop,
          ...(onProgress
            ? { onProgress: (p: ExportJobProgress) => onProgress({ ...p, index }) }
            : {}),
        });
        const { turn: _turn, ...kept } = result;
        // Nothing fetched and every step from the journal: an earlier run finished it.
        const skipped = result.url === undefined && result.transferredBytes === 0;
        return { index, job, jobId: id, status: skipped ? 'skipped' : 'done', result: kept };
      } catch (error) {
        return { index, job, jobId, status: 'failed', error: asError(error) };
      }
    };

    return runPool(jobs, run, {
      concurrency: limit,
      signal,
      keep: (outcome): BatchItem =>
        outcome.ok
          ? outcome.value
          : {
              index: outcome.index,
              job: outcome.input,
              jobId: undefined,
              status: 'failed',
              error: asError(outcome.error),
            },
      onSettled: onItem,
    });
  }
}

/**
 * A `JobJournal` (nemovideo's durable-workflow journal) kept in the BullMQ
 * job's own data: the steps of an export (session, uploads, message sent,
 * render id, download) are saved with `job.updateData()` as they happen, so a
 * worker that dies mid-job leaves them in Redis, and the worker that BullMQ
 * hands the stalled job to resumes from them, never sending the message twice.
 */
import type { Job } from 'bullmq';
import { type JobJournal, type JobLock, type JobRecord, parseJobRecord } from 'nemovideo/helpers';
import type { ExportJobData } from './shared.js';

export class BullMQJournal implements JobJournal {
  readonly location: string;
  readonly #job: Job<ExportJobData>;

  constructor(job: Job<ExportJobData>) {
    this.#job = job;
    this.location = `BullMQ job ${job.queueName}/${job.id}`;
  }

  async load(jobId: string): Promise<JobRecord | undefined> {
    const record = this.#job.data.journal;
    // Checked like any journal entry: a corrupt one or one from a newer release is refused.
    return record === undefined ? undefined : parseJobRecord(jobId, record, this.location);
  }

  async save(_jobId: string, record: JobRecord): Promise<void> {
    // One Redis write, atomic: the job's data is replaced whole.
    await this.#job.updateData({ ...this.#job.data, journal: record });
  }

  async remove(_jobId: string): Promise<void> {
    const { journal: _dropped, ...rest } = this.#job.data;
    await this.#job.updateData(rest);
  }

  /** BullMQ's own job lock keeps one worker on a job at a time: nothing more to hold here. */
  async lock(_jobId: string): Promise<JobLock> {
    return { release: async () => {} };
  }
}

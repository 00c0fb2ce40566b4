import { resolveConfigDir } from '../../core/config-dir.js';
import type { ClientContext } from '../../core/context.js';
import { isNodeLike } from '../../core/env.js';
import { nodeFs, nodePath } from '../../core/node.js';
import { ConfigError, JournalError } from '../../errors/errors.js';
import {
  type ExportJob,
  type ExportJobOptions,
  type ExportJobResult,
  runExportJob,
} from './export-job.js';
import { FileJournal } from './file-journal.js';
import { exportJobId, normalizeInput } from './job-id.js';
import { checkJobId, type JobJournal, type JobListEntry, MemoryJournal } from './journal.js';

/** The folder of the default journal inside the config folder. */
export const JOBS_FOLDER = 'jobs';

/** Which journal a call uses: the client's default unless one is given. */
export interface JournalOption {
  /** Default: the client's journal (`<configDir>/jobs` on Node). */
  journal?: JobJournal | undefined;
}

/** Options of `client.workflows.remove()`. */
export interface RemoveJobOptions extends JournalOption {
  /**
   * Keep the partial download of the job (`<to>.part` and its sidecar), so a
   * later download to the same path still resumes. Default false: removed too.
   */
  keepPartial?: boolean | undefined;
}

/** Settings of the workflows resource, from the client options. */
export interface WorkflowsConfig {
  /** The `configDir` client option. */
  configDir: string | undefined;
  /** False with `clientIdFile: false`: nothing is written to disk, the default journal is in memory. */
  persist: boolean;
}

/**
 * `client.workflows`: whole workflows as one call, recorded step by step in a
 * job journal so that a rerun resumes where the last run stopped (after a
 * crash, Ctrl-C, `kill -9` or a dropped connection) without paying twice.
 * See docs/durable-workflows.md.
 */
export class WorkflowsResource {
  readonly #ctx: ClientContext;
  readonly #config: WorkflowsConfig;
  #journal: Promise<JobJournal> | undefined;

  /** @internal Use `client.workflows`. */
  constructor(ctx: ClientContext, config: WorkflowsConfig) {
    this.#ctx = ctx;
    this.#config = config;
  }

  /**
   * The client's default journal: a `FileJournal` in `<configDir>/jobs` on
   * Node (the folder `nemovideo jobs` lists), in memory elsewhere or with
   * `clientIdFile: false`.
   *
   * @example
   * ```ts
   * const journal = await client.workflows.journal();
   * console.log(journal.location); // ~/.config/nemovideo/jobs
   * ```
   */
  journal(): Promise<JobJournal> {
    this.#journal ??= (async () => {
      if (!this.#config.persist || !isNodeLike()) return new MemoryJournal();
      const [dir, path] = await Promise.all([resolveConfigDir(this.#config.configDir), nodePath()]);
      return new FileJournal(path.join(dir, JOBS_FOLDER));
    })();
    return this.#journal;
  }

  /**
   * Export videos to an MP4 file in one durable call: create a session,
   * upload each input (a link or a local file), send the instruction, render
   * and download to `to`. Every step is recorded in the journal under a job id
   * (stable: derived from the API origin and the inputs), so running the same
   * job again resumes from the last step that completed: no second session,
   * upload or message; the same render while it is valid; the download
   * continues from its last byte. A message recorded as sent is never sent
   * again: after a crash mid-turn, the session state tells whether the turn
   * ran (else a {@link TurnLostError}). A job already done returns at once
   * while its file is there. Two processes on one job: the second gets a
   * {@link JobLockedError} naming the first.
   *
   * @throws {JobLockedError} another process (or call) runs the job.
   * @throws {JournalError} its journal entry is corrupt, from a newer release, or for other inputs; an uploaded file changed; the journal cannot be written.
   * @throws {TurnLostError} a resumed job's message was sent but the session never changed.
   * @throws {AbortError} `signal` aborted: the job stays in the journal; run it again to resume.
   *
   * @example
   * ```ts
   * const result = await client.workflows.export(
   *   { inputs: ['https://example.com/city.mp4'], prompt: 'add a title "Urban Dreams"', to: 'city.mp4' },
   *   { onProgress: (p) => console.log(p.jobId, p.step, p.resumed ? '(resumed)' : '') },
   * );
   * console.log(result.path, result.bytes, result.resumedSteps);
   * ```
   */
  export(job: ExportJob, options: ExportJobOptions = {}): Promise<ExportJobResult> {
    return runExportJob({ ctx: this.#ctx, defaultJournal: () => this.journal() }, job, options);
  }

  /**
   * Resume a job of the journal by id, with the inputs it recorded (what
   * `nemovideo jobs resume <id>` runs). The client must use the API the job
   * started on.
   *
   * @throws {JournalError} no such job, or its entry is unreadable.
   * @throws {ConfigError} the job ran against another API, or its inputs were stored redacted (rerun the original call).
   *
   * @example
   * ```ts
   * const [entry] = await client.workflows.list();
   * if (entry?.record && entry.record.status !== 'done') await client.workflows.resume(entry.jobId);
   * ```
   */
  async resume(
    jobId: string,
    options: Omit<ExportJobOptions, 'jobId' | 'fresh'> = {},
  ): Promise<ExportJobResult> {
    checkJobId(jobId);
    const journal =
      options.journal === false ? undefined : (options.journal ?? (await this.journal()));
    const record = await journal?.load(jobId);
    if (!record) {
      throw new JournalError(
        `No job ${jobId} in the journal (${journal?.location ?? 'none'}). List the jobs with client.workflows.list() (CLI: nemovideo jobs).`,
        { jobId, problem: 'mismatch', location: journal?.location },
      );
    }
    if (record.apiUrl !== this.#ctx.transport.baseUrl) {
      throw new ConfigError(
        `Job ${jobId} runs against ${record.apiUrl}, not ${this.#ctx.transport.baseUrl}: resume it with a client for that API (CLI: --api-url ${record.apiUrl}).`,
      );
    }
    if (record.inputRedacted) {
      throw new ConfigError(
        `Job ${jobId} was recorded with its inputs redacted (they looked like they held a credential), so it cannot be resumed from the journal: run the original export again, with the same inputs.`,
      );
    }
    return this.export(record.input, { ...options, journal: journal ?? false, jobId });
  }

  /**
   * The jobs of the journal, newest first. An entry that cannot be read
   * carries its `error` instead of a `record`; `lockedBy` names the process
   * running a job now.
   *
   * @example
   * ```ts
   * for (const { jobId, record, error } of await client.workflows.list()) {
   *   console.log(jobId, record?.status ?? error?.message);
   * }
   * ```
   */
  async list(options: JournalOption = {}): Promise<JobListEntry[]> {
    const journal = options.journal ?? (await this.journal());
    if (!journal.list) {
      throw new ConfigError(`This journal (${journal.location ?? 'custom'}) cannot list its jobs.`);
    }
    return journal.list();
  }

  /**
   * Remove a job from the journal, and its partial download unless
   * `keepPartial`. Refuses (a {@link JobLockedError}) while a process runs it.
   * Resolves to false when there was no such job. An unreadable entry is
   * removed too.
   *
   * @example
   * ```ts
   * await client.workflows.remove('job_3f2a9c1e0b7d4a65');
   * ```
   */
  async remove(jobId: string, options: RemoveJobOptions = {}): Promise<boolean> {
    checkJobId(jobId);
    const journal = options.journal ?? (await this.journal());
    const lock = await journal.lock(jobId);
    try {
      let to: string | undefined;
      let existed = false;
      try {
        const record = await journal.load(jobId);
        existed = record !== undefined;
        if (record?.status !== 'done') to = record?.input.to;
      } catch (error) {
        if (!(error instanceof JournalError) || error.problem === 'io') throw error;
        existed = true; // unreadable: remove it anyway, that is what was asked
      }
      await journal.remove(jobId);
      if (to !== undefined && !options.keepPartial && isNodeLike()) await removePartial(to);
      return existed;
    } finally {
      await lock.release();
    }
  }

  /**
   * The id `export()` gives a job by default (without running it).
   *
   * @example
   * ```ts
   * const id = await client.workflows.jobId({ inputs: ['https://example.com/a.mp4'], to: 'a.mp4' });
   * ```
   */
  async jobId(job: ExportJob): Promise<string> {
    return exportJobId(this.#ctx.transport.baseUrl, await normalizeInput(job));
  }
}

/** Remove `<to>.part` and `<to>.part.json` (the resumable download's files), if there. */
async function removePartial(to: string): Promise<void> {
  const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
  const dir = path.dirname(to);
  const name = path.basename(to);
  await Promise.all(
    [`${name}.part`, `${name}.part.json`].map((file) =>
      fs.rm(path.join(dir, file), { force: true }).catch(() => {}),
    ),
  );
}

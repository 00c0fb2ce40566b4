/**
 * The job journal of durable workflows: what a workflow records after each
 * step, so a rerun resumes instead of starting over (and paying again).
 *
 * A journal keeps one JSON-serialisable {@link JobRecord} per job id, saved
 * whole after every step, and a lock per job so two processes never run the
 * same job. Implementations: {@link MemoryJournal} (tests, one process),
 * `FileJournal` (the default on Node: one file per job under the config
 * folder), or your own (a database row, a BullMQ job's data…).
 *
 * @module
 */
import * as z from 'zod/mini';
import { ConfigError, JobLockedError, JournalError } from '../../errors/errors.js';

/** The schema version this release writes. A record with a higher version is refused, never overwritten. */
export const JOURNAL_VERSION = 1;

/** An id usable as a file name everywhere: letters, digits, `.`, `_`, `-`; not starting with a dot. */
const JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** `jobId`, or a `ConfigError` when it cannot name a journal entry (it becomes a file name). */
export function checkJobId(jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new ConfigError(
      `Invalid job id ${JSON.stringify(jobId)}: use 1 to 128 letters, digits, ".", "_" or "-" (not starting with "."), such as the ids "nemovideo jobs" lists.`,
    );
  }
  return jobId;
}

// ── the record ──

const isoTime = z.string();

const uploadStep = z.looseObject({
  /** The input as given (a link or a path). */
  input: z.string(),
  kind: z.enum(['file', 'link']),
  /** `uploading`: the request may have been sent (recorded before it); `uploaded`: done. */
  state: z.enum(['uploading', 'uploaded']),
  /** Files the session held before this upload (to recognise an upload that landed before a crash). */
  mediaBefore: z.number(),
  /** A file's size in bytes and modification time when it was uploaded. */
  size: z.optional(z.number()),
  mtimeMs: z.optional(z.number()),
  /** What the service made of it (names and types only: CDN URLs may be signed). */
  files: z.optional(z.array(z.looseObject({ filename: z.string(), fileType: z.string() }))),
  at: isoTime,
});

const messageStep = z.looseObject({
  /**
   * `sending`: recorded just before the POST, so a crash between the POST and
   * the next record counts as sent; `sent`: the turn ended.
   */
  state: z.enum(['sending', 'sent']),
  /** A digest of the session state (timeline, media) before the turn. */
  stateBefore: z.string(),
  /** What the turn changed, in words, when known. */
  summary: z.optional(z.string()),
  at: isoTime,
});

const renderStep = z.looseObject({
  renderId: z.string(),
  /** `starting`: recorded before the POST (the id is chosen by the client); `started`; `completed`. */
  state: z.enum(['starting', 'started', 'completed']),
  /** When the render started (ISO 8601): keeps the poll schedule's pace on resume. */
  startedAt: isoTime,
  at: isoTime,
});

const downloadStep = z.looseObject({
  /** The absolute output path. */
  path: z.string(),
  loadedBytes: z.number(),
  totalBytes: z.optional(z.number()),
  done: z.boolean(),
  at: isoTime,
});

const exportInput = z.looseObject({
  inputs: z.array(z.string()),
  prompt: z.optional(z.string()),
  to: z.string(),
  quality: z.optional(z.string()),
  language: z.optional(z.string()),
});

const jobRecord = z.looseObject({
  version: z.number(),
  jobId: z.string(),
  kind: z.literal('export'),
  createdAt: isoTime,
  updatedAt: isoTime,
  apiUrl: z.string(),
  input: exportInput,
  inputRedacted: z.optional(z.boolean()),
  status: z.enum(['running', 'done', 'failed']),
  steps: z.looseObject({
    session: z.optional(z.looseObject({ sessionId: z.string(), at: isoTime })),
    uploads: z.optional(z.array(uploadStep)),
    message: z.optional(messageStep),
    render: z.optional(renderStep),
    download: z.optional(downloadStep),
  }),
  result: z.optional(
    z.looseObject({
      path: z.string(),
      bytes: z.number(),
      sessionId: z.string(),
      renderId: z.string(),
      at: isoTime,
    }),
  ),
  error: z.optional(z.looseObject({ name: z.string(), message: z.string(), at: isoTime })),
});

/** One input's upload as recorded. */
export type UploadStepRecord = z.infer<typeof uploadStep>;
/** The message step as recorded. */
export type MessageStepRecord = z.infer<typeof messageStep>;
/** The render step as recorded. */
export type RenderStepRecord = z.infer<typeof renderStep>;
/** The download step as recorded (progress is saved now and then, the `.part` file is the truth). */
export type DownloadStepRecord = z.infer<typeof downloadStep>;
/** The inputs of an export job as recorded (paths absolute, links normalised). */
export type ExportJobInput = z.infer<typeof exportInput>;

/**
 * One job in the journal: its inputs and each step done so far. Plain JSON,
 * saved whole after every step; it never holds a token or a signed URL.
 *
 * - `steps.session`: the session created;
 * - `steps.uploads[i]`: input `i` uploaded (a file's size and mtime, or the link);
 * - `steps.message`: the instruction sent (`sending` is written before the
 *   request, so a crash right after it still counts as sent);
 * - `steps.render`: the render id (chosen and written before the request);
 * - `steps.download`: download progress (the bytes live in `<to>.part`);
 * - `result` once the file is complete.
 */
export type JobRecord = z.infer<typeof jobRecord>;

/** What a journal lists: a record, or the error that keeps it from being read. */
export type JobListEntry =
  | {
      jobId: string;
      record: JobRecord;
      error?: undefined;
      /** The process running the job now, when the journal can tell. */
      lockedBy?: JobHolder | undefined;
    }
  | {
      jobId: string;
      record?: undefined;
      error: JournalError;
      lockedBy?: JobHolder | undefined;
    };

/** Who holds a job's lock. */
export interface JobHolder {
  pid?: number | undefined;
  hostname?: string | undefined;
  /** When the holder took the lock (ISO 8601). */
  since?: string | undefined;
}

/** A held job lock. Release it when the job stops, successful or not. */
export interface JobLock {
  release(): Promise<void>;
}

/**
 * Where durable workflows record their steps. Implement it to keep jobs
 * elsewhere (a database, a queue job's data): `load`/`save` one record per job
 * id (`save` replaces the whole record, atomically), `remove`, and `lock`,
 * which must refuse with a {@link JobLockedError} naming the holder while
 * another process (or call) holds the job. `load` throws a
 * {@link JournalError} for an entry it cannot read (use {@link parseJobRecord}).
 *
 * @example
 * ```ts
 * import type { JobJournal, JobRecord } from 'nemovideo/helpers';
 *
 * // A journal kept in a Map (what MemoryJournal does), to show the shape.
 * const rows = new Map<string, string>();
 * const held = new Set<string>();
 * const journal: JobJournal = {
 *   location: 'a Map',
 *   async load(jobId) {
 *     const row = rows.get(jobId);
 *     return row === undefined ? undefined : (JSON.parse(row) as JobRecord);
 *   },
 *   async save(jobId, record) {
 *     rows.set(jobId, JSON.stringify(record));
 *   },
 *   async remove(jobId) {
 *     rows.delete(jobId);
 *   },
 *   async lock(jobId) {
 *     if (held.has(jobId)) throw new Error(`job ${jobId} is running`);
 *     held.add(jobId);
 *     return { release: async () => void held.delete(jobId) };
 *   },
 * };
 * ```
 */
export interface JobJournal {
  /** Where the records live, for messages (a folder, "memory", a Redis key…). */
  readonly location?: string | undefined;
  /** The job's record, `undefined` when there is none. Throws a {@link JournalError} for an unreadable one. */
  load(jobId: string): Promise<JobRecord | undefined>;
  /** Replace the job's record (atomically: a crash leaves the old or the new one). */
  save(jobId: string, record: JobRecord): Promise<void>;
  /** Delete the job's record (nothing when there is none). */
  remove(jobId: string): Promise<void>;
  /** Hold the job; refuses with a {@link JobLockedError} naming the holder when it is held. */
  lock(jobId: string): Promise<JobLock>;
  /** Every entry, newest first (optional: `nemovideo jobs` needs it). */
  list?(): Promise<JobListEntry[]>;
}

/**
 * Check a stored value is a job record this release can use: a
 * {@link JournalError} with `problem` `corrupt` (not a record) or
 * `newer-version` (written by a newer release) otherwise. For custom journals.
 *
 * @example
 * ```ts
 * import { parseJobRecord } from 'nemovideo/helpers';
 *
 * const record = parseJobRecord('job_1', JSON.parse('{"version":1}'), 'my table'); // throws: corrupt
 * ```
 */
export function parseJobRecord(jobId: string, value: unknown, location?: string): JobRecord {
  const where = location === undefined ? '' : ` (${location})`;
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && Number.isInteger(version) && version > JOURNAL_VERSION) {
    throw new JournalError(
      `The journal entry of job ${jobId}${where} was written by a newer release of nemovideo (journal version ${version}; this one reads up to ${JOURNAL_VERSION}). It was left untouched: upgrade nemovideo to resume the job, or clear it (nemovideo jobs rm ${jobId}, or run the job again with fresh / --fresh).`,
      { jobId, problem: 'newer-version', location },
    );
  }
  const parsed = jobRecord.safeParse(value);
  if (!parsed.success || parsed.data.version < 1 || parsed.data.jobId !== jobId) {
    const issue = parsed.success ? undefined : parsed.error.issues[0];
    const detail = issue
      ? `${issue.message} at ${issue.path.map(String).join('.') || '(root)'}`
      : parsed.success && parsed.data.jobId !== jobId
        ? `it names job ${JSON.stringify(parsed.data.jobId)}`
        : 'bad version';
    throw new JournalError(
      `The journal entry of job ${jobId}${where} is not a valid job record (${detail}). It was left untouched: clear it (nemovideo jobs rm ${jobId}, or run the job again with fresh / --fresh) to start the job over.`,
      { jobId, problem: 'corrupt', location },
    );
  }
  return parsed.data;
}

/**
 * A journal in memory: records live as long as the object. For tests, and
 * for callers that only need in-process resumption. Locks are per object.
 *
 * @example
 * ```ts
 * import { MemoryJournal } from 'nemovideo/helpers';
 *
 * const journal = new MemoryJournal();
 * const job = { inputs: ['https://example.com/clip.mp4'], to: './clip.mp4' };
 * await client.workflows.export(job, { journal });
 * console.log(await journal.list()); // one entry, status "done"
 * ```
 */
export class MemoryJournal implements JobJournal {
  readonly location = 'memory';
  readonly #records = new Map<string, string>();
  readonly #held = new Map<string, string>();

  /** @example `await journal.load(jobId)` */
  async load(jobId: string): Promise<JobRecord | undefined> {
    const text = this.#records.get(jobId);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new JournalError(`The journal entry of job ${jobId} (memory) is not valid JSON.`, {
        jobId,
        problem: 'corrupt',
        location: this.location,
        cause: error,
      });
    }
    return parseJobRecord(jobId, value, this.location);
  }

  /** @example `await journal.save(record.jobId, record)` */
  async save(jobId: string, record: JobRecord): Promise<void> {
    this.#records.set(jobId, JSON.stringify(record));
  }

  /** @example `await journal.remove(jobId)` */
  async remove(jobId: string): Promise<void> {
    this.#records.delete(jobId);
  }

  /** @example `const lock = await journal.lock(jobId); try { … } finally { await lock.release(); }` */
  async lock(jobId: string): Promise<JobLock> {
    if (this.#held.has(jobId)) {
      const pid = (globalThis as { process?: { pid?: number } }).process?.pid;
      throw new JobLockedError(
        `Job ${jobId} is already running in this process${pid === undefined ? '' : ` (pid ${pid})`}, started ${this.#held.get(jobId)}. Wait for that call to finish.`,
        { jobId, pid, location: this.location },
      );
    }
    const token = new Date().toISOString();
    this.#held.set(jobId, token);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (this.#held.get(jobId) === token) this.#held.delete(jobId);
      },
    };
  }

  /** @example `for (const { jobId, record } of await journal.list()) console.log(jobId, record?.status)` */
  async list(): Promise<JobListEntry[]> {
    const entries: JobListEntry[] = [];
    for (const jobId of this.#records.keys()) {
      try {
        const record = await this.load(jobId);
        if (record) entries.push({ jobId, record });
      } catch (error) {
        if (!(error instanceof JournalError)) throw error;
        entries.push({ jobId, error });
      }
    }
    return sortEntries(entries);
  }
}

/** Newest first (by `updatedAt`), unreadable entries last, then by id. */
export function sortEntries(entries: JobListEntry[]): JobListEntry[] {
  const time = (e: JobListEntry) => (e.record ? Date.parse(e.record.updatedAt) || 0 : -1);
  return entries.sort((a, b) => time(b) - time(a) || a.jobId.localeCompare(b.jobId));
}

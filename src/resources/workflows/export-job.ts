/**
 * The durable export workflow: inputs → session → uploads → message → render →
 * download, with every step recorded in a {@link JobJournal} so a rerun with
 * the same inputs resumes from the last step that completed.
 *
 * @module
 */
import type { ClientContext } from '../../core/context.js';
import { nodeFs } from '../../core/node.js';
import type { TransferProgress } from '../../core/progress.js';
import { throwIfAborted } from '../../core/signal.js';
import { sleep } from '../../core/timers.js';
import type { RequestOptions } from '../../core/transport.js';
import {
  AbortError,
  ApiError,
  ConnectionError,
  JournalError,
  TimeoutError,
  TurnLostError,
} from '../../errors/errors.js';
import { redact } from '../../errors/redact.js';
import type { ChatEvent } from '../chat/events.js';
import type { TurnResult } from '../chat/reply.js';
import { sendMessage } from '../chat/send.js';
import { download } from '../downloads/download.js';
import type { RenderStatus } from '../renders/poll.js';
import { type RenderJob, type RenderResult, startRender } from '../renders/render.js';
import { RendersResource } from '../renders/renders.js';
import { SessionsResource } from '../sessions/sessions.js';
import { readState } from '../state/state.js';
import { type UploadResult, uploadFiles, uploadUrls } from '../uploads/upload.js';
import { exportJobId, isLink, normalizeInput, recordableInput, stateDigest } from './job-id.js';
import {
  checkJobId,
  type ExportJobInput,
  JOURNAL_VERSION,
  type JobJournal,
  type JobRecord,
  type UploadStepRecord,
} from './journal.js';

/** The instruction sent when a job gives no `prompt`. */
export const DEFAULT_EXPORT_PROMPT = 'download this video in MP4';

/** What to export: the inputs, the instruction, and where the MP4 goes. */
export interface ExportJob {
  /** Video links (http/https, fetched by the service) or local file paths (uploaded), in order. */
  inputs: readonly string[];
  /** The instruction for the agent. Default {@link DEFAULT_EXPORT_PROMPT}. */
  prompt?: string | undefined;
  /** The path of the MP4 to write (folders must exist). */
  to: string;
  /** The render's `output.quality` (`high`, `medium`, `low`). Default `backend.render.output.quality`. */
  quality?: string | undefined;
  /** Language of the agent's replies (`en`, `zh-CN`…). Default `en`. */
  language?: string | undefined;
}

/** The steps of an export job, in order. */
export type ExportJobStep = 'session' | 'upload' | 'message' | 'render' | 'download';

/**
 * Progress of `client.workflows.export()`, one event per step change.
 * `resumed` is true when the step was found in the journal (done by an
 * earlier run) instead of being done now.
 */
export type ExportJobProgress = { jobId: string; resumed: boolean } & (
  | { step: 'session'; sessionId: string }
  /** Before an input is uploaded (no `progress`), then as a file's bytes go out. */
  | {
      step: 'upload';
      index: number;
      input: string;
      done: false;
      progress?: TransferProgress | undefined;
    }
  | {
      step: 'upload';
      index: number;
      input: string;
      done: true;
      /** What the service made of the input (names and types; recorded in the journal). */
      files: readonly { filename: string; fileType: string }[];
      /** The service's whole answer, when this call uploaded it (not when resumed). */
      uploaded?: UploadResult | undefined;
    }
  /** `done: false` just before the message is sent; `done: true` when the turn ended (`turn` unless resumed). */
  | { step: 'message'; done: false; prompt: string }
  | { step: 'message'; done: true; turn?: TurnResult | undefined; summary?: string | undefined }
  | { step: 'render'; renderId: string; percent: number; status?: RenderStatus | undefined }
  | ({ step: 'download'; path: string } & TransferProgress)
);

/** Options of `client.workflows.export()`. */
export interface ExportJobOptions extends RequestOptions {
  /**
   * Where the steps are recorded. Default on Node: a `FileJournal` in
   * `<configDir>/jobs` (in memory with `clientIdFile: false`, which writes
   * nothing to disk). `false`: no journal (nothing resumes).
   */
  journal?: JobJournal | false | undefined;
  /** The job's id. Default: a stable hash of the API origin and the job's inputs (`job_<16 hex>`). */
  jobId?: string | undefined;
  /** Ignore an existing journal entry (even a corrupt one) and start over, replacing it. */
  fresh?: boolean | undefined;
  /** Called at each step: see {@link ExportJobProgress}. */
  onProgress?: ((progress: ExportJobProgress) => void) | undefined;
  /** Called with every chat event of the turn (tool calls, text…). */
  onEvent?: ((event: ChatEvent) => void) | undefined;
  /** Steady ms between render polls. Default `backend.render.pollIntervalMs`. */
  pollInterval?: number | undefined;
  /** Most render polls. Default `backend.render.maxPolls` unless `maxWait` is given. */
  maxPolls?: number | undefined;
  /** Most ms to wait for the render. */
  maxWait?: number | undefined;
  /** Cancel the render on the server when `signal` aborts (the next run then starts a new one). Default false. */
  cancelOnAbort?: boolean | undefined;
}

/** A finished export job. */
export interface ExportJobResult {
  jobId: string;
  /** The absolute path of the MP4. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  sessionId: string;
  renderId: string;
  /** The URL the file came from; `undefined` when the job was already complete and nothing was fetched. */
  url: string | undefined;
  /** Bytes downloaded by this call (less than `bytes` when a download resumed; 0 when it was complete). */
  transferredBytes: number;
  /** The steps taken from the journal instead of being done by this call. */
  resumedSteps: ExportJobStep[];
  /** The turn, when this call sent the message. */
  turn: TurnResult | undefined;
}

/** What a resource needs besides the context: where the default journal lives. */
export interface WorkflowEnv {
  ctx: ClientContext;
  defaultJournal(): Promise<JobJournal | undefined>;
}

/** Minimum ms between two saves of download progress. */
const DOWNLOAD_SAVE_INTERVAL_MS = 1000;

function isoNow(ctx: ClientContext): string {
  return new Date(ctx.clock.now()).toISOString();
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Did the service reject the message before running it (so it was not sent)? */
function refusedBeforeRunning(error: unknown): boolean {
  // An API error answer (credits, auth, session, 4xx/5xx) other than a gateway
  // timeout, which may hide a turn that runs on; or a connection that never opened.
  if (error instanceof ApiError) return error.httpStatus !== 502 && error.httpStatus !== 504;
  if (error instanceof ConnectionError) {
    let current: unknown = error;
    for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
      const code = errnoOf(current);
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return true;
      current = current.cause;
    }
  }
  return false;
}

/** The record of one job while it runs: saves go through one queue, in order. */
class JobRun {
  readonly record: JobRecord;
  readonly #journal: JobJournal | undefined;
  readonly #ctx: ClientContext;
  #queue: Promise<void> = Promise.resolve();

  constructor(ctx: ClientContext, journal: JobJournal | undefined, record: JobRecord) {
    this.#ctx = ctx;
    this.#journal = journal;
    this.record = record;
  }

  /** Apply `change` and save the record; resolves once it is on disk. */
  save(change: (record: JobRecord) => void = () => {}): Promise<void> {
    change(this.record);
    this.record.updatedAt = isoNow(this.#ctx);
    const snapshot = JSON.parse(JSON.stringify(this.record)) as JobRecord;
    const journal = this.#journal;
    const run = this.#queue.then(() => journal?.save(snapshot.jobId, snapshot));
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * @internal `client.workflows.export()`: the whole workflow, each step
 * recorded, resumed from the journal.
 */
export async function runExportJob(
  env: WorkflowEnv,
  job: ExportJob,
  options: ExportJobOptions = {},
): Promise<ExportJobResult> {
  const { ctx } = env;
  const { signal, timeout, maxRetries, onProgress } = options;
  const input = await normalizeInput(job);
  const apiUrl = ctx.transport.baseUrl;
  const jobId = checkJobId(options.jobId ?? (await exportJobId(apiUrl, input)));
  const journal =
    options.journal === false ? undefined : (options.journal ?? (await env.defaultJournal()));
  throwIfAborted(signal);

  const lock = await journal?.lock(jobId);
  try {
    const found = options.fresh ? undefined : await journal?.load(jobId);
    const recordable = recordableInput(input);
    if (found) {
      const same = found.apiUrl === apiUrl && sameInput(found.input, recordable.input);
      if (!same) {
        throw new JournalError(
          `Journal entry ${jobId} belongs to another job (${found.apiUrl === apiUrl ? 'other inputs' : `API ${found.apiUrl}`}). Use another job id, or run with fresh: true (CLI: --fresh) to replace it.`,
          { jobId, problem: 'mismatch', location: journal?.location },
        );
      }
    }
    const now = isoNow(ctx);
    const record: JobRecord = found ?? {
      version: JOURNAL_VERSION,
      jobId,
      kind: 'export',
      createdAt: now,
      updatedAt: now,
      apiUrl,
      input: recordable.input,
      ...(recordable.redacted ? { inputRedacted: true } : {}),
      status: 'running',
      steps: {},
    };
    const run = new JobRun(ctx, journal, record);
    try {
      const result = await runSteps(ctx, run, input, options);
      await run.save((r) => {
        r.status = 'done';
        r.error = undefined;
        r.result = {
          path: result.path,
          bytes: result.bytes,
          sessionId: result.sessionId,
          renderId: result.renderId,
          at: isoNow(ctx),
        };
      });
      return result;
    } catch (error) {
      // Record why it stopped (an abort leaves the job running: the next run resumes it).
      if (!(error instanceof JournalError) && journal) {
        const aborted = error instanceof AbortError || signal?.aborted === true;
        await run
          .save((r) => {
            r.status = aborted ? 'running' : 'failed';
            r.error = {
              name: error instanceof Error ? error.name : 'Error',
              message: error instanceof Error ? error.message : String(error),
              at: isoNow(ctx),
            };
          })
          .catch((saveError: unknown) => {
            ctx.logger.warn(`Could not record the failure of job ${jobId}: ${String(saveError)}`);
          });
      }
      throw error;
    }
  } finally {
    await lock?.release();
  }

  async function runSteps(
    ctx: ClientContext,
    run: JobRun,
    input: ExportJobInput,
    options: ExportJobOptions,
  ): Promise<ExportJobResult> {
    const request = { signal, timeout, maxRetries };
    const { record } = run;
    const steps = record.steps;
    const resumedSteps: ExportJobStep[] = [];
    const report = (progress: ExportJobProgress) => onProgress?.(progress);

    // ── already complete: the file is there, with its size ──
    if (record.status === 'done' && record.result) {
      const size = await fileSize(record.result.path);
      if (size === record.result.bytes) {
        return {
          jobId,
          path: record.result.path,
          bytes: record.result.bytes,
          sessionId: record.result.sessionId,
          renderId: record.result.renderId,
          url: undefined,
          transferredBytes: 0,
          resumedSteps: ['session', 'upload', 'message', 'render', 'download'],
          turn: undefined,
        };
      }
      // The file was removed or changed since: fetch it again from the same render.
      steps.download = undefined;
    }
    await run.save((r) => {
      r.status = 'running';
    });

    // ── session ──
    let sessionId: string;
    let createdNow = false;
    if (steps.session) {
      sessionId = steps.session.sessionId;
      resumedSteps.push('session');
    } else {
      const session = await new SessionsResource(ctx).create({
        ...request,
        language: input.language,
      });
      sessionId = session.id;
      createdNow = true;
      await run.save((r) => {
        r.steps.session = { sessionId, at: isoNow(ctx) };
      });
    }
    report({ jobId, resumed: !createdNow, step: 'session', sessionId });

    // ── uploads, one input at a time ──
    let mediaCount: number | undefined = createdNow ? 0 : undefined;
    const uploads: UploadStepRecord[] = steps.uploads ?? [];
    let allResumed = true;
    for (const [index, item] of input.inputs.entries()) {
      const recorded = uploads[index];
      const kind = isLink(item) ? 'link' : 'file';
      if (recorded?.state === 'uploaded') {
        if (kind === 'file') await checkUnchanged(jobId, recorded, item);
        report({
          jobId,
          resumed: true,
          step: 'upload',
          index,
          input: item,
          done: true,
          files: recorded.files ?? [],
        });
        mediaCount = undefined;
        continue;
      }
      allResumed = false;
      if (recorded?.state === 'uploading') {
        // The request may have landed before the crash: the session then holds more media.
        const state = await readState(ctx, sessionId, request);
        if (state.videoInfos.length > recorded.mediaBefore) {
          const files = state.videoInfos.slice(recorded.mediaBefore).map((v) => {
            const type = (v.raw as { file_type?: unknown } | null)?.file_type;
            return {
              filename: v.filename ?? '(unnamed)',
              fileType: typeof type === 'string' ? type : 'unknown',
            };
          });
          await run.save(() => {
            uploads[index] = { ...recorded, state: 'uploaded', files, at: isoNow(ctx) };
            record.steps.uploads = uploads;
          });
          report({ jobId, resumed: true, step: 'upload', index, input: item, done: true, files });
          mediaCount = state.videoInfos.length;
          continue;
        }
        mediaCount = state.videoInfos.length;
      }
      if (mediaCount === undefined) {
        mediaCount = (await readState(ctx, sessionId, request)).videoInfos.length;
      }
      const identity = kind === 'file' ? await fileIdentity(item) : {};
      const mediaBefore = mediaCount;
      await run.save(() => {
        uploads[index] = {
          input: redact(item),
          kind,
          state: 'uploading',
          mediaBefore,
          ...identity,
          at: isoNow(ctx),
        };
        record.steps.uploads = uploads;
      });
      report({ jobId, resumed: false, step: 'upload', index, input: item, done: false });
      const uploaded =
        kind === 'link'
          ? await uploadUrls(ctx, sessionId, item, request)
          : await uploadFiles(ctx, sessionId, item, {
              ...request,
              onProgress: (p) =>
                report({
                  jobId,
                  resumed: false,
                  step: 'upload',
                  index,
                  input: item,
                  done: false,
                  progress: {
                    loadedBytes: p.loadedBytes,
                    totalBytes: p.totalBytes,
                    percent: p.percent,
                  },
                }),
            });
      const files = uploaded.files.map((f) => ({ filename: f.filename, fileType: f.fileType }));
      mediaCount = mediaBefore + uploaded.files.length;
      await run.save(() => {
        const step = uploads[index];
        if (step) uploads[index] = { ...step, state: 'uploaded', files, at: isoNow(ctx) };
      });
      report({
        jobId,
        resumed: false,
        step: 'upload',
        index,
        input: item,
        done: true,
        files,
        uploaded,
      });
    }
    if (allResumed && input.inputs.length > 0) resumedSteps.push('upload');

    // ── the message: sent at most once ──
    let turn: TurnResult | undefined;
    const prompt = input.prompt ?? DEFAULT_EXPORT_PROMPT;
    const message = steps.message;
    if (message?.state === 'sent') {
      resumedSteps.push('message');
      report({ jobId, resumed: true, step: 'message', done: true, summary: message.summary });
    } else if (message?.state === 'sending') {
      const summary = await confirmTurn(
        ctx,
        jobId,
        sessionId,
        message.stateBefore,
        message.at,
        signal,
      );
      await run.save((r) => {
        r.steps.message = { ...message, state: 'sent', summary, at: isoNow(ctx) };
      });
      resumedSteps.push('message');
      report({ jobId, resumed: true, step: 'message', done: true, summary });
    } else {
      const before = await readState(ctx, sessionId, request);
      const stateBefore = await stateDigest(before.raw);
      await run.save((r) => {
        r.steps.message = { state: 'sending', stateBefore, at: isoNow(ctx) };
      });
      report({ jobId, resumed: false, step: 'message', done: false, prompt });
      try {
        turn = await sendMessage({ ctx, id: sessionId }, prompt, {
          signal,
          onEvent: options.onEvent,
        });
      } catch (error) {
        if (refusedBeforeRunning(error)) {
          // The service answered with an error instead of running the turn: nothing was sent,
          // so a later run may send it (after, say, buying credits).
          await run.save((r) => {
            r.steps.message = undefined;
          });
        }
        throw error;
      }
      const summary = turn.summary;
      await run.save((r) => {
        r.steps.message = {
          state: 'sent',
          stateBefore,
          ...(summary !== undefined ? { summary } : {}),
          at: isoNow(ctx),
        };
      });
      report({ jobId, resumed: false, step: 'message', done: true, turn, summary });
    }

    // ── render: the recorded one while it is valid, else a new one ──
    let renderResult: RenderResult | undefined;
    let job: RenderJob | undefined;
    const recordedRender = steps.render;
    if (recordedRender) {
      try {
        job = await new RendersResource(ctx).retrieve(
          { renderId: recordedRender.renderId, sessionId, startedAt: recordedRender.startedAt },
          request,
        );
      } catch (error) {
        // An id the service does not know (a start that never landed, or a purged job): start anew.
        if (!(error instanceof ApiError) || error.httpStatus !== 404) throw error;
        job = undefined;
      }
      const status = job?.lastStatus?.status;
      if (status === 'failed' || status === 'cancelled') {
        ctx.logger.info(
          `Render ${recordedRender.renderId} of job ${jobId} ${status}: starting a new one.`,
        );
        job = undefined;
      } else if (job && status === 'completed' && job.lastStatus) {
        renderResult = completedResult(ctx, job.renderId, job.lastStatus);
      }
      if (job) resumedSteps.push('render');
    }
    let renderPercent = 0;
    const onRenderStatus = (status: RenderStatus, renderId: string, resumed: boolean) => {
      const done = status.status === 'completed';
      renderPercent = done ? 100 : Math.max(renderPercent, Math.min(99, status.progress ?? 0));
      report({ jobId, resumed, step: 'render', renderId, percent: renderPercent, status });
    };
    if (!job) {
      job = await startRender(
        ctx,
        sessionId,
        {
          ...request,
          output: input.quality === undefined ? undefined : { quality: input.quality },
        },
        {
          // Written before the request: the id is ours, so a crash right after the POST still
          // finds the same render on the next run.
          beforeStart: (renderId: string) =>
            run.save((r) => {
              r.steps.render = {
                renderId,
                state: 'starting',
                startedAt: isoNow(ctx),
                at: isoNow(ctx),
              };
              r.steps.download = undefined;
            }),
        },
      );
      const started = job;
      await run.save((r) => {
        const step = r.steps.render;
        if (step) r.steps.render = { ...step, renderId: started.renderId, state: 'started' };
      });
    }
    const renderJob = job;
    if (renderResult) {
      onRenderStatus(
        renderJob.lastStatus ?? { status: 'completed', progress: 100, raw: undefined },
        renderJob.renderId,
        true,
      );
    } else {
      const resumedRender = resumedSteps.includes('render');
      if (renderJob.lastStatus)
        onRenderStatus(renderJob.lastStatus, renderJob.renderId, resumedRender);
      renderResult = await renderJob.wait({
        signal,
        timeout,
        pollInterval: options.pollInterval,
        maxPolls: options.maxPolls,
        maxWait: options.maxWait,
        cancelOnAbort: options.cancelOnAbort,
        onProgress: (status) => onRenderStatus(status, renderJob.renderId, resumedRender),
      });
    }
    if (steps.render?.state !== 'completed') {
      await run.save((r) => {
        const step = r.steps.render;
        if (step) r.steps.render = { ...step, state: 'completed', at: isoNow(ctx) };
      });
    }

    // ── download: continues from the bytes already in <to>.part ──
    const to = input.to;
    // An earlier run started this download: its bytes wait in <to>.part.
    const resumedDownload = steps.download !== undefined && !steps.download.done;
    await run.save((r) => {
      r.steps.download = {
        path: to,
        loadedBytes: r.steps.download?.loadedBytes ?? 0,
        ...(r.steps.download?.totalBytes !== undefined
          ? { totalBytes: r.steps.download.totalBytes }
          : {}),
        done: false,
        at: isoNow(ctx),
      };
    });
    let lastSave = Number.NEGATIVE_INFINITY;
    let pending: Promise<void> = Promise.resolve();
    const downloaded = await download(ctx, renderResult.url, to, {
      signal,
      renderId: renderJob.renderId,
      idleTimeout: timeout,
      resume: true,
      onProgress: (p) => {
        report({ jobId, resumed: resumedDownload, step: 'download', path: to, ...p });
        const now = ctx.clock.now();
        if (now - lastSave < DOWNLOAD_SAVE_INTERVAL_MS) return;
        lastSave = now;
        pending = run.save((r) => {
          r.steps.download = {
            path: to,
            loadedBytes: p.loadedBytes,
            ...(p.totalBytes !== undefined ? { totalBytes: p.totalBytes } : {}),
            done: false,
            at: isoNow(ctx),
          };
        });
        // A failed progress save must not stop the download; the final save reports it.
        pending.catch(() => {});
      },
    });
    await pending.catch(() => {});
    await run.save((r) => {
      r.steps.download = {
        path: to,
        loadedBytes: downloaded.bytes,
        totalBytes: downloaded.bytes,
        done: true,
        at: isoNow(ctx),
      };
    });
    if (downloaded.transferredBytes < downloaded.bytes) resumedSteps.push('download');
    return {
      jobId,
      path: downloaded.path ?? to,
      bytes: downloaded.bytes,
      sessionId,
      renderId: renderJob.renderId,
      url: downloaded.url,
      transferredBytes: downloaded.transferredBytes,
      resumedSteps,
      turn,
    };
  }
}

/** The same job inputs (whatever the key order of the stored JSON). */
function sameInput(a: ExportJobInput, b: ExportJobInput): boolean {
  return (
    a.to === b.to &&
    a.prompt === b.prompt &&
    a.quality === b.quality &&
    a.language === b.language &&
    a.inputs.length === b.inputs.length &&
    a.inputs.every((input, i) => input === b.inputs[i])
  );
}

/** The result of a job the service reports completed (its URL, else the fallback endpoint). */
function completedResult(ctx: ClientContext, renderId: string, status: RenderStatus): RenderResult {
  return {
    renderId,
    url: status.url ?? ctx.transport.url(ctx.backend.paths.renderDownload(renderId)).href,
    durationSec: status.durationSec,
    sizeBytes: status.sizeBytes,
    raw: status.raw,
  };
}

async function fileSize(path: string): Promise<number | undefined> {
  const fs = await nodeFs();
  try {
    const stat = await fs.stat(path);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

async function fileIdentity(path: string): Promise<{ size?: number; mtimeMs?: number }> {
  const fs = await nodeFs();
  try {
    const stat = await fs.stat(path);
    return { size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) };
  } catch {
    return {}; // the upload reports a missing file with its own error
  }
}

/** A file uploaded by an earlier run must not have changed since: the session holds the old one. */
async function checkUnchanged(
  jobId: string,
  recorded: UploadStepRecord,
  path: string,
): Promise<void> {
  if (recorded.size === undefined) return;
  const now = await fileIdentity(path);
  if (now.size === undefined) return; // gone: it was uploaded, the job no longer needs it
  if (now.size !== recorded.size || now.mtimeMs !== recorded.mtimeMs) {
    throw new JournalError(
      `${path} changed since it was uploaded for this job (size ${recorded.size} → ${now.size} bytes). The session holds the earlier file; run the job again with fresh: true (CLI: --fresh) to upload the new one in a new session.`,
      { jobId, problem: 'input-changed', location: path },
    );
  }
}

function describeAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/** A failed state read that may succeed later. */
function transientRead(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  if (error instanceof TimeoutError) return error.kind === 'request';
  if (error instanceof ApiError) return error.httpStatus >= 500 || error.httpStatus === 429;
  return false;
}

/**
 * A run died after recording the message as sending: never send it again.
 * Read the state and compare it with the digest taken before the turn (the
 * documented recovery): changed → the turn ran. Unchanged → keep reading on
 * the recovery schedule counted from when the message was sent (by default
 * 30 s after it, then every 60 s, 5 reads), since the turn may still be
 * running; still unchanged after the last one → the turn was lost: a
 * {@link TurnLostError}. A resume long after the send reads once.
 */
async function confirmTurn(
  ctx: ClientContext,
  jobId: string,
  sessionId: string,
  stateBefore: string,
  sentAtIso: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { recoveryFirstWaitMs, recoveryIntervalMs, recoveryMaxUnchangedReads } = ctx.backend.turn;
  const sentAt = Date.parse(sentAtIso);
  let lastReadError: unknown;
  const changed = async (): Promise<boolean> => {
    try {
      const after = await readState(ctx, sessionId, { signal });
      return (await stateDigest(after.raw)) !== stateBefore;
    } catch (error) {
      if (!transientRead(error)) throw error;
      lastReadError = error;
      return false;
    }
  };
  const found = 'the turn ran before the interruption (the session changed since)';
  if (await changed()) return found;
  for (let read = 1; read <= recoveryMaxUnchangedReads; read++) {
    const at = sentAt + recoveryFirstWaitMs + (read - 1) * recoveryIntervalMs;
    const wait = at - ctx.clock.now();
    if (wait <= 0) continue; // that read's time has passed: the read above covers it
    await sleep(ctx.clock, wait, signal);
    if (await changed()) return found;
  }
  const readFailure =
    lastReadError instanceof Error ? ` (a state read failed: ${lastReadError.message})` : '';
  throw new TurnLostError(
    `Job ${jobId}: the message was sent ${describeAgo(ctx.clock.now() - sentAt)} ago, before the run was interrupted, and session ${sessionId} has not changed since${readFailure}: the turn was most likely lost. It is not sent again automatically (it would run, and be charged, twice). To start over in a new session, run the job again with fresh: true (CLI: --fresh).`,
    { jobId },
  );
}

import type { ClientContext } from '../../core/context.js';
import { anySignal } from '../../core/signal.js';
import { deadline, sleep } from '../../core/timers.js';
import type { RequestOptions } from '../../core/transport.js';
import {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigError,
  DraftNotReadyError,
  InsufficientCreditsError,
  isNemoError,
  RateLimitError,
  RenderFailedError,
  RenderTimeoutError,
  SessionNotFoundError,
} from '../../errors/errors.js';
import { encodeDraft, MAX_DRAFT_DEPTH, type Timeline, tooDeepAt } from '../state/draft.js';
import { readState } from '../state/state.js';
import { isExportReady } from '../state/summary.js';
import { type PollOutcome, pollRender, type RenderStatus } from './poll.js';
import { nextPollDelay } from './schedule.js';

/** Output settings of a render. Keys beyond these are sent as given. */
export interface RenderOutput {
  /** Default `mp4`. */
  format: string;
  /** Default `high`. */
  quality: string;
  [key: string]: unknown;
}

/** Options of `session.render()`. */
export interface RenderOptions extends RequestOptions {
  /**
   * What to render: a {@link Timeline} (encoded with `encodeDraft`) or a raw
   * wire draft object. Default: the session's current draft, unchanged.
   */
  draft?: Timeline | Record<string, unknown> | undefined;
  /** Output settings; default `{ format: 'mp4', quality: 'high' }` (`backend.render.output`). */
  output?: Partial<RenderOutput> | undefined;
}

/** A finished render. */
export interface RenderResult {
  renderId: string;
  /**
   * Where to download the MP4. When the service completed without a URL this is
   * the API's download endpoint (`backend.paths.renderDownload`), which
   * `client.download()` fetches with the bearer token.
   */
  url: string;
  durationSec?: number | undefined;
  sizeBytes?: number | undefined;
  /** The final poll response. */
  raw: unknown;
}

/** Options of {@link RenderJob.wait}. */
export interface RenderWaitOptions {
  /**
   * The steady cadence in ms: the longest wait between two polls. Default
   * `backend.render.pollIntervalMs` (30 000, the documented cadence). The first
   * polls come sooner (`backend.render.firstPollDelayMs`, doubling up to this).
   */
  pollInterval?: number | undefined;
  /**
   * Most polls before giving up. Default `backend.render.maxPolls` (10, the
   * documented budget) when `maxWait` is not given; with `maxWait`, no count limit.
   */
  maxPolls?: number | undefined;
  /** Most ms to wait overall, a poll in flight included. Default: no limit beyond `maxPolls`. */
  maxWait?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Per-poll request timeout in ms. */
  timeout?: number | undefined;
  /** Called after every poll. */
  onProgress?: ((status: RenderStatus) => void) | undefined;
  /** Cancel the job on the server when `signal` aborts. Default false (the job keeps running). */
  cancelOnAbort?: boolean | undefined;
}

// ── ids ──

let sequence = 0;

function randomPart(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}

/** `render_<ms>_<random><seq>`: unique within one millisecond (a per-process counter) and across processes (random). */
export function newRenderId(nowMs: number): string {
  sequence = (sequence + 1) % 36 ** 4;
  return `render_${Math.floor(nowMs)}_${randomPart()}${sequence.toString(36).padStart(4, '0')}`;
}

// ── the job ──

/**
 * What {@link RenderJob.toJSON} gives: enough to find the job again from
 * another process. Pass it to `client.renders.retrieve()` to rebuild the job.
 */
export interface RenderJobJSON {
  renderId: string;
  /** The session rendered, when known. */
  sessionId?: string | undefined;
  /** When the job started (ISO 8601), when known: a later `wait()` keeps the poll schedule's pace. */
  startedAt?: string | undefined;
}

/** How a job was made: the fields behind {@link RenderJobJSON}. */
export interface RenderJobInit {
  renderId: string;
  sessionId: string | undefined;
  /** Clock time the job started, when known. */
  startedAt: number | undefined;
  /** A poll already made. */
  lastStatus?: RenderStatus | undefined;
}

/**
 * A render job on the service. Get one from `session.render()`, or rebuild one
 * in any process from its id with `client.renders.retrieve()`.
 *
 * @example
 * ```ts
 * const job = await session.render();
 * const result = await job.wait({ onProgress: (s) => console.log(s.status, s.progress) });
 * await client.download(result.url, 'out.mp4', { renderId: job.renderId });
 * ```
 */
export class RenderJob {
  /** The render id this client chose (`render_<ms>_<random>`). */
  readonly renderId: string;
  /** The session rendered; `undefined` for a job retrieved by id when the service did not say. */
  readonly sessionId: string | undefined;
  readonly #ctx: ClientContext;
  /** Clock time the job started (known when started here or rebuilt from JSON), else the first wait's start. */
  #startedAt: number | undefined;
  #lastStatus: RenderStatus | undefined;

  /** @internal Use `session.render()` or `client.renders.retrieve()`. */
  constructor(ctx: ClientContext, init: RenderJobInit) {
    this.#ctx = ctx;
    this.renderId = init.renderId;
    this.sessionId = init.sessionId;
    this.#startedAt = init.startedAt;
    this.#lastStatus = init.lastStatus;
  }

  /** The answer of the latest poll (`status()`, `wait()`, `client.renders.retrieve()`), if any. */
  get lastStatus(): RenderStatus | undefined {
    return this.#lastStatus;
  }

  /** @deprecated The same as {@link RenderJob.renderId} (the one name results and errors use). */
  get id(): string {
    return this.renderId;
  }

  /**
   * Poll the job once. A read: retried on transient failures.
   *
   * @example
   * ```ts
   * const { status, progress } = await job.status();
   * ```
   */
  async status(options: RequestOptions = {}): Promise<RenderStatus> {
    const { status } = await pollRender(this.#ctx, this.renderId, options);
    this.#lastStatus = status;
    return status;
  }

  /**
   * Poll until the job completes, then return the result URL.
   *
   * The polls follow the schedule of `backend.render`: the first after about a
   * second, then twice as long each time up to the documented 30 s cadence
   * (`pollInterval` replaces that cadence), counted from the job's start, so a
   * second `wait()` on an old job keeps the steady pace. A `Retry-After` on a
   * poll makes the next wait at least that long (up to
   * `retryTiming.maxRetryAfterMs`, 120 s). The wait ends after `maxPolls` polls
   * (default 10, the documented budget, when `maxWait` is not given) or at
   * `maxWait` ms, whichever comes first; `maxWait` also cuts a poll that hangs.
   * Unknown statuses count as still running. Aborting `signal` stops at once
   * and leaves no timer behind; with `cancelOnAbort` the job is also cancelled
   * on the server.
   *
   * @throws {RenderFailedError} the job failed or was cancelled (`reason` is the server's).
   * @throws {RenderTimeoutError} `maxPolls` or `maxWait` ran out; the job may still finish: the message names the call that resumes the wait.
   * @throws {AbortError} `signal` aborted.
   *
   * @example
   * ```ts
   * const result = await job.wait({ maxWait: 10 * 60_000 });
   * console.log(result.url);
   * ```
   */
  async wait(options: RenderWaitOptions = {}): Promise<RenderResult> {
    const { signal } = options;
    try {
      return await this.#wait(options);
    } catch (error) {
      if (options.cancelOnAbort && signal?.aborted && error instanceof AbortError) {
        await this.cancel({ timeout: 10_000 }).catch((cancelError: unknown) => {
          this.#ctx.logger.warn(
            `Could not cancel render ${this.renderId} after abort: ${String(cancelError)}`,
          );
        });
      }
      throw error;
    }
  }

  async #wait(options: RenderWaitOptions): Promise<RenderResult> {
    const defaults = this.#ctx.backend.render;
    const interval = positive(options.pollInterval, 'pollInterval', defaults.pollIntervalMs, true);
    const maxWait =
      options.maxWait === undefined ? undefined : positive(options.maxWait, 'maxWait', 0, true);
    // maxWait alone bounds the wait by time; without it the documented poll budget applies.
    const maxPolls = positive(
      options.maxPolls,
      'maxPolls',
      maxWait === undefined ? defaults.maxPolls : Number.POSITIVE_INFINITY,
      false,
    );
    const cadence = { ...defaults, pollIntervalMs: interval };
    const clock = this.#ctx.clock;
    const started = clock.now();
    this.#startedAt ??= started;
    const jobStart = this.#startedAt;
    const endsAt = maxWait === undefined ? undefined : started + maxWait;
    // maxWait also bounds a poll in flight: a hanging request is cut at the deadline.
    const timer = deadline(
      clock,
      maxWait === undefined ? Number.POSITIVE_INFINITY : Math.max(1, maxWait),
    );
    const pollSignal = anySignal([options.signal, timer.signal]);
    let retryAfterMs: number | undefined;
    let last: RenderStatus | undefined;
    let polls = 0;
    try {
      while (polls < maxPolls) {
        let wait = nextPollDelay(cadence, clock.now() - jobStart);
        if (retryAfterMs !== undefined) {
          // Honoured, up to retryTiming.maxRetryAfterMs: a year-long hint neither stalls the wait
          // nor overflows a timer (and maxWait still bounds it).
          const cap = this.#ctx.transport.config.retryTiming.maxRetryAfterMs;
          wait = Math.max(wait, Math.min(retryAfterMs, cap));
        }
        if (endsAt !== undefined) wait = Math.min(wait, Math.max(0, endsAt - clock.now()));
        await sleep(clock, wait, options.signal);
        let outcome: PollOutcome;
        try {
          polls++;
          outcome = await pollRender(this.#ctx, this.renderId, {
            signal: pollSignal,
            timeout: options.timeout,
          });
        } catch (error) {
          if (timer.signal.aborted && !options.signal?.aborted) break;
          throw error;
        }
        const { status } = outcome;
        retryAfterMs = outcome.retryAfterMs;
        last = status;
        this.#lastStatus = status;
        options.onProgress?.(status);
        if (status.status === 'completed') return this.#result(status);
        if (status.status === 'failed') throw new RenderFailedError(this.renderId, status.error);
        if (status.status === 'cancelled') {
          throw new RenderFailedError(
            this.renderId,
            status.error ?? 'cancelled',
            `Render ${this.renderId} was cancelled${status.error ? `: ${status.error}` : ''}. Start a new render with session.render() or session.export().`,
          );
        }
        if (endsAt !== undefined && clock.now() >= endsAt) break;
      }
    } finally {
      timer.cancel();
    }
    throw this.#timeout(clock.now() - started, last, {
      maxWait,
      timedOut: endsAt !== undefined && clock.now() >= endsAt,
      polls,
    });
  }

  #timeout(
    elapsed: number,
    last: RenderStatus | undefined,
    why: { maxWait: number | undefined; timedOut: boolean; polls: number },
  ): RenderTimeoutError {
    const what = why.timedOut
      ? `within maxWait (${why.maxWait} ms)`
      : `after ${why.polls} poll${why.polls === 1 ? '' : 's'} (${Math.round(elapsed / 1000)} s)`;
    const seen = last
      ? ` Last status: ${last.status}${last.progress !== undefined ? ` at ${last.progress}%` : ''}.`
      : '';
    return new RenderTimeoutError(
      this.renderId,
      elapsed,
      `Render ${this.renderId} did not finish ${what}.${seen} It may still complete: resume the wait with (await client.renders.retrieve('${this.renderId}')).wait(), from this or any other process, or raise maxWait.`,
    );
  }

  #result(status: RenderStatus): RenderResult {
    const url =
      status.url ??
      this.#ctx.transport.url(this.#ctx.backend.paths.renderDownload(this.renderId)).href;
    return {
      renderId: this.renderId,
      url,
      durationSec: status.durationSec,
      sizeBytes: status.sizeBytes,
      raw: status.raw,
    };
  }

  /**
   * Ask the service to cancel the job (an optional endpoint of the service: it
   * may answer 404 where cancelling is unsupported). Safe to repeat.
   *
   * @example
   * ```ts
   * await job.cancel();
   * ```
   */
  async cancel(options: RequestOptions = {}): Promise<void> {
    await this.#ctx.transport.json<unknown>({
      ...options,
      method: 'POST',
      path: this.#ctx.backend.paths.renderCancel(this.renderId),
      json: {},
      replay: 'safe',
      what: 'the render cancel response',
    });
  }

  /**
   * `{ renderId, sessionId, startedAt }`: store it (a file, a queue message) and
   * rebuild the job anywhere with `client.renders.retrieve(json)`.
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(job);
   * // later, in any process:
   * const again = await client.renders.retrieve(JSON.parse(saved));
   * const result = await again.wait();
   * ```
   */
  toJSON(): RenderJobJSON {
    const json: RenderJobJSON = { renderId: this.renderId };
    if (this.sessionId !== undefined) json.sessionId = this.sessionId;
    if (this.#startedAt !== undefined) json.startedAt = new Date(this.#startedAt).toISOString();
    return json;
  }
}

function positive(
  value: number | undefined,
  name: string,
  fallback: number,
  zeroOk: boolean,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
    throw new ConfigError(`${name} must be a number ${zeroOk ? '≥ 0' : '> 0'} (got ${value}).`);
  }
  return value;
}

// ── start ──

/** True when a failed start is worth one more try with a new id (contract §2.7). */
function retryableStart(error: unknown): boolean {
  if (!isNemoError(error)) return false;
  if (
    error instanceof AbortError ||
    error instanceof ConfigError ||
    error instanceof AuthenticationError ||
    error instanceof SessionNotFoundError ||
    error instanceof InsufficientCreditsError ||
    error instanceof RateLimitError
  ) {
    return false;
  }
  if (error instanceof ApiError) {
    // A new id cannot fix a refusal about the account or the plan.
    if (error.name === 'ExportNotAllowedError') return false;
    if (error.httpStatus === 401 || error.httpStatus === 403) return false;
  }
  return true;
}

function isTimeline(value: unknown): value is Timeline {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as Timeline).tracks) &&
    typeof (value as Timeline).raw === 'object' &&
    typeof (value as Timeline).metadata === 'object'
  );
}

/** @internal The wire draft to render: the given one, else the session's current draft. */
export async function draftToRender(
  ctx: ClientContext,
  sessionId: string,
  draft: RenderOptions['draft'],
  options: RequestOptions,
): Promise<Record<string, unknown>> {
  if (draft !== undefined) {
    if (isTimeline(draft)) return encodeDraft(draft);
    if (typeof draft !== 'object' || draft === null || Array.isArray(draft)) {
      throw new ConfigError(
        'render({ draft }) needs a Timeline (from session.state()) or a wire draft object.',
      );
    }
    const deep = tooDeepAt(draft, 'draft');
    if (deep !== undefined) {
      throw new ConfigError(
        `render({ draft }): the draft nests more than ${MAX_DRAFT_DEPTH} levels deep (at ${deep.slice(0, 120)}), deeper than any timeline; pass the draft of session.state().`,
      );
    }
    return draft;
  }
  const state = await readState(ctx, sessionId, options);
  if (!state.draft || !isExportReady(state.draft)) throw notReady(sessionId, state.draft);
  return encodeDraft(state.draft);
}

/** @internal The error for a session with nothing to export, saying what to do. */
export function notReady(sessionId: string, draft: Timeline | null): DraftNotReadyError {
  const what =
    draft === null
      ? `Session ${sessionId} has no timeline yet`
      : `The timeline of session ${sessionId} has ${draft.tracks.length} track${draft.tracks.length === 1 ? '' : 's'} but no segment`;
  return new DraftNotReadyError(
    `${what}, so there is nothing to export. Upload a video (session.upload() or session.uploadUrl()) and ask the agent to edit it (session.send('…')); check with session.state() that a track has segments, then export again.`,
  );
}

/** @internal Hooks of {@link startRender} for durable workflows. */
export interface StartRenderHooks {
  /** Called with each render id just before its start request (twice when the start is retried). */
  beforeStart?: ((renderId: string) => Promise<void>) | undefined;
}

/**
 * @internal Start a render. The id is chosen here; the start is sent with
 * replay `refusal-only` (a 429 or a token refresh replays the same id: the
 * server refused it before acting). Any other failure is retried once, with a
 * NEW id (contract §2.7), unless the error says the request can never succeed.
 */
export async function startRender(
  ctx: ClientContext,
  sessionId: string,
  options: RenderOptions = {},
  hooks: StartRenderHooks = {},
): Promise<RenderJob> {
  const { draft: given, output, ...request } = options;
  const draft = await draftToRender(ctx, sessionId, given, request);
  const body = {
    sessionId,
    draft,
    output: { ...ctx.backend.render.output, ...output },
  };
  const send = async (id: string) => {
    // Durable workflows record the id before the request: a crash after it still finds the job.
    await hooks.beforeStart?.(id);
    return ctx.transport.json<unknown>({
      ...request,
      method: 'POST',
      path: ctx.backend.paths.renderStart,
      json: { id, ...body },
      replay: 'refusal-only',
      what: 'the render start response',
    });
  };
  const started = ctx.clock.now();
  let id = newRenderId(started);
  try {
    await send(id);
  } catch (error) {
    if (!retryableStart(error) || request.signal?.aborted) throw error;
    const failed = id;
    id = newRenderId(ctx.clock.now());
    ctx.logger.info(
      `Render start ${failed} failed (${error instanceof Error ? error.message : String(error)}); retrying once as ${id}`,
    );
    await send(id);
  }
  return new RenderJob(ctx, { renderId: id, sessionId, startedAt: started });
}

import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { parseRetryAfter } from '../../core/retry.js';
import { looseNumber } from '../../core/schema.js';
import { sleep } from '../../core/timers.js';
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
import { encodeDraft, type Timeline } from '../state/draft.js';
import { readState } from '../state/state.js';
import { isExportReady } from '../state/summary.js';

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

/** Where a render job stands. Unknown `status` values are kept as sent (lower case) and are not terminal. */
export type RenderStatusValue =
  | 'pending'
  | 'processing'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | (string & {});

/** One poll of a render job. */
export interface RenderStatus {
  status: RenderStatusValue;
  /** 0–100, when the service says. */
  progress: number | undefined;
  /** The result URL, once completed (`outputUrl`, `output.url` or `url`). */
  url?: string | undefined;
  /** The server's reason, when failed. */
  error?: string | undefined;
  /** Result duration in seconds, when the service says. */
  durationSec?: number | undefined;
  /** Result size in bytes, when the service says. */
  sizeBytes?: number | undefined;
  /** The poll response (its `data` when enveloped). */
  raw: unknown;
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
  /** Ms between polls. Default `backend.render.pollIntervalMs` (30 000). A poll's `Retry-After` wins. */
  pollInterval?: number | undefined;
  /** Most polls before giving up. Default `backend.render.maxPolls` (10). */
  maxPolls?: number | undefined;
  /** Most ms to wait overall. Default: no limit beyond `maxPolls`. */
  maxWait?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Per-poll request timeout in ms. */
  timeout?: number | undefined;
  /** Called after every poll. */
  onProgress?: ((status: RenderStatus) => void) | undefined;
  /** Cancel the job on the server when `signal` aborts. Default false (the job keeps running). */
  cancelOnAbort?: boolean | undefined;
}

// ── poll decoding ──

const optionalText = z.optional(z.nullable(z.unknown()));
const pollLevel = z.looseObject({
  status: z.optional(z.nullable(z.string())),
  progress: z.optional(z.nullable(looseNumber)),
  outputUrl: z.optional(z.nullable(z.string())),
  output_url: z.optional(z.nullable(z.string())),
  url: z.optional(z.nullable(z.string())),
  output: z.optional(
    z.nullable(
      z.looseObject({
        url: z.optional(z.nullable(z.string())),
        duration: z.optional(z.nullable(looseNumber)),
        size: z.optional(z.nullable(looseNumber)),
      }),
    ),
  ),
  duration: z.optional(z.nullable(looseNumber)),
  size: z.optional(z.nullable(looseNumber)),
  error: optionalText,
  message: optionalText,
});

type PollLevel = z.infer<typeof pollLevel>;

function reasonOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object') {
    const message = (value as { message?: unknown; reason?: unknown }).message;
    if (typeof message === 'string') return message;
    const reason = (value as { reason?: unknown }).reason;
    if (typeof reason === 'string') return reason;
    return JSON.stringify(value);
  }
  return undefined;
}

function normalizeStatus(value: string | null | undefined): RenderStatusValue {
  const s = (value ?? '').trim().toLowerCase();
  if (s === 'canceled') return 'cancelled';
  return s === '' ? 'unknown' : s;
}

/**
 * Decode a poll response from either documented shape: top level
 * `{status, progress, output: {url, duration, size}, error}` or wrapped
 * `{success, data: {status, progress, outputUrl, error}}` (the transport
 * unwraps the envelope; a bare `{data: {...}}` is read too).
 */
export function decodeRenderStatus(body: unknown): RenderStatus {
  const levels: PollLevel[] = [];
  const top = pollLevel.safeParse(body);
  if (top.success) levels.push(top.data);
  const nested = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  const inner = pollLevel.safeParse(nested);
  if (inner.success) levels.unshift(inner.data);
  const first = <T>(read: (level: PollLevel) => T | null | undefined): T | undefined => {
    for (const level of levels) {
      const value = read(level);
      if (value !== undefined && value !== null) return value;
    }
    return undefined;
  };
  const status = normalizeStatus(first((l) => l.status));
  const progress = first((l) => l.progress);
  const url = first((l) => l.outputUrl ?? l.output_url ?? l.output?.url ?? l.url);
  const error = first(
    (l) => reasonOf(l.error) ?? (status === 'failed' ? reasonOf(l.message) : undefined),
  );
  return {
    status,
    progress: progress === undefined ? undefined : Math.min(100, Math.max(0, progress)),
    url: url?.trim() ? url : undefined,
    error,
    durationSec: first((l) => l.output?.duration ?? l.duration),
    sizeBytes: first((l) => l.output?.size ?? l.size),
    raw: body,
  };
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
 * A render job on the service. Get one from `session.render()`.
 *
 * @example
 * ```ts
 * const job = await session.render();
 * const result = await job.wait({ onProgress: (s) => console.log(s.status, s.progress) });
 * await client.download(result.url, 'out.mp4');
 * ```
 */
export class RenderJob {
  /** The render id this client chose (`render_<ms>_<random>`). */
  readonly id: string;
  readonly sessionId: string;
  readonly #ctx: ClientContext;

  /** @internal Use `session.render()`. */
  constructor(ctx: ClientContext, id: string, sessionId: string) {
    this.#ctx = ctx;
    this.id = id;
    this.sessionId = sessionId;
  }

  /**
   * Poll the job once. A read: retried on transient failures.
   *
   * @example
   * ```ts
   * const { status, progress } = await job.status();
   * ```
   */
  status(options: RequestOptions = {}): Promise<RenderStatus> {
    return this.#poll(options).then((p) => p.status);
  }

  async #poll(
    options: RequestOptions,
  ): Promise<{ status: RenderStatus; retryAfterMs: number | undefined }> {
    let retryAfterMs: number | undefined;
    const body = await this.#ctx.transport.json<unknown>({
      ...options,
      method: 'GET',
      path: this.#ctx.backend.paths.renderPoll(this.id),
      replay: 'safe',
      what: 'the render status response',
      onResponse: (response) => {
        retryAfterMs = parseRetryAfter((name) => response.headers.get(name), this.#ctx.clock.now());
      },
    });
    return { status: decodeRenderStatus(body), retryAfterMs };
  }

  /**
   * Poll until the job completes, then return the result URL.
   *
   * Waits `pollInterval` before each poll (a `Retry-After` on a poll response
   * sets the next wait instead), up to `maxPolls` polls and `maxWait` ms.
   * Unknown statuses count as still running. Aborting `signal` stops at once
   * and leaves no timer behind; with `cancelOnAbort` the job is also cancelled
   * on the server.
   *
   * @throws {RenderFailedError} the job failed or was cancelled (`reason` is the server's).
   * @throws {RenderTimeoutError} `maxPolls` or `maxWait` ran out; the job may still finish: call `wait()` again.
   * @throws {AbortError} `signal` aborted.
   *
   * @example
   * ```ts
   * const result = await job.wait({ pollInterval: 10_000, maxPolls: 30 });
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
            `Could not cancel render ${this.id} after abort: ${String(cancelError)}`,
          );
        });
      }
      throw error;
    }
  }

  async #wait(options: RenderWaitOptions): Promise<RenderResult> {
    const defaults = this.#ctx.backend.render;
    const interval = positive(options.pollInterval, 'pollInterval', defaults.pollIntervalMs, true);
    const maxPolls = positive(options.maxPolls, 'maxPolls', defaults.maxPolls, false);
    const maxWait =
      options.maxWait === undefined ? undefined : positive(options.maxWait, 'maxWait', 0, true);
    const clock = this.#ctx.clock;
    const started = clock.now();
    const deadline = maxWait === undefined ? undefined : started + maxWait;
    let nextWait = interval;
    let last: RenderStatus | undefined;
    for (let polls = 0; polls < maxPolls; polls++) {
      let wait = nextWait;
      if (deadline !== undefined) wait = Math.min(wait, Math.max(0, deadline - clock.now()));
      await sleep(clock, wait, options.signal);
      const { status, retryAfterMs } = await this.#poll({
        signal: options.signal,
        timeout: options.timeout,
      });
      last = status;
      options.onProgress?.(status);
      if (status.status === 'completed') return this.#result(status);
      if (status.status === 'failed') throw new RenderFailedError(this.id, status.error);
      if (status.status === 'cancelled') {
        throw new RenderFailedError(
          this.id,
          status.error ?? 'cancelled',
          `Render ${this.id} was cancelled${status.error ? `: ${status.error}` : ''}. Start a new render with session.render() or session.export().`,
        );
      }
      if (deadline !== undefined && clock.now() >= deadline) break;
      // A poll's Retry-After wins, up to retryTiming.maxRetryAfterMs (a year-long hint must not
      // stall the wait, nor overflow a timer); maxWait still bounds the whole wait.
      const maxHint = Math.max(interval, this.#ctx.transport.config.retryTiming.maxRetryAfterMs);
      nextWait = retryAfterMs === undefined ? interval : Math.min(retryAfterMs, maxHint);
    }
    const elapsed = clock.now() - started;
    const what =
      deadline !== undefined && clock.now() >= deadline
        ? `within maxWait (${maxWait} ms)`
        : `after ${maxPolls} polls (${Math.round(elapsed / 1000)} s)`;
    const seen = last
      ? ` Last status: ${last.status}${last.progress !== undefined ? ` at ${last.progress}%` : ''}.`
      : '';
    throw new RenderTimeoutError(
      this.id,
      elapsed,
      `Render ${this.id} did not finish ${what}.${seen} It may still complete: call job.wait() again, or raise maxPolls / maxWait.`,
    );
  }

  #result(status: RenderStatus): RenderResult {
    const url =
      status.url ?? this.#ctx.transport.url(this.#ctx.backend.paths.renderDownload(this.id)).href;
    return {
      renderId: this.id,
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
      path: this.#ctx.backend.paths.renderCancel(this.id),
      json: {},
      replay: 'safe',
      what: 'the render cancel response',
    });
  }

  /** A plain description. */
  toJSON(): { id: string; sessionId: string } {
    return { id: this.id, sessionId: this.sessionId };
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
): Promise<RenderJob> {
  const { draft: given, output, ...request } = options;
  const draft = await draftToRender(ctx, sessionId, given, request);
  const body = {
    sessionId,
    draft,
    output: { ...ctx.backend.render.output, ...output },
  };
  const send = (id: string) =>
    ctx.transport.json<unknown>({
      ...request,
      method: 'POST',
      path: ctx.backend.paths.renderStart,
      json: { id, ...body },
      replay: 'refusal-only',
      what: 'the render start response',
    });
  let id = newRenderId(ctx.clock.now());
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
  return new RenderJob(ctx, id, sessionId);
}

import type { ClientContext } from '../../core/context.js';
import type { RequestOptions } from '../../core/transport.js';
import type { TurnResult } from '../chat/reply.js';
import { type SendOptions, sendMessage } from '../chat/send.js';
import { type ChatOptions, type ChatStream, startChat } from '../chat/stream.js';
import { type ExportOptions, type ExportResult, exportSession } from '../renders/export.js';
import { type RenderJob, type RenderOptions, startRender } from '../renders/render.js';
import { readState, type SessionState } from '../state/state.js';
import type { UploadInput } from '../uploads/sources.js';
import {
  type UploadOptions,
  type UploadResult,
  uploadFiles,
  uploadUrls,
} from '../uploads/upload.js';

/** What identifies a session. */
export interface SessionInfo {
  id: string;
  taskId: string | undefined;
  userId: string | undefined;
}

/** Client internals per session, out of users' reach (see {@link contextOf}). */
const contexts = new WeakMap<Session, ClientContext>();

/** @internal The client context behind a session, for the layers. */
export function contextOf(session: Session): ClientContext {
  const ctx = contexts.get(session);
  if (!ctx) throw new Error('nemovideo internal error: session without a client');
  return ctx;
}

/**
 * An editing session: chat, uploads, state and render hang here.
 * Get one from `client.sessions.create()` or `client.sessions.open(id)`.
 */
export class Session {
  /** The session id, a numeric string. */
  readonly id: string;
  readonly taskId: string | undefined;
  readonly userId: string | undefined;

  /** @internal Sessions come from `client.sessions.create()` or `client.sessions.open(id)`. */
  constructor(ctx: ClientContext, info: SessionInfo) {
    contexts.set(this, ctx);
    this.id = info.id;
    this.taskId = info.taskId;
    this.userId = info.userId;
  }

  /** A plain description (no client internals). */
  toJSON(): SessionInfo {
    return { id: this.id, taskId: this.taskId, userId: this.userId };
  }

  // ── chat (resources/chat) ──

  /**
   * Send a message to the agent and stream its reply. The message is POSTed at
   * once, exactly once (never re-sent automatically). Iterate the returned
   * {@link ChatStream}, or await `.text()` / `.result()`.
   *
   * @example
   * ```ts
   * for await (const event of session.chat('Add background music')) {
   *   if (event.type === 'text') process.stdout.write(event.text);
   * }
   * ```
   */
  chat(message: string, options: ChatOptions = {}): ChatStream {
    return startChat(contextOf(this), this.id, message, options);
  }

  /**
   * Send a message and wait for the whole turn, with the documented fallbacks:
   * a silent turn (no text) comes back with the timeline `changes` and a
   * one-line `summary` read from the state; a dropped connection is recovered
   * by reading the state, never by re-sending (`TurnLostError` if nothing changes).
   *
   * @example
   * ```ts
   * const turn = await session.send('Add a title "Urban Dreams"');
   * console.log(turn.silent ? turn.summary : turn.text);
   * ```
   */
  send(message: string, options: SendOptions = {}): Promise<TurnResult> {
    return sendMessage({ ctx: contextOf(this), id: this.id }, message, options);
  }

  // ── uploads (resources/uploads) ──

  /**
   * Upload files to the session in one multipart request: paths (Node), `File`s,
   * and bytes, `Blob`s or streams named with `toUpload()`. Every input is
   * validated first (format, size, path): a bad one throws before any byte is
   * sent. Files are streamed, never buffered. Paths, Blobs and bytes are read
   * again if a transient failure is retried; a stream is read once and never
   * retried. Default time limit: 30 minutes per attempt (`timeout` to change).
   *
   * @example
   * ```ts
   * const { files } = await session.upload('./city.mp4', {
   *   onProgress: (p) => console.log(`${p.percent?.toFixed(0)} %`),
   * });
   * console.log(files[0]?.url, files[0]?.durationSec);
   *
   * // several at once; bytes and streams need a file name
   * await session.upload(['intro.mov', toUpload(logoBytes, { filename: 'logo.png' })]);
   * ```
   */
  upload(
    input: UploadInput | readonly UploadInput[],
    options?: UploadOptions,
  ): Promise<UploadResult> {
    return uploadFiles(contextOf(this), this.id, input, options);
  }

  /**
   * Let the service download media from public http(s) URLs into the session.
   * Retried on transient failures.
   *
   * @example
   * ```ts
   * const { files } = await session.uploadUrl('https://example.com/city.mp4');
   * console.log(files[0]?.fileType, files[0]?.url);
   * ```
   */
  uploadUrl(
    url: string | URL | readonly (string | URL)[],
    options?: RequestOptions,
  ): Promise<UploadResult> {
    return uploadUrls(contextOf(this), this.id, url, options);
  }

  // ── state (resources/state) ──

  /**
   * Read the session's current state: the timeline (`draft`, decoded, or `null`
   * before the agent built one), media infos and canvas. A read: retried on
   * transient failures.
   *
   * @example
   * ```ts
   * import { summarizeTimeline } from 'nemovideo/helpers';
   *
   * const state = await session.state();
   * console.log(summarizeTimeline(state.draft));
   * ```
   */
  state(options: RequestOptions = {}): Promise<SessionState> {
    return readState(contextOf(this), this.id, options);
  }

  // ── renders and export (resources/renders) ──

  /**
   * Start rendering the timeline to MP4. Renders the session's current draft
   * unless `draft` is given (a `Timeline` or a wire draft). The job id is
   * chosen by the SDK; a failed start is retried once with a new id. Export
   * costs no credits.
   *
   * @throws {DraftNotReadyError} no `draft` was given and the session has nothing to export yet.
   *
   * @example
   * ```ts
   * const job = await session.render();
   * const { url } = await job.wait();
   * ```
   */
  render(options: RenderOptions = {}): Promise<RenderJob> {
    return startRender(contextOf(this), this.id, options);
  }

  /**
   * The whole export: read the state, check there is something to export,
   * render, wait for the result and, when `to` is given, download the MP4
   * there (a file path in Node, or a `WritableStream`).
   *
   * @throws {DraftNotReadyError} the timeline has no segment yet: upload a video and ask the agent to edit it first.
   * @throws {RenderFailedError} the render failed or was cancelled.
   * @throws {RenderTimeoutError} the render did not finish within `maxPolls` / `maxWait`.
   *
   * @example
   * ```ts
   * const result = await session.export({
   *   to: 'out.mp4',
   *   onProgress: (p) => console.log(p.stage, p.percent),
   * });
   * console.log(result.path, result.bytes);
   * ```
   */
  export(options: ExportOptions = {}): Promise<ExportResult> {
    return exportSession(contextOf(this), this.id, options);
  }
}

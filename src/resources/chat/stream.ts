/**
 * `ChatStream`: one chat turn as an async iterable. It wires the parts
 * together and owns the turn's lifecycle; the parts do one job each:
 * reader.ts (request, byte pump, read-ahead, SSE parsing), decode.ts (wire →
 * pieces and events), assemble.ts (text deltas, messages, the reply),
 * watchdog.ts (time limits), formats.ts (web streams).
 */
import type { ClientContext } from '../../core/context.js';
import { abortErrorFrom } from '../../core/timers.js';
import type { RequestOptions } from '../../core/transport.js';
import { AbortError, ConfigError, StreamError } from '../../errors/errors.js';
import { TurnAssembler } from './assemble.js';
import { decodePayload } from './decode.js';
import { type ChatEvent, type ErrorEvent, HeartbeatObject } from './events.js';
import {
  byteStream,
  type ChatReadableOptions,
  type EventSource,
  eventStream,
  readableFormat,
} from './formats.js';
import { Fifo } from './queue.js';
import { type Entry, Heartbeat, type ReadFailure, SseReader } from './reader.js';
import { TurnRecorder, type TurnResult } from './reply.js';
import { limitOption, TurnWatchdog } from './watchdog.js';

export type { ChatReadableOptions } from './formats.js';

/**
 * Default of the `idleTimeout` option: no bytes at all (not even a heartbeat)
 * for this long while the SDK waits on the stream means the connection is dead.
 * Five minutes: half the documented heartbeat-only limit, far above any
 * heartbeat cadence a live server keeps.
 */
export const DEFAULT_CHAT_IDLE_TIMEOUT_MS = 5 * 60_000;

/** Default of the `keepEvents` option: events kept for `result().events`. */
export const DEFAULT_KEPT_EVENTS = 10_000;

/** Options of `session.chat()`. Every time is in ms; `0` or `Infinity` turns a limit off. */
export interface ChatOptions extends RequestOptions {
  /**
   * Time allowed until the response headers arrive (the client's `timeout`,
   * default 60 s). The stream itself is governed by the limits below.
   */
  timeout?: number | undefined;
  /** Hard limit of the whole turn. Default `backend.turn.hardTimeoutMs` (15 min). */
  hardTimeout?: number | undefined;
  /**
   * A turn that sends only heartbeats for this long is lost (`TurnTimeoutError`).
   * Default `backend.turn.heartbeatOnlyTimeoutMs` (10 min).
   */
  heartbeatTimeout?: number | undefined;
  /**
   * No bytes at all for this long means the connection is dead
   * (`TimeoutError`, `kind: 'stream-idle'`). Default {@link DEFAULT_CHAT_IDLE_TIMEOUT_MS} (5 min).
   */
  idleTimeout?: number | undefined;
  /**
   * How many events the turn keeps for `result()` (`events`, and the
   * `toolCalls` / `toolResults` among them): a number, `true` (all) or `false`
   * (none). Default {@link DEFAULT_KEPT_EVENTS} (10 000), far more than a turn
   * has, so a runaway stream cannot hold unbounded memory. Every event is still
   * delivered to the reader and `text` is always complete;
   * `result().eventsDropped` counts the events not kept.
   */
  keepEvents?: boolean | number | undefined;
}

/**
 * The lifecycle of a turn, one state at a time:
 *
 * ```
 * streaming ──► ending ──► done | failed
 *     └───────────┴──► aborted ──► failed
 * ```
 * - `streaming`: the request is out or the body is being read; events flow.
 * - `ending`: nothing more will be read; the events already read still go out,
 *   then `failure` is thrown (a time limit, the server's error event, a broken
 *   body) or the iteration ends (`failure` undefined).
 * - `aborted`: your signal, `abort()`, or a reader that left: `error` is thrown
 *   at the next read, before any event still queued.
 * - `done` / `failed`: the reader has seen the end; `result()` is settled.
 */
type Lifecycle =
  | { readonly state: 'streaming' }
  | { readonly state: 'ending'; readonly failure: Error | undefined }
  | { readonly state: 'aborted'; readonly error: Error }
  | { readonly state: 'done' }
  | { readonly state: 'failed'; readonly error: Error };

const NEXT: Record<Lifecycle['state'], readonly Lifecycle['state'][]> = {
  streaming: ['ending', 'aborted'],
  ending: ['aborted', 'done', 'failed'],
  aborted: ['failed'],
  done: [],
  failed: [],
};

/** Each stream's view of its turn so far, for `send()` (which needs it after a failure). */
const soFar = new WeakMap<ChatStream, () => TurnResult>();

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

type Consumer = 'for await' | 'toReadableStream()' | 'result()';

function noop(): void {}

function keptEvents(value: boolean | number | undefined): number {
  if (value === undefined) return DEFAULT_KEPT_EVENTS;
  if (value === true) return Number.POSITIVE_INFINITY;
  if (value === false) return 0;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ConfigError(
      `keepEvents must be true, false or a number of events ≥ 0 (got ${String(value)}).`,
    );
  }
  return value;
}

/** What `ChatStream` needs to start a turn (internal). */
export interface ChatStreamInit {
  ctx: ClientContext;
  sessionId: string;
  message: string;
  options: ChatOptions;
}

/**
 * The reply to one chat message, as it streams: an `AsyncIterable<ChatEvent>`
 * with helpers. Get one from `session.chat(message)`; the message is POSTed
 * at once, exactly once.
 *
 * `text` events carry each piece of the reply once, streamed or not: print
 * them as they come and the reply appears exactly once. `message` events carry
 * each complete message, for those who want it whole.
 *
 * A stream has one reader: iterate it, or call `text()` / `result()`, or
 * `toReadableStream()`. `text()` and `result()` may also be called while or
 * after you iterate: they resolve when the turn ends. Iterating twice throws.
 *
 * Failures end the iteration with a typed error after every event received
 * before them: `StreamError` (the server reported an error, or the connection
 * broke mid-stream), `TimeoutError` (`turn-hard-limit`, `stream-idle`),
 * `TurnTimeoutError` (only heartbeats), `ResponseValidationError` (a JSON body
 * instead of a stream, too large or not JSON), `AbortError` (your signal or
 * `abort()`: thrown at once). The message is never re-sent.
 *
 * @example
 * ```ts
 * const stream = session.chat('Add a title "Urban Dreams"');
 * for await (const event of stream) {
 *   if (event.type === 'text') process.stdout.write(event.text);
 *   if (event.type === 'tool_call') console.log(`\n[${event.name}]`);
 * }
 * const { text, silent } = await stream.result();
 * ```
 */
export class ChatStream implements AsyncIterable<ChatEvent> {
  /** The session the message was sent to. */
  readonly sessionId: string;
  readonly #ctx: ClientContext;
  #life: Lifecycle = { state: 'streaming' };
  #consumer: Consumer | undefined;
  readonly #recorder: TurnRecorder;
  readonly #assembler: TurnAssembler;
  /** Events decoded and not yet handed out (the events of the payload being delivered). */
  readonly #ready = new Fifo<ChatEvent>();
  /** Aborts the HTTP request while it waits for the response. */
  readonly #request = new AbortController();
  readonly #reader: SseReader | undefined;
  readonly #watchdog: TurnWatchdog | undefined;
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort: () => void;
  readonly #completion: Promise<TurnResult>;
  #settle!: (result: TurnResult | Error) => void;

  /** @internal Use `session.chat()`. */
  constructor(init: ChatStreamInit) {
    const { ctx, sessionId, message, options } = init;
    if (typeof message !== 'string' || message.trim() === '') {
      throw new ConfigError(
        `session.chat() needs a non-empty message string (got ${JSON.stringify(message)}).`,
      );
    }
    const turn = ctx.backend.turn;
    const limits = {
      hardMs: limitOption(options.hardTimeout, turn.hardTimeoutMs, 'hardTimeout'),
      heartbeatMs: limitOption(
        options.heartbeatTimeout,
        turn.heartbeatOnlyTimeoutMs,
        'heartbeatTimeout',
      ),
      idleMs: limitOption(options.idleTimeout, DEFAULT_CHAT_IDLE_TIMEOUT_MS, 'idleTimeout'),
    };
    this.sessionId = sessionId;
    this.#ctx = ctx;
    this.#recorder = new TurnRecorder(keptEvents(options.keepEvents));
    this.#assembler = new TurnAssembler(this.#emit);
    soFar.set(this, () => this.#result());
    this.#completion = new Promise<TurnResult>((resolve, reject) => {
      this.#settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
    });
    this.#completion.catch(noop);

    const signal = options.signal ?? undefined;
    this.#userSignal = signal;
    this.#onUserAbort = () => this.#abort(abortErrorFrom(signal));
    if (signal?.aborted) {
      this.#abort(abortErrorFrom(signal));
      return;
    }
    signal?.addEventListener('abort', this.#onUserAbort, { once: true });

    const { backend } = ctx;
    this.#watchdog = new TurnWatchdog(ctx.clock, limits, (error) => this.#stop(error, true));
    const response = ctx.transport.stream({
      method: 'POST',
      path: backend.paths.runSse,
      json: {
        app_name: backend.appName,
        user_id: 'me',
        session_id: sessionId,
        new_message: { parts: [{ text: message }] },
      },
      headers: { accept: 'text/event-stream' },
      // Never replayed once the server may have received it (protocol §2.3).
      replay: 'refusal-only',
      what: 'the chat stream',
      signal: this.#request.signal,
      timeout: options.timeout,
      maxRetries: options.maxRetries,
    });
    this.#reader = new SseReader(
      response,
      this.#watchdog,
      ctx.logger,
      ctx.transport.config.maxResponseBytes,
    );
  }

  // ── consumption ──

  /**
   * Iterate the events of the turn. A stream can be iterated once; leaving the
   * loop early (`break`) closes the connection.
   *
   * @example
   * ```ts
   * for await (const event of session.chat('Trim the first 3 seconds')) {
   *   if (event.type === 'message') console.log(event.text);
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<ChatEvent, undefined> {
    this.#claim('for await');
    return {
      next: () => this.#nextFast(),
      return: () => {
        this.#close();
        return Promise.resolve(DONE);
      },
    };
  }

  /**
   * The whole reply text, once the turn ends: every `text` event joined (a line
   * break between messages), `thought` left out. Rejects as the iteration would.
   *
   * @example
   * ```ts
   * const reply = await session.chat('What is on the timeline?').text();
   * ```
   */
  async text(): Promise<string> {
    return (await this.result()).text;
  }

  /**
   * The {@link TurnResult} of the turn: text, tool calls and results, every event,
   * and `silent` (no reply text). Reads the stream to its end unless another
   * reader does; then resolves when that reader has finished.
   *
   * @example
   * ```ts
   * const { text, toolCalls, silent } = await session.chat('Add background music').result();
   * if (silent) console.log('no text; check session.state()');
   * ```
   */
  result(): Promise<TurnResult> {
    if (this.#consumer === undefined) {
      this.#consumer = 'result()';
      void this.#drain();
    }
    return this.#completion;
  }

  /**
   * Stop the turn: closes the connection and ends the iteration with
   * `AbortError`. The server may still finish the edit; read the state to know.
   *
   * @example
   * ```ts
   * const stream = session.chat('Generate a 30 s intro');
   * setTimeout(() => stream.abort(), 5_000);
   * ```
   */
  abort(reason?: string): void {
    this.#abort(
      new AbortError(
        reason
          ? `The chat stream was aborted: ${reason}`
          : 'The chat stream was aborted with stream.abort().',
      ),
    );
  }

  /**
   * The turn as a web `ReadableStream`: of `ChatEvent` objects (default), or of
   * UTF-8 bytes in NDJSON or SSE framing, ready for `new Response(body)`.
   *
   * Byte formats drop each event's `raw` unless `raw: true`. A failed turn ends
   * them with an `error` record (`{"type":"error","message","code","name"}`)
   * unless the server's own `error` event was already the last record, then
   * closes them; the object format errors the stream with the typed error.
   * Cancelling the stream closes the connection.
   *
   * @example
   * ```ts
   * // A route handler relaying the turn to a browser:
   * const body = session.chat(message).toReadableStream({ format: 'sse' });
   * return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
   * ```
   */
  toReadableStream(options?: { format?: 'events' }): ReadableStream<ChatEvent>;
  toReadableStream(options: {
    format: 'ndjson' | 'sse';
    raw?: boolean;
  }): ReadableStream<Uint8Array>;
  toReadableStream(
    options: ChatReadableOptions = {},
  ): ReadableStream<ChatEvent> | ReadableStream<Uint8Array> {
    const format = readableFormat(options);
    this.#claim('toReadableStream()');
    const source: EventSource = {
      next: () => this.#nextFast(),
      cancel: () => this.#close(),
    };
    return format === 'events'
      ? eventStream(source)
      : byteStream(source, format, options.raw === true);
  }

  #claim(by: Consumer): void {
    if (this.#consumer !== undefined) {
      throw new ConfigError(
        `This ChatStream is already being read by ${this.#consumer}; a stream has a single reader and cannot be iterated twice. ` +
          'Keep the events you need while iterating, or await stream.result() (it resolves with every event once the first reader is done).',
      );
    }
    this.#consumer = by;
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const step = await this.#nextFast();
        if (step.done) return;
      }
    } catch {
      // #finish settled the completion with the error.
    }
  }

  // ── delivery ──

  /** The common case, without an async frame: an event is ready or decodable now. */
  #nextFast(): Promise<IteratorResult<ChatEvent, undefined>> {
    const state = this.#life.state;
    if (state === 'streaming' || state === 'ending') {
      const event = this.#take();
      if (event !== undefined) {
        this.#recorder.add(event);
        return Promise.resolve({ value: event, done: false });
      }
    }
    return this.#next();
  }

  async #next(): Promise<IteratorResult<ChatEvent, undefined>> {
    for (;;) {
      const life = this.#life;
      switch (life.state) {
        case 'done':
        case 'failed':
          return DONE;
        case 'aborted':
          this.#finish(life.error);
          throw life.error;
      }
      const event = this.#take();
      if (event !== undefined) {
        this.#recorder.add(event);
        return { value: event, done: false };
      }
      const reader = this.#reader as SseReader;
      if (!reader.exhausted) {
        await reader.ready();
        continue;
      }
      if (life.state === 'ending') {
        this.#finish(life.failure);
        if (life.failure) throw life.failure;
        return DONE;
      }
      // Everything read was delivered and nothing more comes: how did the body end?
      const failure = reader.failure;
      if (failure) this.#to({ state: 'ending', failure: this.#errorOf(failure) });
      else {
        // A message still open is complete as it stands (its `message` event goes out first).
        this.#assembler.end();
        this.#to({ state: 'ending', failure: undefined });
      }
    }
  }

  /** The next event: a decoded one, or the next payload decoded. */
  #take(): ChatEvent | undefined {
    const reader = this.#reader;
    for (;;) {
      const event = this.#ready.shift();
      if (event !== undefined || reader === undefined) return event;
      const entry = reader.next();
      if (entry === undefined) return undefined;
      this.#decode(entry);
    }
  }

  #decode(entry: Entry): void {
    if (typeof entry === 'string') decodePayload(entry, undefined, this.#assembler);
    else if (entry instanceof Heartbeat) this.#assembler.event(new HeartbeatObject(entry.raw));
    else decodePayload(entry.data, entry.event, this.#assembler);
  }

  /** Where the assembler puts events. The server's `error` event ends the turn after itself. */
  readonly #emit = (event: ChatEvent): void => {
    this.#ready.push(event);
    if (event.type === 'error') this.#stop(this.#streamErrorFor(event), false);
  };

  #streamErrorFor(event: ErrorEvent): StreamError {
    const code = event.code === undefined ? '' : ` (code ${event.code})`;
    return new StreamError(
      `The agent reported an error${code}: ${event.message}. The turn ended; the message was not re-sent.`,
      { code: event.code },
    );
  }

  #errorOf(failure: ReadFailure): Error {
    if ('error' in failure) return failure.error;
    const cause = failure.broken;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new StreamError(
      `The chat stream broke after ${this.#recorder.received} events were received (${reason}). ` +
        'The message was not re-sent: the agent may still be working. session.send() recovers by reading the state; with chat(), read session.state() to see what changed.',
      { cause },
    );
  }

  #result(): TurnResult {
    return this.#recorder.result(this.#assembler.text, this.#assembler.silent);
  }

  // ── lifecycle ──

  #to(next: Lifecycle): boolean {
    if (!NEXT[this.#life.state].includes(next.state)) return false;
    this.#life = next;
    return true;
  }

  /**
   * End the turn with `failure` after the events already read: a time limit
   * (`keep`: what was read is still delivered) or the server's error event
   * (nothing after it is).
   */
  #stop(failure: Error, keep: boolean): void {
    // Nothing after the server's error event is delivered, even when the turn was already ending.
    if (!keep) this.#reader?.cancel(failure, false);
    if (!this.#to({ state: 'ending', failure })) return;
    this.#watchdog?.stop();
    this.#request.abort(failure);
    this.#reader?.cancel(failure, keep);
  }

  /** Stop now: the error is thrown at the next read, before anything queued. */
  #abort(error: Error): void {
    if (!this.#to({ state: 'aborted', error })) return;
    this.#watchdog?.stop();
    this.#request.abort(error);
    this.#reader?.cancel(error, false);
    this.#ready.clear();
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
  }

  /** The reader left early (`break`, a cancelled web stream): close, and end the turn with an abort. */
  #close(): void {
    const error = new AbortError('The chat stream was closed by its reader before the turn ended.');
    this.#abort(error);
    if (this.#life.state === 'aborted') this.#finish(this.#life.error);
  }

  /** The reader saw the end: release everything and settle `result()`. */
  #finish(error: Error | undefined): void {
    if (!this.#to(error ? { state: 'failed', error } : { state: 'done' })) return;
    this.#watchdog?.stop();
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
    this.#ready.clear();
    if (error) {
      this.#reader?.cancel(error, false);
      this.#settle(error);
      return;
    }
    const result = this.#result();
    if (this.#ctx.logger.enabled('debug')) {
      this.#ctx.logger.debug(
        `chat turn on session ${this.sessionId} ended: ${result.events.length} events, ${result.text.length} chars${result.silent ? ' (silent)' : ''}`,
      );
    }
    this.#settle(result);
  }
}

/** @internal Start a turn (used by `Session.chat`). */
export function startChat(
  ctx: ClientContext,
  sessionId: string,
  message: string,
  options: ChatOptions = {},
): ChatStream {
  return new ChatStream({ ctx, sessionId, message, options });
}

/** @internal What a stream delivered so far (events, text), also after a failure. */
export function turnSoFar(stream: ChatStream): TurnResult {
  const result = soFar.get(stream);
  if (!result) throw new Error('nemovideo internal error: unknown chat stream');
  return result();
}

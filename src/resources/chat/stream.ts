import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ClientContext } from '../../core/context.js';
import { abortErrorFrom, schedule } from '../../core/timers.js';
import type { RequestOptions } from '../../core/transport.js';
import {
  AbortError,
  ConfigError,
  StreamError,
  TimeoutError,
  TurnTimeoutError,
} from '../../errors/errors.js';
import {
  type ChatEvent,
  commentHeartbeat,
  decodePayload,
  type ErrorEvent,
  type HeartbeatEvent,
  isHeartbeatPayload,
} from './events.js';
import { TurnRecorder, type TurnResult } from './reply.js';

/**
 * Default of the `idleTimeout` option: no bytes at all (not even a heartbeat)
 * for this long while the SDK waits on the stream means the connection is dead.
 * Five minutes: half the documented heartbeat-only limit, far above any
 * heartbeat cadence a live server keeps.
 */
export const DEFAULT_CHAT_IDLE_TIMEOUT_MS = 5 * 60_000;

/** Default of the `keepEvents` option: events kept for `result().events`. */
export const DEFAULT_KEPT_EVENTS = 10_000;

/**
 * Payload characters read ahead of the reader before the SDK stops reading
 * the body (and resumes below half). Reading ahead keeps every byte that
 * arrived even if the connection then breaks; the cap bounds memory when the
 * reader is slow.
 */
const MAX_BUFFERED_CHARS = 1024 * 1024;

/** Largest SSE event the parser buffers (characters) before it gives up on the stream. */
const MAX_EVENT_CHARS = 32 * 1024 * 1024;

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

/** Options of {@link ChatStream.toReadableStream}. */
export interface ChatReadableOptions {
  /**
   * `events` (default): a `ReadableStream<ChatEvent>`. `ndjson`: UTF-8 bytes,
   * one JSON event per line. `sse`: UTF-8 bytes, one `data: <json>` event each.
   */
  format?: 'events' | 'ndjson' | 'sse';
  /** Byte formats only: keep each event's `raw` payload. Default false (smaller). */
  raw?: boolean;
}

/** Each stream's recorder, for `send()` (which needs the events seen before a failure). */
const recorders = new WeakMap<ChatStream, TurnRecorder>();

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

type Consumer = 'for await' | 'toReadableStream()' | 'result()';

function noop(): void {}

/**
 * A first-in first-out buffer that reuses its slots: `array.length = 0`
 * followed by `push` reallocates every time, which on a stream of a few
 * hundred thousand events shows up as GC time.
 */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return item;
  }

  clear(): void {
    this.#items.fill(undefined, this.#head, this.#tail);
    this.#head = this.#tail = 0;
  }

  release(): void {
    this.#items = [];
    this.#head = this.#tail = 0;
  }
}

function limit(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new ConfigError(
      `${name} must be a number of ms ≥ 0, or 0 / Infinity to turn it off (got ${String(value)}).`,
    );
  }
  return v === Number.POSITIVE_INFINITY ? 0 : v;
}

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

function describeMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
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
 * A stream has one reader: iterate it, or call `text()` / `result()`, or
 * `toReadableStream()`. `text()` and `result()` may also be called while or
 * after you iterate: they resolve when the turn ends. Iterating twice throws.
 *
 * Failures end the iteration with a typed error after every event received
 * before them: `StreamError` (the server reported an error, or the connection
 * broke mid-stream), `TimeoutError` (`turn-hard-limit`, `stream-idle`),
 * `TurnTimeoutError` (only heartbeats), `AbortError` (your signal or
 * `abort()`: thrown at once). The message is never re-sent.
 *
 * @example
 * ```ts
 * const stream = session.chat('Add a title "Urban Dreams"');
 * for await (const event of stream) {
 *   if (event.type === 'text' && event.partial) process.stdout.write(event.text);
 *   if (event.type === 'tool_call') console.log(`\n[${event.name}]`);
 * }
 * const { text, silent } = await stream.result();
 * ```
 */
export class ChatStream implements AsyncIterable<ChatEvent> {
  /** The session the message was sent to. */
  readonly sessionId: string;
  readonly #ctx: ClientContext;
  readonly #recorder: TurnRecorder;
  /** Aborts the HTTP request (and its body). */
  readonly #request = new AbortController();
  /** Cancels the watchdog timer, when one is armed. */
  #cancelTimer: (() => void) | undefined;
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort: () => void;
  readonly #hardMs: number;
  readonly #heartbeatMs: number;
  readonly #idleMs: number;
  readonly #startedAt: number;
  #response: Promise<Response> | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /**
   * Payloads read but not yet decoded (and comment heartbeats). The body is
   * read as fast as it arrives; decoding waits until the reader asks, so the
   * decoded objects die young, which keeps long streams cheap.
   */
  readonly #queue = new Fifo<EventSourceMessage | HeartbeatEvent>();
  /** Characters of payload in `#queue`. */
  #queuedChars = 0;
  /** The reader waits for the pump. */
  #dataReady: Promise<void> | undefined;
  #wakeReader: (() => void) | undefined;
  /** The pump waits for the reader (read-ahead cap reached). */
  #resumePump: (() => void) | undefined;
  /** Events decoded from the payload being delivered. */
  readonly #ready = new Fifo<ChatEvent>();
  /** No more bytes will be read (end of body, or failure). */
  #ended = false;
  #failure: Error | undefined;
  /** Throw the failure before the queued events (aborts). */
  #failNow = false;
  /** The consumer saw the end; cleanup done. */
  #finished = false;
  #consumer: Consumer | undefined;
  /** An `error` event was decoded: nothing after it is delivered. */
  #stopped = false;
  /** Since when the SDK waits for bytes (undefined while it is not reading). */
  #readSince: number | undefined;
  /** Time spent waiting on the network since the last event that was not a heartbeat. */
  #quietMs = 0;
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
    this.#hardMs = limit(options.hardTimeout, turn.hardTimeoutMs, 'hardTimeout');
    this.#heartbeatMs = limit(
      options.heartbeatTimeout,
      turn.heartbeatOnlyTimeoutMs,
      'heartbeatTimeout',
    );
    this.#idleMs = limit(options.idleTimeout, DEFAULT_CHAT_IDLE_TIMEOUT_MS, 'idleTimeout');
    this.sessionId = sessionId;
    this.#ctx = ctx;
    this.#recorder = new TurnRecorder(keptEvents(options.keepEvents));
    recorders.set(this, this.#recorder);
    this.#completion = new Promise<TurnResult>((resolve, reject) => {
      this.#settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
    });
    this.#completion.catch(noop);
    this.#startedAt = ctx.clock.now();
    this.#readSince = this.#startedAt;

    const signal = options.signal ?? undefined;
    this.#userSignal = signal;
    this.#onUserAbort = () => this.#fail(abortErrorFrom(signal), true);
    if (signal?.aborted) {
      this.#fail(abortErrorFrom(signal), true);
      return;
    }
    signal?.addEventListener('abort', this.#onUserAbort, { once: true });

    const { backend } = ctx;
    this.#response = ctx.transport.stream({
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
    void this.#pump();
    this.#watch();
  }

  // ── consumption ──

  /**
   * Iterate the events of the turn. A stream can be iterated once; leaving the
   * loop early (`break`) closes the connection.
   *
   * @example
   * ```ts
   * for await (const event of session.chat('Trim the first 3 seconds')) {
   *   if (event.type === 'text' && !event.partial) console.log(event.text);
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
   * The whole reply text, once the turn ends (partial deltas joined, the final
   * repeat counted once, `thought` parts left out). Rejects as the iteration would.
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
    this.#fail(
      new AbortError(
        reason
          ? `The chat stream was aborted: ${reason}`
          : 'The chat stream was aborted with stream.abort().',
      ),
      true,
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
    const format = options.format ?? 'events';
    if (format !== 'events' && format !== 'ndjson' && format !== 'sse') {
      throw new ConfigError(
        `toReadableStream() format must be 'events', 'ndjson' or 'sse' (got ${JSON.stringify(format)}).`,
      );
    }
    this.#claim('toReadableStream()');
    const cancel = () => {
      this.#close();
    };
    if (format === 'events') {
      return new ReadableStream<ChatEvent>(
        {
          pull: async (controller) => {
            try {
              const step = await this.#nextFast();
              if (step.done) controller.close();
              else controller.enqueue(step.value);
            } catch (error) {
              controller.error(error);
            }
          },
          cancel,
        },
        { highWaterMark: 0 },
      );
    }
    const encoder = new TextEncoder();
    const keepRaw = options.raw === true;
    const frame = (json: string) =>
      encoder.encode(format === 'sse' ? `data: ${json}\n\n` : `${json}\n`);
    let lastType: ChatEvent['type'] | undefined;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const step = await this.#nextFast();
            if (step.done) {
              controller.close();
              return;
            }
            const event = step.value;
            lastType = event.type;
            if (keepRaw) controller.enqueue(frame(JSON.stringify(event)));
            else {
              const { raw: _raw, ...rest } = event;
              controller.enqueue(frame(JSON.stringify(rest)));
            }
          } catch (error) {
            if (lastType !== 'error') {
              const e = error instanceof Error ? error : new Error(String(error));
              const code = (e as { code?: unknown }).code;
              controller.enqueue(
                frame(
                  JSON.stringify({
                    type: 'error',
                    message: e.message,
                    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
                    name: e.name,
                  }),
                ),
              );
            }
            controller.close();
          }
        },
        cancel,
      },
      { highWaterMark: 0 },
    );
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

  /** The reader left early: close the connection, end the turn with an abort. */
  #close(): void {
    if (this.#finished) return;
    const error = new AbortError('The chat stream was closed by its reader before the turn ended.');
    this.#fail(error, true);
    this.#finish(error);
  }

  /** The common case, without an async frame: an event is ready or decodable now. */
  #nextFast(): Promise<IteratorResult<ChatEvent, undefined>> {
    if (!this.#failNow && !this.#finished) {
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
      if (this.#finished) return DONE;
      if (!this.#failNow) {
        const event = this.#take();
        if (event !== undefined) {
          this.#recorder.add(event);
          return { value: event, done: false };
        }
      }
      const failure = this.#failure;
      if (failure) {
        this.#finish(failure);
        throw failure;
      }
      if (this.#ended) {
        this.#finish(undefined);
        return DONE;
      }
      this.#dataReady ??= new Promise<void>((resolve) => {
        this.#wakeReader = resolve;
      });
      await this.#dataReady;
    }
  }

  /** The next event, decoding queued payloads as needed. */
  #take(): ChatEvent | undefined {
    let event = this.#ready.shift();
    while (event === undefined) {
      const entry = this.#queue.shift();
      if (entry === undefined) return undefined;
      this.#decode(entry);
      if (this.#failNow) return undefined;
      event = this.#ready.shift();
    }
    return event;
  }

  /** Tell a waiting reader that events (or the end) arrived. */
  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    this.#dataReady = undefined;
    wake?.();
  }

  // ── reading the wire ──

  /**
   * Read the response as fast as it arrives into `#queue` (up to the
   * read-ahead cap), so that every byte received is kept even if the
   * connection then breaks. Never rejects: failures are recorded.
   */
  async #pump(): Promise<void> {
    let reading = false;
    try {
      const response = await (this.#response as Promise<Response>);
      if (this.#failure) {
        void response.body?.cancel().catch(noop);
        return;
      }
      this.#gotBytes();
      reading = true;
      const contentType = response.headers.get('content-type') ?? '';
      if (/\bjson\b/i.test(contentType) && !/event-stream/i.test(contentType)) {
        // A JSON body where a stream was expected: one payload.
        const text = await response.text();
        if (!this.#failure) this.#enqueue({ data: text, event: undefined, id: undefined });
        this.#bodyEnded();
        return;
      }
      if (!response.body) {
        this.#bodyEnded();
        return;
      }
      const reader = response.body.getReader();
      this.#reader = reader;
      const decoder = new TextDecoder();
      const parser = createParser({
        onEvent: (message) => this.#enqueue(message),
        onComment: (comment) => {
          this.#queue.push(commentHeartbeat(comment));
        },
        onError: (error) => {
          if (error.type === 'max-buffer-size-exceeded') {
            this.#fail(
              new StreamError(
                `An event on the chat stream exceeded ${MAX_EVENT_CHARS} characters without ending; the stream is not valid Server-Sent Events. The message was not re-sent.`,
                { cause: error },
              ),
              false,
            );
          } else if (this.#ctx.logger.enabled('debug')) {
            this.#ctx.logger.debug(`chat stream: ignored line (${error.message})`);
          }
        },
        maxBufferSize: MAX_EVENT_CHARS,
      });
      const clock = this.#ctx.clock;
      for (;;) {
        if (this.#queuedChars > MAX_BUFFERED_CHARS) {
          await new Promise<void>((resolve) => {
            this.#resumePump = resolve;
          });
          if (this.#failure) return;
        }
        this.#readSince = clock.now();
        const { done, value } = await reader.read();
        if (this.#failure) return;
        this.#gotBytes();
        if (done) {
          // Flush a last event the server did not end with a blank line.
          parser.feed(`${decoder.decode()}\n\n`);
          this.#bodyEnded();
          return;
        }
        parser.feed(decoder.decode(value, { stream: true }));
        this.#wake();
      }
    } catch (error) {
      if (this.#failure) return;
      if (!reading) {
        // The request itself failed (typed by the transport): nothing was streamed.
        this.#fail(error instanceof Error ? error : new Error(String(error)), false);
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      this.#fail(
        new StreamError(
          `The chat stream broke after ${this.#recorder.received + this.#queue.size} events were received (${reason}). ` +
            'The message was not re-sent: the agent may still be working. session.send() recovers by reading the state; with chat(), read session.state() to see what changed.',
          { cause: error },
        ),
        false,
      );
    } finally {
      this.#wake();
    }
  }

  /** A payload arrived: queue it; anything but a heartbeat shows the turn is alive. */
  #enqueue(message: EventSourceMessage): void {
    if (this.#stopped) return;
    this.#queue.push(message);
    this.#queuedChars += message.data.length;
    if (!isHeartbeatPayload(message.data, message.event)) this.#quietMs = 0;
  }

  /** Decode one queued payload into `#ready`; an `error` event ends the turn after itself. */
  #decode(entry: EventSourceMessage | HeartbeatEvent): void {
    if ('type' in entry) {
      this.#ready.push(entry);
      return;
    }
    this.#queuedChars -= entry.data.length;
    if (this.#resumePump && this.#queuedChars <= MAX_BUFFERED_CHARS / 2) {
      const resume = this.#resumePump;
      this.#resumePump = undefined;
      resume();
    }
    decodePayload(entry.data, entry.event, this.#sink);
  }

  /** Where decoded events go. */
  readonly #sink = { push: (event: ChatEvent) => this.#accept(event) };

  /** An `error` event ends the turn after itself. */
  #accept(event: ChatEvent): void {
    if (this.#stopped) return;
    this.#ready.push(event);
    if (event.type === 'error') {
      this.#stopped = true;
      this.#queue.clear();
      this.#fail(this.#streamErrorFor(event), false);
    }
  }

  #streamErrorFor(event: ErrorEvent): StreamError {
    const code = event.code === undefined ? '' : ` (code ${event.code})`;
    return new StreamError(
      `The agent reported an error${code}: ${event.message}. The turn ended; the message was not re-sent.`,
      { code: event.code },
    );
  }

  /** The whole body was read: no limit applies any more. */
  #bodyEnded(): void {
    this.#ended = true;
    this.#stopTimer();
    this.#wake();
  }

  /** Bytes (or headers) arrived: account the network wait. */
  #gotBytes(): void {
    const since = this.#readSince;
    if (since !== undefined) {
      this.#quietMs += this.#ctx.clock.now() - since;
      this.#readSince = undefined;
    }
  }

  // ── limits and ending ──

  /** One timer at a time on the client's clock, re-armed for the nearest limit. */
  #watch(): void {
    this.#cancelTimer = undefined;
    if (this.#ended) return;
    const hard = this.#hardMs;
    const idle = this.#idleMs;
    const quiet = this.#heartbeatMs;
    if (!hard && !idle && !quiet) return;
    const clock = this.#ctx.clock;
    const now = clock.now();
    const waiting = this.#readSince === undefined ? 0 : now - this.#readSince;
    let wait = Number.POSITIVE_INFINITY;
    if (hard) {
      const left = this.#startedAt + hard - now;
      if (left <= 0) {
        this.#timeout('hard');
        return;
      }
      wait = left;
    }
    if (idle) {
      const left = idle - waiting;
      if (left <= 0) {
        this.#timeout('idle');
        return;
      }
      wait = Math.min(wait, left);
    }
    if (quiet && this.#readSince !== undefined) {
      // Judged only while waiting on the network: the pump classifies every payload on arrival.
      const left = quiet - (this.#quietMs + waiting);
      if (left <= 0) {
        this.#timeout('heartbeat');
        return;
      }
      wait = Math.min(wait, left);
    }
    // Not reading (read-ahead cap) with only the heartbeat limit on: look again later.
    if (wait === Number.POSITIVE_INFINITY) wait = quiet;
    // The core timer helper caps each step at 2^31-1 ms (setTimeout would fire at once beyond).
    this.#cancelTimer = schedule(clock, wait, () => this.#watch());
  }

  /** Cancel the watchdog (the turn is over). */
  #stopTimer(): void {
    const cancel = this.#cancelTimer;
    this.#cancelTimer = undefined;
    cancel?.();
  }

  #timeout(which: 'hard' | 'idle' | 'heartbeat'): void {
    const notResent =
      'The message was not re-sent; read session.state() to see what the agent did.';
    let error: Error;
    if (which === 'hard') {
      const ms = this.#hardMs;
      error = new TimeoutError(
        'turn-hard-limit',
        ms,
        `The chat turn exceeded its hard limit of ${describeMs(ms)} and was stopped (hardTimeout option; default backend.turn.hardTimeoutMs). ${notResent}`,
      );
    } else if (which === 'idle') {
      const ms = this.#idleMs;
      error = new TimeoutError(
        'stream-idle',
        ms,
        `No bytes arrived on the chat stream for ${describeMs(ms)}: the connection is considered dead (idleTimeout option). ${notResent}`,
      );
    } else {
      const ms = this.#heartbeatMs;
      error = new TurnTimeoutError(
        'turn-heartbeats-only',
        ms,
        `Only heartbeats arrived on the chat stream for ${describeMs(ms)}: the turn is considered lost (heartbeatTimeout option; default backend.turn.heartbeatOnlyTimeoutMs). ${notResent}`,
      );
    }
    this.#fail(error, false);
  }

  /** Record the failure that ends the turn; stop the request and the timer. */
  #fail(error: Error, immediate: boolean): void {
    if (this.#failure || this.#finished) return;
    this.#failure = error;
    this.#failNow = immediate;
    this.#ended = true;
    this.#stopTimer();
    this.#request.abort(error);
    if (this.#reader) this.#reader.cancel(error).catch(noop);
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
    const resume = this.#resumePump;
    this.#resumePump = undefined;
    resume?.();
    this.#wake();
  }

  /** The reader saw the end: release everything and settle `result()`. */
  #finish(error: Error | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#ended = true;
    this.#stopTimer();
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
    this.#queue.release();
    this.#ready.release();
    if (error) this.#settle(error);
    else {
      const result = this.#recorder.result();
      if (this.#ctx.logger.enabled('debug')) {
        this.#ctx.logger.debug(
          `chat turn on session ${this.sessionId} ended: ${result.events.length} events, ${result.text.length} chars${result.silent ? ' (silent)' : ''}`,
        );
      }
      this.#settle(result);
    }
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
  const recorder = recorders.get(stream);
  if (!recorder) throw new Error('nemovideo internal error: unknown chat stream');
  return recorder.result();
}

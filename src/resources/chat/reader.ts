/**
 * The reading side of a chat turn: the response, the byte pump, the bounded
 * read-ahead, and SSE parsing when the reader asks for the next payload.
 *
 * The body is read as fast as it arrives (a web stream that errors drops the
 * chunks still queued in it, so bytes that reached the client are kept only if
 * they were read), up to {@link READ_AHEAD_BYTES} ahead of the reader: every
 * byte counts, comment lines and empty `data:` payloads included, after any
 * decompression. The bytes wait as they came (off the JavaScript heap, so a
 * garbage collection never copies them) and are parsed only when the reader
 * asks; heartbeats that arrive together come out as one.
 */
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { LevelLogger } from '../../core/logger.js';
import { ResponseValidationError, StreamError } from '../../errors/errors.js';
import { Fifo } from './queue.js';

/** Bytes of the body read ahead of the reader at most; reading resumes below half. */
export const READ_AHEAD_BYTES = 1024 * 1024;

/** Largest SSE event (characters) the parser buffers before it gives up on the stream. */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/** Text handed to the SSE parser at a time: bounds the payloads parsed ahead of the reader. */
const FEED_CHARS = 64 * 1024;

const STREAM = { stream: true } as const;

function noop(): void {}

/** An SSE comment or an empty `data:` payload (several in a row come as one). */
export class Heartbeat {
  readonly raw: string;
  constructor(raw: string) {
    this.raw = raw;
  }
}

/** A payload with an SSE `event:` name (unnamed payloads are plain strings: the common case, no wrapper). */
export class NamedPayload {
  readonly data: string;
  readonly event: string;
  constructor(data: string, event: string) {
    this.data = data;
    this.event = event;
  }
}

/** What the reader hands out: an unnamed payload, a named one, or a heartbeat. */
export type Entry = string | NamedPayload | Heartbeat;

/** Told when the reader waits on the network and when bytes arrive (the watchdog). */
export interface NetworkWatch {
  /** The reader waits for bytes. */
  waiting(): void;
  /** Bytes (or the response headers) arrived; `content`: they start a payload that is not a heartbeat. */
  received(content: boolean): void;
  /** Nothing more will be read (the body ended, failed, or reading was cancelled). */
  finished(): void;
}

/** Why no more bytes come: the request failed (`error`), or the body broke (`broken`, the cause). */
export type ReadFailure = { error: Error } | { broken: unknown };

/** The end of the body, queued after its last bytes. */
const END = 'end';

/**
 * Whether SSE bytes start a payload that is not a heartbeat, judged as the
 * bytes arrive (the heartbeat-only limit cannot wait for the reader). It looks
 * at the first line of each kind it meets and stops at the first content line;
 * a line cut by a chunk boundary is judged by its start. Lenient: a line it
 * cannot judge (an unfinished `data:` line) counts as content.
 */
class ContentSniffer {
  #midLine = false;

  sniff(bytes: Uint8Array): boolean {
    const n = bytes.length;
    let i = 0;
    if (this.#midLine) {
      while (i < n && bytes[i] !== 10 && bytes[i] !== 13) i++;
    }
    let content = false;
    while (i < n && !content) {
      const c = bytes[i] as number;
      if (c === 10 || c === 13) {
        i++;
        continue;
      }
      let end = i;
      while (end < n && bytes[end] !== 10 && bytes[end] !== 13) end++;
      content = isContentLine(bytes, i, end, end === n);
      i = end;
    }
    const last = bytes[n - 1];
    this.#midLine = last !== 10 && last !== 13;
    return content;
  }
}

/** `{"type":"heartbeat"}` (or `ping`, `keepalive`) as a whole `data:` value. */
const TYPED_HEARTBEAT = /^\s*\{\s*"type"\s*:\s*"(?:heartbeat|ping|keepalive)"\s*\}\s*$/;

function isContentLine(bytes: Uint8Array, start: number, end: number, cut: boolean): boolean {
  // `data:`
  if (
    bytes[start] !== 100 ||
    bytes[start + 1] !== 97 ||
    bytes[start + 2] !== 116 ||
    bytes[start + 3] !== 97 ||
    bytes[start + 4] !== 58
  ) {
    return false; // a comment, `event:` / `id:` / `retry:`, or an ignored field
  }
  let v = start + 5;
  while (v < end && (bytes[v] === 32 || bytes[v] === 9)) v++;
  if (cut) return true;
  if (v === end) return false; // an empty payload: a heartbeat
  if (end - v > 64) return true;
  return !TYPED_HEARTBEAT.test(String.fromCharCode(...bytes.subarray(v, end)));
}

/**
 * Reads one `/run_sse` response. The pump starts at once; `next()` hands out
 * what arrived, parsing as it goes; `ready()` resolves when more arrives.
 */
export class SseReader {
  /** `reading` → `paused` (read-ahead full) ⇄ `reading` → `ended` | `failed` | `cancelled`. */
  #state: 'connecting' | 'reading' | 'paused' | 'ended' | 'failed' | 'cancelled' = 'connecting';
  #failure: ReadFailure | undefined;
  readonly #watch: NetworkWatch;
  readonly #logger: LevelLogger;
  #body: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes read and not yet parsed, then {@link END} once the body ended. */
  readonly #bytes = new Fifo<Uint8Array | typeof END>();
  #queuedBytes = 0;
  /** Payloads parsed and not yet handed out. */
  readonly #entries = new Fifo<Entry>();
  readonly #decoder = new TextDecoder();
  readonly #parser: EventSourceParser;
  readonly #sniffer = new ContentSniffer();
  /** The parser gave up (an event beyond {@link MAX_EVENT_CHARS}): nothing more is parsed. */
  #parserStopped = false;
  #resumePump: (() => void) | undefined;
  #arrived: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Largest JSON body read where a stream was expected (the client's `maxResponseBytes`). */
  readonly #maxJsonBytes: number;
  /** Bytes received in all, for messages. */
  received = 0;

  constructor(
    response: Promise<Response>,
    watch: NetworkWatch,
    logger: LevelLogger,
    maxJsonBytes: number,
  ) {
    this.#watch = watch;
    this.#logger = logger;
    this.#maxJsonBytes = maxJsonBytes;
    this.#parser = createParser({
      onEvent: (message) => {
        const { data, event } = message;
        if (event !== undefined) this.#entries.push(new NamedPayload(data, event));
        else if (data === '') this.#heartbeat('');
        else this.#entries.push(data);
      },
      onComment: (comment) => this.#heartbeat(comment),
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') {
          // The parser stops for good: drop what is left and stop reading.
          this.#parserStopped = true;
          this.#bytes.clear();
          this.#queuedBytes = 0;
          const failure = new StreamError(
            `An event on the chat stream exceeded ${MAX_EVENT_CHARS} characters without ending; the stream is not valid Server-Sent Events. The message was not re-sent.`,
            { cause: error },
          );
          if (this.#state === 'ended') {
            this.#state = 'failed';
            this.#failure = { error: failure };
          } else this.#fail({ error: failure });
        } else if (this.#logger.enabled('debug')) {
          this.#logger.debug(`chat stream: ignored line (${error.message})`);
        }
      },
      maxBufferSize: MAX_EVENT_CHARS,
    });
    void this.#pump(response);
  }

  /** Why reading stopped early, once it did. */
  get failure(): ReadFailure | undefined {
    return this.#failure;
  }

  /**
   * The next payload or heartbeat, parsing buffered bytes as needed;
   * `undefined` when nothing is buffered (see {@link exhausted}).
   */
  next(): Entry | undefined {
    for (;;) {
      const entry = this.#entries.shift();
      if (entry !== undefined) return entry;
      const chunk = this.#bytes.shift();
      if (chunk === undefined) return undefined;
      if (chunk === END) {
        // Flush a last event the server did not end with a blank line.
        this.#feed(`${this.#decoder.decode()}\n\n`);
        continue;
      }
      this.#queuedBytes -= chunk.byteLength;
      if (this.#resumePump !== undefined && this.#queuedBytes <= READ_AHEAD_BYTES / 2) {
        const resume = this.#resumePump;
        this.#resumePump = undefined;
        resume();
      }
      this.#feed(this.#decoder.decode(chunk, STREAM));
    }
  }

  /** Nothing is buffered and nothing more will be read. */
  get exhausted(): boolean {
    const s = this.#state;
    return (
      (s === 'ended' || s === 'failed' || s === 'cancelled') &&
      this.#entries.size === 0 &&
      this.#bytes.size === 0
    );
  }

  /** Resolves when bytes, the end or a failure arrive. */
  ready(): Promise<void> {
    this.#arrived ??= new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    return this.#arrived;
  }

  /**
   * Stop reading and close the connection. `keep`: what was read is still
   * handed out (a time limit); otherwise it is dropped (an abort, an error event).
   */
  cancel(reason: Error, keep: boolean): void {
    if (!keep) {
      this.#bytes.clear();
      this.#entries.clear();
      this.#queuedBytes = 0;
    }
    if (this.#state !== 'ended' && this.#state !== 'failed' && this.#state !== 'cancelled') {
      this.#state = 'cancelled';
      this.#watch.finished();
      this.#body?.cancel(reason).catch(noop);
      const resume = this.#resumePump;
      this.#resumePump = undefined;
      resume?.();
    }
    this.#notify();
  }

  #feed(text: string): void {
    if (text.length <= FEED_CHARS) {
      if (!this.#parserStopped) this.#parser.feed(text);
      return;
    }
    for (let at = 0; at < text.length && !this.#parserStopped; at += FEED_CHARS) {
      this.#parser.feed(text.slice(at, at + FEED_CHARS));
    }
  }

  #heartbeat(raw: string): void {
    if (!(this.#entries.last() instanceof Heartbeat)) this.#entries.push(new Heartbeat(raw));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    this.#arrived = undefined;
    wake?.();
  }

  #fail(failure: ReadFailure): void {
    if (this.#state === 'ended' || this.#state === 'failed' || this.#state === 'cancelled') return;
    this.#state = 'failed';
    this.#failure = failure;
    this.#watch.finished();
    this.#body?.cancel().catch(noop);
    const resume = this.#resumePump;
    this.#resumePump = undefined;
    resume?.();
    this.#notify();
  }

  async #pump(request: Promise<Response>): Promise<void> {
    let response: Response;
    try {
      response = await request;
    } catch (error) {
      // The request itself failed (typed by the transport): nothing was streamed.
      this.#fail({ error: error instanceof Error ? error : new Error(String(error)) });
      return;
    }
    if (this.#state === 'cancelled') {
      void response.body?.cancel().catch(noop);
      return;
    }
    this.#watch.received(false);
    const contentType = response.headers.get('content-type') ?? '';
    if (/\bjson\b/i.test(contentType) && !/event-stream/i.test(contentType)) {
      await this.#readJson(response);
      return;
    }
    const body = response.body;
    if (!body) {
      this.#end();
      return;
    }
    const reader = body.getReader();
    this.#body = reader;
    this.#state = 'reading';
    try {
      for (;;) {
        if (this.#queuedBytes > READ_AHEAD_BYTES) {
          this.#state = 'paused';
          await new Promise<void>((resolve) => {
            this.#resumePump = resolve;
          });
          if (this.#state !== 'paused') return;
          this.#state = 'reading';
        }
        this.#watch.waiting();
        const { done, value } = await reader.read();
        if (this.#state !== 'reading') return;
        if (done) {
          this.#watch.received(false);
          this.#end();
          return;
        }
        if (value.byteLength === 0) continue;
        this.received += value.byteLength;
        this.#watch.received(this.#sniffer.sniff(value));
        this.#bytes.push(value);
        this.#queuedBytes += value.byteLength;
        this.#notify();
      }
    } catch (cause) {
      if (this.#state === 'reading') this.#fail({ broken: cause });
    }
  }

  /**
   * A JSON body where a stream was expected: one payload, read up to the
   * client's `maxResponseBytes` (the transport reads such a body with the same
   * bound to look for an error envelope; this holds on any transport).
   */
  async #readJson(response: Response): Promise<void> {
    const reader = response.body?.getReader();
    this.#body = reader;
    this.#state = 'reading';
    const decoder = new TextDecoder();
    let text = '';
    try {
      for (;;) {
        if (!reader) break;
        this.#watch.waiting();
        const { done, value } = await reader.read();
        if (this.#state !== 'reading') return;
        this.#watch.received(done);
        if (done) break;
        this.received += value.byteLength;
        if (this.received > this.#maxJsonBytes) {
          this.#fail({
            error: new ResponseValidationError(
              `The chat answered with a JSON body (content-type ${response.headers.get('content-type')}) instead of an event stream, and it is larger than ${this.#maxJsonBytes} bytes (maxResponseBytes), the most the SDK reads. The rest was not read. The message was not re-sent; check baseUrl / NEMO_API_URL.`,
              { path: '(body)' },
            ),
          });
          return;
        }
        text += decoder.decode(value, STREAM);
      }
    } catch (cause) {
      if (this.#state === 'reading') this.#fail({ broken: cause });
      return;
    }
    text += decoder.decode();
    try {
      JSON.parse(text);
    } catch (cause) {
      this.#fail({
        error: new ResponseValidationError(
          `The chat answered with a JSON body (content-type ${response.headers.get('content-type')}) instead of an event stream, and it is not valid JSON (${text.length} characters, starting "${text.slice(0, 60)}"). The message was not re-sent; check baseUrl / NEMO_API_URL.`,
          { path: '(body)', body: text.slice(0, 500), cause },
        ),
      });
      return;
    }
    this.#entries.push(text);
    this.#end();
  }

  #end(): void {
    if (this.#state === 'cancelled' || this.#state === 'failed') return;
    this.#state = 'ended';
    this.#watch.finished();
    this.#bytes.push(END);
    this.#notify();
  }
}

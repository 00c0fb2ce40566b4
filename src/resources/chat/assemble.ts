/**
 * From pieces of text to `text`, `thought` and `message` events, and the reply
 * text of a turn. The rules (docs/chat-streaming.md, "The event model"):
 *
 * - every piece of reply text is delivered once, as a `text` event: streamed
 *   deltas as they come, a message that was not streamed whole;
 * - the final copy of a streamed message is not delivered again: only what it
 *   adds past the deltas (nothing, normally) is; a final copy that contradicts
 *   the deltas wins in `message` and in the reply text (the server's record);
 * - a `message` event follows the pieces of each message, once it is complete:
 *   after the last text part of the payload that completed it (ADK), before the
 *   next event that is not text (type-tagged chunks), or at the end of the stream;
 * - a new message after an earlier one starts with a line break, in its first
 *   `text` event and in the reply text alike: the `text` events of a turn,
 *   joined, are its reply text (unless a final copy contradicted its deltas);
 * - reasoning (`thought`) follows the same delta rules, apart from the reply.
 */
import type { PayloadSink, PieceMode } from './decode.js';
import { type ChatEvent, TextLikeEvent } from './events.js';

/** An open message: pieces delivered, and its final copy while one is being read. */
interface OpenMessage {
  readonly mode: PieceMode;
  readonly author: string | undefined;
  timestamp: number | undefined;
  /** What the events delivered (without the separator). */
  delivered: string;
  /** The final copy, from the payload `finalRaw`, while its parts are read. */
  final: string | undefined;
  finalRaw: unknown;
  /** How much of `delivered` the final copy being read has matched so far. */
  matched: number;
  /** The final copy contradicts the delivered pieces. */
  diverged: boolean;
}

function open(
  mode: PieceMode,
  author: string | undefined,
  timestamp: number | undefined,
): OpenMessage {
  return {
    mode,
    author,
    timestamp,
    delivered: '',
    final: undefined,
    finalRaw: undefined,
    matched: 0,
    diverged: false,
  };
}

/** Authors differ only when both are known. */
function otherAuthor(message: OpenMessage, author: string | undefined): boolean {
  return message.author !== undefined && author !== undefined && message.author !== author;
}

const NON_SPACE = /\S/;

/**
 * `delivered.startsWith(text, at)`. `delivered` is the deltas joined with `+=`
 * (a rope), which `startsWith` reads character by character through the rope;
 * the common case, a final copy equal to everything delivered, is one `===`,
 * which walks the rope once.
 */
function sameAt(delivered: string, text: string, at: number): boolean {
  if (at === 0 && text.length === delivered.length) return text === delivered;
  return delivered.startsWith(text, at);
}

/**
 * Builds the events of a turn from decoded payloads, and its reply text.
 * Events go to `out` as they are made.
 */
export class TurnAssembler implements PayloadSink {
  readonly #out: (event: ChatEvent) => void;
  /**
   * Finished messages and their separators, joined when the reply is read:
   * a list rather than a `+=` rope, whose cons cells would all be copied by
   * each young-generation GC they survive (the reply is the one thing of a
   * long turn that must live to its end).
   */
  #reply: string[] = [];
  /** `#reply` joined, while no message was added since. */
  #joined: string | undefined = '';
  /** The reply (or the open message) ends with a line break. */
  #endsWithNewline = false;
  /** Some reply text is not white space. */
  #spoken = false;
  #text: OpenMessage | undefined;
  /** The separator the open text message started with. */
  #separator = '';
  #thought: OpenMessage | undefined;

  constructor(out: (event: ChatEvent) => void) {
    this.#out = out;
  }

  /** The reply so far: finished messages, and what an open one delivered. */
  get text(): string {
    const message = this.#text;
    this.#joined ??= this.#reply.join('');
    if (message === undefined) return this.#joined;
    return this.#joined + this.#separator + (message.diverged ? message.final : message.delivered);
  }

  /** True when the turn has produced no reply text (only white space, or nothing). */
  get silent(): boolean {
    return !this.#spoken;
  }

  piece(
    thought: boolean,
    text: string,
    mode: PieceMode,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ): void {
    if (thought) this.#thoughtPiece(text, mode, author, timestamp, raw);
    else this.#textPiece(text, mode, author, timestamp, raw);
  }

  piecesEnd(raw: unknown): void {
    const text = this.#text;
    if (text?.final !== undefined && text.finalRaw === raw) this.#closeText(raw);
    const thought = this.#thought;
    if (thought?.final !== undefined && thought.finalRaw === raw) this.#thought = undefined;
  }

  event(event: ChatEvent): void {
    // Type-tagged chunks form a message until the next event that is not text.
    if (this.#text?.mode === 'chunk' && event.type !== 'heartbeat') this.#closeText(undefined);
    this.#out(event);
  }

  /** The stream ended: an open message is complete as it stands. */
  end(): void {
    if (this.#text !== undefined) this.#closeText(undefined);
    this.#thought = undefined;
  }

  #textPiece(
    text: string,
    mode: PieceMode,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ): void {
    let message = this.#text;
    if (message !== undefined) {
      const continues =
        !otherAuthor(message, author) &&
        (mode === 'chunk'
          ? message.mode === 'chunk'
          : message.mode === 'partial' || (message.mode === 'final' && message.finalRaw === raw));
      if (!continues) {
        this.#closeText(undefined);
        message = undefined;
      }
    }
    if (message === undefined) {
      message = open(mode, author, timestamp);
      this.#text = message;
      this.#separator =
        this.#reply.length > 0 && !this.#endsWithNewline && text.charCodeAt(0) !== 10 ? '\n' : '';
    }
    if (timestamp !== undefined) message.timestamp = timestamp;
    if (mode !== 'final' || message.mode === 'final') {
      // A delta, a chunk, or a further part of a message that was not streamed.
      if (message.mode === 'final') this.#startFinal(message, raw, text);
      this.#deliver(
        message,
        message.delivered === '' ? this.#separator + text : text,
        author,
        timestamp,
        raw,
      );
      message.delivered += text;
      return;
    }
    // The final copy of a streamed message: deliver only what it adds past the deltas.
    this.#startFinal(message, raw, text);
    if (message.diverged) return;
    const delivered = message.delivered;
    const at = message.matched;
    const left = delivered.length - at;
    if (text.length <= left) {
      if (sameAt(delivered, text, at)) message.matched = at + text.length;
      else message.diverged = true;
      return;
    }
    if (left > 0 && !text.startsWith(delivered.slice(at))) {
      message.diverged = true;
      return;
    }
    const added = left > 0 ? text.slice(left) : text;
    this.#deliver(message, added, author, timestamp, raw);
    message.delivered = delivered + added;
    message.matched = message.delivered.length;
  }

  /** Record a part of the final copy (from the payload `raw`). */
  #startFinal(message: OpenMessage, raw: unknown, text: string): void {
    if (message.finalRaw !== raw) {
      message.final = text;
      message.finalRaw = raw;
      message.matched = 0;
    } else message.final += text;
  }

  #deliver(
    message: OpenMessage,
    text: string,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ): void {
    if (text === '') return;
    if (!this.#spoken && NON_SPACE.test(text)) this.#spoken = true;
    this.#endsWithNewline = text.charCodeAt(text.length - 1) === 10;
    this.#out(
      new TextLikeEvent('text', text, author ?? message.author, timestamp, raw) as ChatEvent,
    );
  }

  #closeText(raw: unknown): void {
    const message = this.#text;
    if (message === undefined) return;
    this.#text = undefined;
    // A final copy shorter than the deltas contradicts them too.
    if (message.final !== undefined && message.matched < message.delivered.length) {
      message.diverged = true;
    }
    // The final copy when there is one (one string the server sent, where the deltas are many
    // small ones: keeping it lets the deltas die young), else what the deltas delivered.
    const text = message.final ?? message.delivered;
    if (message.diverged) {
      if (!this.#spoken && NON_SPACE.test(text)) this.#spoken = true;
      if (text !== '') this.#endsWithNewline = text.charCodeAt(text.length - 1) === 10;
    }
    if (this.#separator !== '') this.#reply.push(this.#separator);
    if (text !== '') this.#reply.push(text);
    this.#joined = undefined;
    this.#separator = '';
    if (text === '') return;
    this.#out(
      new TextLikeEvent('message', text, message.author, message.timestamp, raw) as ChatEvent,
    );
  }

  #thoughtPiece(
    text: string,
    mode: PieceMode,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ): void {
    let run = this.#thought;
    if (run !== undefined && (otherAuthor(run, author) || run.mode !== 'partial')) {
      if (!(run.mode === 'final' && run.finalRaw === raw)) run = undefined;
    }
    if (run === undefined) {
      run = open(mode === 'chunk' ? 'final' : mode, author, timestamp);
      this.#thought = run;
    }
    if (mode === 'partial' || run.mode === 'final') {
      if (run.mode === 'final') this.#startFinal(run, raw, text);
      run.delivered += text;
      this.#out(new TextLikeEvent('thought', text, author, timestamp, raw) as ChatEvent);
      return;
    }
    // The final copy of streamed reasoning: only what it adds is new.
    this.#startFinal(run, raw, text);
    if (run.diverged) return;
    const at = run.matched;
    const left = run.delivered.length - at;
    if (text.length <= left) {
      if (sameAt(run.delivered, text, at)) run.matched = at + text.length;
      else run.diverged = true;
      return;
    }
    if (left > 0 && !text.startsWith(run.delivered.slice(at))) {
      run.diverged = true;
      return;
    }
    const added = left > 0 ? text.slice(left) : text;
    run.delivered += added;
    run.matched = run.delivered.length;
    this.#out(new TextLikeEvent('thought', added, author, timestamp, raw) as ChatEvent);
  }
}

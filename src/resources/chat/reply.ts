import type { SessionState } from '../state/state.js';
import type { TimelineChanges } from '../state/summary.js';
import type { ChatEvent, TextEvent, ToolCallEvent, ToolResultEvent } from './events.js';

/** How `session.send()` recovered from a dropped connection (see `docs/chat-streaming.md`). */
export interface TurnRecovery {
  /** The failure that ended the stream (`StreamError`, `ConnectionError`, an idle timeout…). */
  error: Error;
  /** State reads made before a change was seen. */
  reads: number;
  /** Time spent waiting for the change, in ms (on the client's clock). */
  waitedMs: number;
}

/** The outcome of one chat turn. */
export interface TurnResult {
  /**
   * The whole reply text: partial deltas joined, the final repeat of a
   * streamed message counted once, `thought` parts left out. Separate agent
   * messages (ADK events) are joined with a line break.
   */
  text: string;
  /** Every tool call, in order (among the kept events, see `eventsDropped`). */
  toolCalls: ToolCallEvent[];
  /** Every tool result, in order (among the kept events, see `eventsDropped`). */
  toolResults: ToolResultEvent[];
  /**
   * Every event received, in order (partials and heartbeats included), up to
   * the `keepEvents` budget of the chat (default 10 000 events, far more than
   * a turn has). `text` is always complete.
   */
  events: ChatEvent[];
  /**
   * Events received beyond the `keepEvents` budget, hence missing from
   * `events`, `toolCalls` and `toolResults` (they were still delivered to the
   * reader). 0 for any ordinary turn.
   */
  eventsDropped: number;
  /** True when the turn produced no reply text (about 30 % of editing turns). */
  silent: boolean;
  /** `send()` only: what changed in the timeline (silent turns, recovery, or `stateCheck: 'always'`). */
  changes?: TimelineChanges;
  /** `send()` only: one line describing `changes` (`"no changes"` when nothing changed). */
  summary?: string;
  /** `send()` only: the state read after the turn. */
  stateAfter?: SessionState;
  /** `send()` only: present when the connection dropped and the turn was confirmed from the state. */
  recovery?: TurnRecovery;
}

/**
 * Builds the reply text and the result of a turn from its events, in order.
 * Used by `ChatStream` as events are delivered, and by `send()`.
 */
export class TurnRecorder {
  readonly events: ChatEvent[] = [];
  readonly toolCalls: ToolCallEvent[] = [];
  readonly toolResults: ToolResultEvent[] = [];
  /** Finished messages (append-only: never sliced or scanned, so long turns stay linear). */
  #committed = '';
  /** Whether `#committed` ends with a line break. */
  #endsWithNewline = false;
  /** A run of partial deltas is open (a final event will replace it). */
  #partialRun = false;
  /** The open run's deltas, and the separator to put before them. */
  #pending = '';
  #pendingSeparator = '';
  /** The payload of the last final text event (several text parts of one event form one message). */
  #lastFinalRaw: unknown;
  /** How many events `events` may hold. */
  readonly #keep: number;
  /** Every event seen, kept or not. */
  received = 0;

  constructor(keep: number = Number.POSITIVE_INFINITY) {
    this.#keep = keep;
  }

  add(event: ChatEvent): void {
    this.received++;
    if (event.type === 'text') this.#addText(event);
    // Past the budget only the text is built: nothing else is retained.
    if (this.events.length >= this.#keep) return;
    this.events.push(event);
    if (event.type === 'tool_call') this.toolCalls.push(event);
    else if (event.type === 'tool_result') this.toolResults.push(event);
  }

  /** The separator before a new message: separate agent messages go on their own lines. */
  #separatorFor(event: TextEvent): string {
    return event.author !== undefined &&
      this.#committed.length > 0 &&
      !this.#endsWithNewline &&
      event.text.charCodeAt(0) !== 10
      ? '\n'
      : '';
  }

  #commit(separator: string, text: string): void {
    this.#committed += separator;
    this.#committed += text;
    // Look at the event's own text: the concatenation is a rope, and scanning it would flatten it.
    if (text !== '') this.#endsWithNewline = text.charCodeAt(text.length - 1) === 10;
    else if (separator !== '') this.#endsWithNewline = true;
  }

  #addText(event: TextEvent): void {
    if (event.partial) {
      if (!this.#partialRun) {
        this.#partialRun = true;
        this.#pendingSeparator = this.#separatorFor(event);
        this.#pending = '';
      }
      this.#pending += event.text;
      this.#lastFinalRaw = undefined;
      return;
    }
    if (this.#partialRun) {
      // The final repeat of a streamed message replaces its deltas (it is authoritative).
      this.#commit(this.#pendingSeparator, event.text);
      this.#partialRun = false;
      this.#pending = '';
    } else if (this.#lastFinalRaw !== undefined && this.#lastFinalRaw === event.raw) {
      this.#commit('', event.text);
    } else {
      this.#commit(this.#separatorFor(event), event.text);
    }
    this.#lastFinalRaw = event.raw;
  }

  /** The reply so far (deltas of an unfinished message included). */
  get text(): string {
    return this.#partialRun
      ? this.#committed + this.#pendingSeparator + this.#pending
      : this.#committed;
  }

  result(): TurnResult {
    const text = this.text;
    return {
      text,
      toolCalls: this.toolCalls,
      toolResults: this.toolResults,
      events: this.events,
      eventsDropped: this.received - this.events.length,
      silent: text.trim() === '',
    };
  }
}

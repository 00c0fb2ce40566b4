import type { SessionState } from '../state/state.js';
import type { TimelineChanges } from '../state/summary.js';
import type { ChatEvent, ToolCallEvent, ToolResultEvent } from './events.js';

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
   * The whole reply text: the `text` events joined (each piece once, a line
   * break between messages), `thought` left out. Where a server's final copy
   * of a message contradicts its streamed deltas, the final copy.
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
  /** True when the turn produced no reply text, or only white space (about 30 % of editing turns). */
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
 * Keeps the events of a turn for `result()`, as they are delivered, up to a
 * budget (`keepEvents`): past it only the count grows, so a runaway stream
 * cannot hold unbounded memory. The reply text is built by the assembler.
 */
export class TurnRecorder {
  readonly events: ChatEvent[] = [];
  readonly toolCalls: ToolCallEvent[] = [];
  readonly toolResults: ToolResultEvent[] = [];
  /** How many events `events` may hold. */
  readonly #keep: number;
  /** Every event delivered, kept or not. */
  received = 0;

  constructor(keep: number = Number.POSITIVE_INFINITY) {
    this.#keep = keep;
  }

  add(event: ChatEvent): void {
    this.received++;
    if (this.events.length >= this.#keep) return;
    this.events.push(event);
    if (event.type === 'tool_call') this.toolCalls.push(event);
    else if (event.type === 'tool_result') this.toolResults.push(event);
  }

  result(text: string, silent: boolean): TurnResult {
    return {
      text,
      toolCalls: this.toolCalls,
      toolResults: this.toolResults,
      events: this.events,
      eventsDropped: this.received - this.events.length,
      silent,
    };
  }
}

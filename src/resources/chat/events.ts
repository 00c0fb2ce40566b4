/**
 * The chat event model: what `session.chat()` yields. Decoding from the wire
 * is in decode.ts; the rules that turn streamed and whole messages into these
 * events are in assemble.ts.
 */

/**
 * New reply text: the next piece of the agent's reply, to append to what came
 * before. Every piece of text is delivered exactly once, streamed or not:
 * joined, the `text` events of a turn are its reply (`ChatStream.text()`), so
 * `if (e.type === 'text') out(e.text)` prints the reply as it arrives.
 *
 * A piece that starts a new agent message after an earlier one begins with a
 * line break (the same one `text()` puts between messages).
 */
export interface TextEvent {
  type: 'text';
  /** The new text (a streamed delta, or a whole message that was not streamed). */
  text: string;
  /** The agent that wrote it (ADK `author`), when the server says. */
  author: string | undefined;
  /** When the server stamped the event, in ms since the epoch (seconds are converted). */
  timestamp: number | undefined;
  /** The decoded payload this event came from (shared by every event of one payload). */
  raw: unknown;
}

/**
 * A complete agent message, once it is complete: the whole text that the
 * `text` events before it delivered piece by piece. Use it to show or store
 * messages whole; never print it as well as the `text` events (that would
 * print the reply twice).
 *
 * When a server's final copy of a streamed message differs from the pieces it
 * streamed, `message.text` is the final copy (the server's record of the
 * message), and so is `ChatStream.text()`.
 */
export interface MessageEvent {
  type: 'message';
  /** The whole message (without the line break that separates it from the previous one). */
  text: string;
  author: string | undefined;
  timestamp: number | undefined;
  /** The payload that completed the message (`undefined` when the end of the stream did). */
  raw: unknown;
}

/**
 * Model reasoning (an ADK part with `thought: true`), piece by piece like
 * `text`: never part of the reply (`text` events, `message`, `ChatStream.text()`).
 * Skip it unless you show the agent's thinking.
 */
export interface ThoughtEvent {
  type: 'thought';
  /** The new reasoning text (a streamed delta, or a whole thought). */
  text: string;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
}

/** The agent called a tool (ADK `functionCall`, or `{"type":"tool_call"}`). */
export interface ToolCallEvent {
  type: 'tool_call';
  /** Call id (ADK `functionCall.id`), pairing the call with its result. */
  id: string | undefined;
  name: string;
  args: Record<string, unknown>;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
}

/** A tool returned (ADK `functionResponse`, or `{"type":"tool_result"}`). */
export interface ToolResultEvent {
  type: 'tool_result';
  id: string | undefined;
  name: string;
  /** ADK `functionResponse.response`, or the type-tagged `result`. */
  result: unknown;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
}

/**
 * The server is still working: SSE comment lines (`raw` is the first
 * comment), empty `data:` payloads (`raw` is `""`), or `{"type":"heartbeat"}`.
 * Heartbeats that arrive together (in one network read) come as one event.
 */
export interface HeartbeatEvent {
  type: 'heartbeat';
  raw: unknown;
}

/**
 * The server reported a failure in the stream: `{"error":…}`, an ADK event with
 * `errorCode`/`errorMessage`, `{"code":≠0,"message"}` or `{"type":"error"}`.
 * It is always the last event: the iterator then throws a `StreamError` with
 * the same `message` and `code`.
 */
export interface ErrorEvent {
  type: 'error';
  message: string;
  code: string | number | undefined;
  raw: unknown;
}

/** A payload the SDK does not model (or could not parse): kept whole in `raw`. Never a crash. */
export interface UnknownEvent {
  type: 'unknown';
  /** The decoded JSON, or the payload text when it was not JSON. */
  raw: unknown;
}

/** One event of a chat turn: a discriminated union on `type`. */
export type ChatEvent =
  | TextEvent
  | MessageEvent
  | ThoughtEvent
  | ToolCallEvent
  | ToolResultEvent
  | HeartbeatEvent
  | ErrorEvent
  | UnknownEvent;

/** Every `type` a {@link ChatEvent} can have. */
export type ChatEventType = ChatEvent['type'];

// ─── event objects ──────────────────────────────────────────────────────────
//
// Events are built by constructors, not object literals. V8 tracks where
// literals are allocated and, once objects from a site tend to survive (as the
// events a turn keeps for `result()` do), allocates every later object of that
// site directly in the old generation ("pretenuring"): on a long stream every
// later event would then cost a full GC to free. Constructors carry no such
// feedback, and give each event kind one stable shape.

/** `text`, `message` and `thought` events. */
export class TextLikeEvent {
  type: 'text' | 'message' | 'thought';
  text: string;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
  constructor(
    type: 'text' | 'message' | 'thought',
    text: string,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ) {
    this.type = type;
    this.text = text;
    this.author = author;
    this.timestamp = timestamp;
    this.raw = raw;
  }
}

export class ToolCallObject implements ToolCallEvent {
  type = 'tool_call' as const;
  id: string | undefined;
  name: string;
  args: Record<string, unknown>;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
  constructor(
    id: string | undefined,
    name: string,
    args: Record<string, unknown>,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ) {
    this.id = id;
    this.name = name;
    this.args = args;
    this.author = author;
    this.timestamp = timestamp;
    this.raw = raw;
  }
}

export class ToolResultObject implements ToolResultEvent {
  type = 'tool_result' as const;
  id: string | undefined;
  name: string;
  result: unknown;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
  constructor(
    id: string | undefined,
    name: string,
    result: unknown,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ) {
    this.id = id;
    this.name = name;
    this.result = result;
    this.author = author;
    this.timestamp = timestamp;
    this.raw = raw;
  }
}

export class HeartbeatObject implements HeartbeatEvent {
  type = 'heartbeat' as const;
  raw: unknown;
  constructor(raw: unknown) {
    this.raw = raw;
  }
}

export class ErrorObject implements ErrorEvent {
  type = 'error' as const;
  message: string;
  code: string | number | undefined;
  raw: unknown;
  constructor(message: string, code: string | number | undefined, raw: unknown) {
    this.message = message;
    this.code = code;
    this.raw = raw;
  }
}

export class UnknownObject implements UnknownEvent {
  type = 'unknown' as const;
  raw: unknown;
  constructor(raw: unknown) {
    this.raw = raw;
  }
}

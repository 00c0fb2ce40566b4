/**
 * The chat event model and the decoder from `/run_sse` payloads to it.
 *
 * The wire shapes the decoder recognises are defined once, as zod schemas
 * ({@link adkEventSchema}, {@link adkPartSchema}, the type-tagged schemas);
 * the wire types are `z.infer` of them. Running zod on every event of a long
 * stream costs more than the JSON parse itself, so the hot path uses
 * hand-written guards that accept exactly what the schemas accept (a property
 * test holds them to it) and returns the input object itself, never a copy.
 */
import * as z from 'zod/mini';

// ─── wire shapes (protocol §2.3) ────────────────────────────────────────────

const optionalString = z.optional(z.nullable(z.string()));

/** `{"functionCall":{"id","name","args"}}` inside an ADK part. */
export const adkFunctionCallSchema = z.looseObject({
  id: optionalString,
  name: z.string(),
  args: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});

/** `{"functionResponse":{"id","name","response"}}` inside an ADK part. */
export const adkFunctionResponseSchema = z.looseObject({
  id: optionalString,
  name: z.string(),
  response: z.optional(z.unknown()),
});

/** One part of an ADK event's `content`. Unknown part kinds (inline data, code) pass. */
export const adkPartSchema = z.looseObject({
  text: optionalString,
  thought: z.optional(z.nullable(z.boolean())),
  functionCall: z.optional(z.nullable(adkFunctionCallSchema)),
  functionResponse: z.optional(z.nullable(adkFunctionResponseSchema)),
});

/**
 * An ADK event (camelCase, as Google's Agent Development Kit serialises it).
 * Metadata fields are `unknown` on purpose: a bad timestamp or author must not
 * cost the text, so they are normalised by hand ({@link normaliseTimestamp}).
 * Parts are checked one by one: a malformed part becomes an `unknown` event
 * and the other parts still decode.
 */
export const adkEventSchema = z.looseObject({
  id: z.optional(z.unknown()),
  invocationId: z.optional(z.unknown()),
  author: z.optional(z.unknown()),
  partial: z.optional(z.unknown()),
  timestamp: z.optional(z.unknown()),
  errorCode: z.optional(z.unknown()),
  errorMessage: z.optional(z.unknown()),
  content: z.optional(
    z.nullable(
      z.looseObject({
        role: z.optional(z.unknown()),
        parts: z.optional(z.nullable(z.array(z.unknown()))),
      }),
    ),
  ),
});

/** `{"type":"text","content":"…"}` (older servers; `text` accepted for `content`). */
export const typedTextSchema = z.looseObject({
  type: z.literal('text'),
  content: optionalString,
  text: optionalString,
  partial: z.optional(z.nullable(z.boolean())),
});

/** `{"type":"tool_call","name","args"}`. */
export const typedToolCallSchema = z.looseObject({
  type: z.literal('tool_call'),
  id: optionalString,
  name: z.string(),
  args: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});

/** `{"type":"tool_result","name","result"}`. */
export const typedToolResultSchema = z.looseObject({
  type: z.literal('tool_result'),
  id: optionalString,
  name: z.string(),
  result: z.optional(z.unknown()),
});

export type AdkEvent = z.infer<typeof adkEventSchema>;
export type AdkPart = z.infer<typeof adkPartSchema>;
export type AdkFunctionCall = z.infer<typeof adkFunctionCallSchema>;
export type AdkFunctionResponse = z.infer<typeof adkFunctionResponseSchema>;
export type TypedText = z.infer<typeof typedTextSchema>;
export type TypedToolCall = z.infer<typeof typedToolCallSchema>;
export type TypedToolResult = z.infer<typeof typedToolResultSchema>;

// ─── the public event model ─────────────────────────────────────────────────

/**
 * Reply text from the agent.
 *
 * With streaming, `partial: true` events carry deltas; the agent then repeats
 * the whole message in one `partial: false` event. Both are delivered; the
 * accumulated reply (`ChatStream.text()`) counts the text once.
 */
export interface TextEvent {
  type: 'text';
  /** The text of this event: a delta when `partial`, else a whole message (or a type-tagged chunk). */
  text: string;
  partial: boolean;
  /** The agent that wrote it (ADK `author`), when the server says. */
  author: string | undefined;
  /** When the server stamped the event, in ms since the epoch (seconds are converted). */
  timestamp: number | undefined;
  /** The decoded payload this event came from (shared by every event of one payload). */
  raw: unknown;
}

/**
 * Model reasoning (an ADK part with `thought: true`). Not reply text: it never
 * counts in `ChatStream.text()`; skip it unless you show the agent's thinking.
 */
export interface ThoughtEvent {
  type: 'thought';
  text: string;
  partial: boolean;
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
 * The server is still working: an SSE comment line (`raw` is the comment), an
 * empty `data:` payload (`raw` is `""`), or `{"type":"heartbeat"}`.
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
  | ThoughtEvent
  | ToolCallEvent
  | ToolResultEvent
  | HeartbeatEvent
  | ErrorEvent
  | UnknownEvent;

/** Every `type` a {@link ChatEvent} can have. */
export type ChatEventType = ChatEvent['type'];

/** Where {@link decodePayload} appends events (an array will do). */
export interface EventSink {
  push(event: ChatEvent): unknown;
}

// ─── hand-checked guards (equivalent to the schemas above) ──────────────────

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOptString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

function isOptRecord(v: unknown): boolean {
  return v === undefined || v === null || isObject(v);
}

/** Same acceptance as {@link adkFunctionCallSchema}. */
export function isAdkFunctionCall(v: unknown): v is AdkFunctionCall {
  return isObject(v) && typeof v.name === 'string' && isOptString(v.id) && isOptRecord(v.args);
}

/** Same acceptance as {@link adkFunctionResponseSchema}. */
export function isAdkFunctionResponse(v: unknown): v is AdkFunctionResponse {
  return isObject(v) && typeof v.name === 'string' && isOptString(v.id);
}

/** Same acceptance as {@link adkPartSchema}. */
export function isAdkPart(v: unknown): v is AdkPart {
  if (!isObject(v)) return false;
  const { text, thought, functionCall, functionResponse } = v;
  return (
    isOptString(text) &&
    (thought === undefined || thought === null || typeof thought === 'boolean') &&
    (functionCall === undefined || functionCall === null || isAdkFunctionCall(functionCall)) &&
    (functionResponse === undefined ||
      functionResponse === null ||
      isAdkFunctionResponse(functionResponse))
  );
}

/** Same acceptance as {@link adkEventSchema}. */
export function isAdkEvent(v: unknown): v is AdkEvent {
  if (!isObject(v)) return false;
  const content = v.content;
  if (content === undefined || content === null) return true;
  if (!isObject(content)) return false;
  const parts = content.parts;
  return parts === undefined || parts === null || Array.isArray(parts);
}

/** Same acceptance as {@link typedTextSchema}. */
export function isTypedText(v: unknown): v is TypedText {
  return (
    isObject(v) &&
    v.type === 'text' &&
    isOptString(v.content) &&
    isOptString(v.text) &&
    (v.partial === undefined || v.partial === null || typeof v.partial === 'boolean')
  );
}

/** Same acceptance as {@link typedToolCallSchema}. */
export function isTypedToolCall(v: unknown): v is TypedToolCall {
  return (
    isObject(v) &&
    v.type === 'tool_call' &&
    typeof v.name === 'string' &&
    isOptString(v.id) &&
    isOptRecord(v.args)
  );
}

/** Same acceptance as {@link typedToolResultSchema}. */
export function isTypedToolResult(v: unknown): v is TypedToolResult {
  return isObject(v) && v.type === 'tool_result' && typeof v.name === 'string' && isOptString(v.id);
}

// ─── normalisation ──────────────────────────────────────────────────────────

/**
 * A server timestamp in ms since the epoch. ADK's JS server sends integer ms,
 * the Python one float seconds: a value below 1e11 (which in ms would be 1973)
 * is taken as seconds. Numeric strings and ISO-8601 dates are accepted too.
 *
 * @example
 * ```ts
 * normaliseTimestamp(1712345678.5); // 1712345678500
 * normaliseTimestamp(1712345678500); // 1712345678500
 * ```
 */
export function normaliseTimestamp(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.trim() !== '') {
    n = Number(value);
    if (Number.isNaN(n)) {
      const parsed = Date.parse(value);
      return Number.isNaN(parsed) ? undefined : parsed;
    }
  } else return undefined;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return Math.round(n < 1e11 ? n * 1000 : n);
}

function errorMessageOf(value: unknown, fallback: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (isObject(value)) {
    const m = value.message ?? value.error ?? value.detail;
    if (typeof m === 'string' && m !== '') return m;
  }
  if (value === undefined || value === null || value === '') return fallback;
  try {
    return JSON.stringify(value);
  } catch {
    return fallback;
  }
}

function codeOf(value: unknown): string | number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

// ─── event objects ──────────────────────────────────────────────────────────
//
// Events are built by constructors, not object literals. V8 tracks where
// literals are allocated and, once objects from a site tend to survive (as the
// events a turn keeps for `result()` do), allocates every later object of that
// site directly in the old generation ("pretenuring"): on a long stream every
// later event would then cost a full GC to free. Constructors carry no such
// feedback, and give each event kind one stable shape.

class TextLikeEvent {
  type: 'text' | 'thought';
  text: string;
  partial: boolean;
  author: string | undefined;
  timestamp: number | undefined;
  raw: unknown;
  constructor(
    type: 'text' | 'thought',
    text: string,
    partial: boolean,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ) {
    this.type = type;
    this.text = text;
    this.partial = partial;
    this.author = author;
    this.timestamp = timestamp;
    this.raw = raw;
  }
}

class ToolCallObject {
  type: 'tool_call' = 'tool_call';
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

class ToolResultObject {
  type: 'tool_result' = 'tool_result';
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

class HeartbeatObject {
  type: 'heartbeat' = 'heartbeat';
  raw: unknown;
  constructor(raw: unknown) {
    this.raw = raw;
  }
}

class ErrorObject {
  type: 'error' = 'error';
  message: string;
  code: string | number | undefined;
  raw: unknown;
  constructor(message: string, code: string | number | undefined, raw: unknown) {
    this.message = message;
    this.code = code;
    this.raw = raw;
  }
}

class UnknownObject {
  type: 'unknown' = 'unknown';
  raw: unknown;
  constructor(raw: unknown) {
    this.raw = raw;
  }
}

function textEvent(
  type: 'text' | 'thought',
  text: string,
  partial: boolean,
  author: string | undefined,
  timestamp: number | undefined,
  raw: unknown,
): TextEvent | ThoughtEvent {
  return new TextLikeEvent(type, text, partial, author, timestamp, raw) as TextEvent | ThoughtEvent;
}

function errorEvent(message: string, code: string | number | undefined, raw: unknown): ErrorEvent {
  return new ErrorObject(message, code, raw);
}

function unknownEvent(raw: unknown): UnknownEvent {
  return new UnknownObject(raw);
}

// ─── the decoder ────────────────────────────────────────────────────────────

function heartbeat(raw: unknown): HeartbeatEvent {
  return new HeartbeatObject(raw);
}

function pushAdk(event: AdkEvent & Obj, out: EventSink): void {
  const author = typeof event.author === 'string' ? event.author : undefined;
  const rawTime = event.timestamp;
  const timestamp =
    typeof rawTime === 'number' && rawTime > 0 && rawTime < 1e11
      ? Math.round(rawTime * 1000)
      : rawTime === undefined
        ? undefined
        : normaliseTimestamp(rawTime);
  const partial = event.partial === true;
  let emitted = 0;
  const parts = event.content?.parts;
  if (parts) {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      emitted++;
      if (!isAdkPart(part)) {
        out.push(unknownEvent(event));
        continue;
      }
      const text = part.text;
      if (typeof text === 'string') {
        if (text !== '') {
          out.push(
            textEvent(
              part.thought === true ? 'thought' : 'text',
              text,
              partial,
              author,
              timestamp,
              event,
            ),
          );
        } else emitted--;
      } else if (part.functionCall) {
        const call = part.functionCall;
        out.push(
          new ToolCallObject(
            call.id ?? undefined,
            call.name,
            call.args ?? {},
            author,
            timestamp,
            event,
          ),
        );
      } else if (part.functionResponse) {
        const response = part.functionResponse;
        out.push(
          new ToolResultObject(
            response.id ?? undefined,
            response.name,
            response.response,
            author,
            timestamp,
            event,
          ),
        );
      } else if (part.thought !== true) {
        // inline data, code execution…: not modelled, kept in raw.
        out.push(unknownEvent(event));
      } else emitted--;
    }
  }
  const errorCode = event.errorCode;
  const errorMessage = event.errorMessage;
  if (
    (errorCode !== undefined && errorCode !== null) ||
    (errorMessage !== undefined && errorMessage !== null)
  ) {
    const code = codeOf(errorCode);
    out.push(
      errorEvent(
        errorMessageOf(errorMessage, `the agent reported error ${code ?? ''}`.trim()),
        code,
        event,
      ),
    );
  } else if (emitted === 0) {
    // An ADK event with nothing to show (state-only `actions`, empty text).
    out.push(unknownEvent(event));
  }
}

function pushTyped(value: Obj, type: string, out: EventSink): void {
  switch (type) {
    case 'text':
      if (isTypedText(value)) {
        const text = value.content ?? value.text ?? '';
        out.push(
          textEvent(
            'text',
            text,
            value.partial === true,
            typeof value.author === 'string' ? value.author : undefined,
            normaliseTimestamp(value.timestamp),
            value,
          ),
        );
        return;
      }
      break;
    case 'tool_call':
      if (isTypedToolCall(value)) {
        out.push(
          new ToolCallObject(
            value.id ?? undefined,
            value.name,
            value.args ?? {},
            typeof value.author === 'string' ? value.author : undefined,
            normaliseTimestamp(value.timestamp),
            value,
          ),
        );
        return;
      }
      break;
    case 'tool_result':
      if (isTypedToolResult(value)) {
        out.push(
          new ToolResultObject(
            value.id ?? undefined,
            value.name,
            value.result,
            typeof value.author === 'string' ? value.author : undefined,
            normaliseTimestamp(value.timestamp),
            value,
          ),
        );
        return;
      }
      break;
    case 'heartbeat':
    case 'ping':
    case 'keepalive':
      out.push(heartbeat(value));
      return;
    case 'error':
      out.push(
        errorEvent(
          errorMessageOf(value.message ?? value.error ?? value.content, 'the agent failed'),
          codeOf(value.code),
          value,
        ),
      );
      return;
  }
  out.push(unknownEvent(value));
}

/**
 * Decode one SSE payload (the `data` of one event) into chat events, appended
 * to `out` (one payload may hold several: an ADK event with text and a tool
 * call). `eventName` is the SSE `event:` field, if any. Never throws.
 *
 * @example
 * ```ts
 * const out: ChatEvent[] = [];
 * decodePayload('{"content":{"parts":[{"text":"Hi"}]},"author":"nemo_agent"}', undefined, out);
 * // out: [{ type: 'text', text: 'Hi', partial: false, author: 'nemo_agent', … }]
 * ```
 */
export function decodePayload(data: string, eventName: string | undefined, out: EventSink): void {
  // Empty payloads are heartbeats; the first char test skips the trim for JSON.
  const first = data.charCodeAt(0);
  if (data === '' || ((first <= 32 || Number.isNaN(first)) && data.trim() === '')) {
    out.push(heartbeat(data));
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    if (eventName === 'error') out.push(errorEvent(data, undefined, data));
    else out.push(unknownEvent(data));
    return;
  }
  if (!isObject(value)) {
    if (eventName === 'error') {
      out.push(errorEvent(errorMessageOf(value, 'the agent failed'), undefined, value));
    } else out.push(unknownEvent(value));
    return;
  }
  const type = value.type;
  if (typeof type === 'string' && !isObject(value.content)) {
    pushTyped(value, type, out);
    return;
  }
  if (
    isAdkEvent(value) &&
    (value.content != null || value.author !== undefined || value.invocationId !== undefined)
  ) {
    pushAdk(value, out);
    return;
  }
  if (value.error !== undefined && value.error !== null) {
    const error = value.error;
    out.push(
      errorEvent(
        errorMessageOf(error, 'the agent failed'),
        codeOf(isObject(error) ? error.code : value.code),
        value,
      ),
    );
    return;
  }
  const code = value.code;
  if ((typeof code === 'number' && code !== 0) || (typeof code === 'string' && code !== '0')) {
    out.push(
      errorEvent(
        errorMessageOf(value.message ?? value.msg, `the service returned code ${code}`),
        code,
        value,
      ),
    );
    return;
  }
  if ((value.errorCode !== undefined || value.errorMessage !== undefined) && isAdkEvent(value)) {
    pushAdk(value, out);
    return;
  }
  if (eventName === 'error') {
    out.push(errorEvent(errorMessageOf(value, 'the agent failed'), undefined, value));
    return;
  }
  if (eventName === 'heartbeat' || eventName === 'ping') {
    out.push(heartbeat(value));
    return;
  }
  out.push(unknownEvent(value));
}

const TYPED_HEARTBEAT = /^\s*\{\s*"type"\s*:\s*"(?:heartbeat|ping|keepalive)"\s*\}\s*$/;

/**
 * Whether a payload is a heartbeat, without decoding it (for the
 * heartbeat-only timer, which must judge bytes as they arrive). Agrees with
 * {@link decodePayload} on every heartbeat the contract lists.
 */
export function isHeartbeatPayload(data: string, eventName: string | undefined): boolean {
  if (data.length === 0) return true;
  if (eventName === 'heartbeat' || eventName === 'ping') return true;
  const first = data.charCodeAt(0);
  if (first !== 123 /* { */) return first <= 32 && data.trim() === '';
  return data.length < 64 && TYPED_HEARTBEAT.test(data);
}

/** The heartbeat for an SSE comment line (`: keep-alive`). */
export function commentHeartbeat(comment: string): HeartbeatEvent {
  return heartbeat(comment);
}

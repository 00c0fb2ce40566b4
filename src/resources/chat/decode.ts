/**
 * From one `/run_sse` payload (the `data` of one SSE event) to chat events.
 *
 * Every wire shape is a zod schema that runs on every payload, and the wire
 * types are `z.infer` of them. What keeps that cheap on a long stream (see
 * docs/performance.md, "SSE throughput"):
 * - objects are zod's compiled object parser ({@link object}), not zod/mini's
 *   interpreted one, which allocates several objects per field and per parse;
 * - small schemas, one per part kind, chosen by the key the part carries, so a
 *   valid part is parsed once and never fails a branch (a failed parse builds
 *   issue objects);
 * - only the fields the SDK uses are declared: the rest of a payload stays in
 *   `raw`, untouched.
 */
import * as z from 'zod/mini';
import { type $strip, type $ZodObject, $ZodObjectJIT, type $ZodShape } from 'zod/v4/core';
import {
  type ChatEvent,
  ErrorObject,
  HeartbeatObject,
  ToolCallObject,
  ToolResultObject,
  UnknownObject,
} from './events.js';

// ─── wire shapes (protocol §2.3) ────────────────────────────────────────────

/**
 * `object(shape)` with zod's compiled parser: the object class the full
 * `zod` package builds, which turns the shape into one specialised function on
 * first use. zod/mini builds the interpreted class (smaller to ship, about 4×
 * slower here and 10× the garbage); this one costs about 1 KB gzipped more.
 */
function object<const S extends $ZodShape>(shape: S): $ZodObject<S, $strip> {
  return new $ZodObjectJIT({ type: 'object', shape }) as unknown as $ZodObject<S, $strip>;
}

const optionalString = z.optional(z.nullable(z.string()));
const optionalFlag = z.optional(z.nullable(z.boolean()));
const toolArgs = z.optional(z.nullable(z.record(z.string(), z.unknown())));
/** Metadata a server may fill with anything: a bad value must not cost the event, so it becomes `undefined`. */
const lenientString = z.catch(z.optional(z.string()), undefined);
const lenientFlag = z.catch(z.optional(z.boolean()), undefined);
/** Integer ms (ADK's JS server), float seconds (the Python one), or a date string: see {@link normaliseTimestamp}. */
const lenientTimestamp = z.catch(z.optional(z.union([z.number(), z.string()])), undefined);

/** An ADK text part: reply text, or reasoning when `thought` is true. */
export const adkTextPartSchema = object({ text: z.string(), thought: optionalFlag });

/** An ADK `{"functionCall":{"id","name","args"}}` part. */
export const adkFunctionCallPartSchema = object({
  functionCall: object({ id: optionalString, name: z.string(), args: toolArgs }),
});

/** An ADK `{"functionResponse":{"id","name","response"}}` part. */
export const adkFunctionResponsePartSchema = object({
  functionResponse: object({
    id: optionalString,
    name: z.string(),
    response: z.optional(z.unknown()),
  }),
});

/**
 * An ADK event (camelCase, as Google's Agent Development Kit serialises it):
 * the fields the SDK reads. `parts` is only required to be an array here: each
 * part is decoded on its own, so a malformed part becomes an `unknown` event
 * and the other parts still decode.
 */
export const adkEventSchema = object({
  author: lenientString,
  partial: lenientFlag,
  timestamp: lenientTimestamp,
  invocationId: z.optional(z.unknown()),
  errorCode: z.optional(z.unknown()),
  errorMessage: z.optional(z.unknown()),
  content: z.optional(
    z.nullable(object({ parts: z.optional(z.nullable(z.instanceof(Array<unknown>))) })),
  ),
});

/** `{"type":"text","content":"…"}` (older servers; `text` accepted for `content`). */
export const typedTextSchema = object({
  content: optionalString,
  text: optionalString,
  /** Absent: a chunk of the reply. `true`: a streamed delta; `false`: a whole message (ADK-style). */
  partial: optionalFlag,
  author: lenientString,
  timestamp: lenientTimestamp,
});

/** `{"type":"tool_call","name","args"}`. */
export const typedToolCallSchema = object({
  id: optionalString,
  name: z.string(),
  args: toolArgs,
  author: lenientString,
  timestamp: lenientTimestamp,
});

/** `{"type":"tool_result","name","result"}`. */
export const typedToolResultSchema = object({
  id: optionalString,
  name: z.string(),
  result: z.optional(z.unknown()),
  author: lenientString,
  timestamp: lenientTimestamp,
});

/**
 * The failure shapes of protocol §2.3 item 4 (`{"error"}`, `{"type":"error"}`,
 * `{"code":≠0,"message"}`): where a message and a code may be. Which field
 * holds the message varies by server, hence all optional.
 */
export const errorPayloadSchema = object({
  error: z.optional(z.unknown()),
  message: z.optional(z.unknown()),
  msg: z.optional(z.unknown()),
  content: z.optional(z.unknown()),
  detail: z.optional(z.unknown()),
  code: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
});

export type AdkEvent = z.infer<typeof adkEventSchema>;
export type AdkTextPart = z.infer<typeof adkTextPartSchema>;
export type AdkFunctionCallPart = z.infer<typeof adkFunctionCallPartSchema>;
export type AdkFunctionResponsePart = z.infer<typeof adkFunctionResponsePartSchema>;
export type TypedText = z.infer<typeof typedTextSchema>;
export type TypedToolCall = z.infer<typeof typedToolCallSchema>;
export type TypedToolResult = z.infer<typeof typedToolResultSchema>;
export type ErrorPayload = z.infer<typeof errorPayloadSchema>;

// ─── where decoded pieces go ────────────────────────────────────────────────

/**
 * How a piece of text relates to its message (assemble.ts turns pieces into
 * `text`, `thought` and `message` events):
 * - `partial`: a streamed delta (ADK `partial: true`); a final copy follows;
 * - `final`: a whole message: the final copy of streamed deltas, or a message
 *   that was not streamed (ADK events without `partial: true`);
 * - `chunk`: a type-tagged `{"type":"text"}` piece without `partial`: joined
 *   as sent, the message ends at the next event that is not text.
 */
export type PieceMode = 'partial' | 'final' | 'chunk';

/** Receives what one payload holds, in order. */
export interface PayloadSink {
  /** A piece of reply text (`thought` false) or of reasoning (`thought` true). */
  piece(
    thought: boolean,
    text: string,
    mode: PieceMode,
    author: string | undefined,
    timestamp: number | undefined,
    raw: unknown,
  ): void;
  /** The payload that sent pieces has no more of them. */
  piecesEnd(raw: unknown): void;
  /** Any other event (tool call or result, heartbeat, error, unknown). */
  event(event: ChatEvent): void;
}

// ─── normalisation ──────────────────────────────────────────────────────────

/**
 * A server timestamp in ms since the epoch. ADK's JS server sends integer ms,
 * the Python one float seconds: a value below 1e11 (which in ms would be 1973)
 * is taken as seconds. Numeric strings and ISO-8601 dates are accepted too.
 * (By hand: which unit a number is in is a judgement no schema states.)
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

/** The message of a failure payload: the first non-empty text among its usual fields. */
function errorMessageOf(value: unknown, fallback: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (isRecord(value)) {
    const { message, error, detail } = errorFields(value);
    const m = message ?? error ?? detail;
    if (typeof m === 'string' && m !== '') return m;
  }
  if (value === undefined || value === null || value === '') return fallback;
  try {
    return JSON.stringify(value);
  } catch {
    return fallback;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ─── the decoder ────────────────────────────────────────────────────────────

/** A decoded ADK part: what the part schemas return (or, on the fast path, the part itself; see {@link decodeAdkFast}). */
type DecodedPart = AdkTextPart | AdkFunctionCallPart | AdkFunctionResponsePart;

/** Decoded parts of one ADK event, reused from payload to payload (decoding is never re-entered). */
const scratch: (DecodedPart | undefined)[] = [];

/** A thought part without text (a signature only): nothing to show, nothing to end. */
const EMPTY_THOUGHT: AdkTextPart = { text: '', thought: true };

function decodeAdk(event: AdkEvent, raw: Record<string, unknown>, out: PayloadSink): void {
  const parts = event.content?.parts;
  let lastText = -1;
  if (parts) {
    // Decode every part first: the pieces end after the last text part.
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      let decoded: DecodedPart | undefined;
      if (isRecord(part)) {
        if ('text' in part && part.text != null) {
          const r = z.safeParse(adkTextPartSchema, part);
          if (r.success) {
            decoded = r.data;
            lastText = i;
          }
        } else if ('functionCall' in part && part.functionCall != null) {
          const r = z.safeParse(adkFunctionCallPartSchema, part);
          if (r.success) decoded = r.data;
        } else if ('functionResponse' in part && part.functionResponse != null) {
          const r = z.safeParse(adkFunctionResponsePartSchema, part);
          if (r.success) decoded = r.data;
        } else if (part.thought === true) {
          decoded = EMPTY_THOUGHT;
        }
      }
      scratch[i] = decoded;
    }
  }
  emitAdk(
    parts?.length ?? 0,
    lastText,
    event.author,
    event.timestamp === undefined ? undefined : normaliseTimestamp(event.timestamp),
    event.partial === true ? 'partial' : 'final',
    event.errorCode,
    event.errorMessage,
    raw,
    out,
  );
}

/** Tell `out` what the `count` decoded parts in {@link scratch} hold (and clear them), then the event's error. */
function emitAdk(
  count: number,
  lastText: number,
  author: string | undefined,
  timestamp: number | undefined,
  mode: PieceMode,
  errorCode: unknown,
  errorMessage: unknown,
  raw: Record<string, unknown>,
  out: PayloadSink,
): void {
  let shown = 0;
  for (let i = 0; i < count; i++) {
    const part = scratch[i];
    scratch[i] = undefined;
    if (part === undefined) {
      // Malformed, or a kind the SDK does not model (inline data, code): kept in raw.
      out.event(new UnknownObject(raw));
      shown++;
    } else if ('text' in part) {
      if (part.text !== '') {
        out.piece(part.thought === true, part.text, mode, author, timestamp, raw);
        shown++;
      }
      if (i === lastText) out.piecesEnd(raw);
    } else if ('functionCall' in part) {
      const call = part.functionCall;
      out.event(
        new ToolCallObject(
          call.id ?? undefined,
          call.name,
          call.args ?? {},
          author,
          timestamp,
          raw,
        ),
      );
      shown++;
    } else {
      const response = part.functionResponse;
      out.event(
        new ToolResultObject(
          response.id ?? undefined,
          response.name,
          response.response,
          author,
          timestamp,
          raw,
        ),
      );
      shown++;
    }
  }
  if (errorCode != null || errorMessage != null) {
    const code =
      typeof errorCode === 'string' || typeof errorCode === 'number' ? errorCode : undefined;
    out.event(
      new ErrorObject(
        errorMessageOf(errorMessage, `the agent reported error ${code ?? ''}`.trim()),
        code,
        raw,
      ),
    );
  } else if (shown === 0) {
    // An ADK event with nothing to show (state-only `actions`, empty text).
    out.event(new UnknownObject(raw));
  }
}

function decodeTyped(value: Record<string, unknown>, type: string, out: PayloadSink): void {
  switch (type) {
    case 'text': {
      const r = z.safeParse(typedTextSchema, value);
      if (!r.success) break;
      const { content, text, partial, author, timestamp } = r.data;
      const piece = content ?? text ?? '';
      const mode: PieceMode = partial === true ? 'partial' : partial === false ? 'final' : 'chunk';
      if (piece !== '') {
        out.piece(false, piece, mode, author, normaliseTimestamp(timestamp), value);
      }
      out.piecesEnd(value);
      return;
    }
    case 'tool_call': {
      const r = z.safeParse(typedToolCallSchema, value);
      if (!r.success) break;
      const { id, name, args, author, timestamp } = r.data;
      out.event(
        new ToolCallObject(
          id ?? undefined,
          name,
          args ?? {},
          author,
          normaliseTimestamp(timestamp),
          value,
        ),
      );
      return;
    }
    case 'tool_result': {
      const r = z.safeParse(typedToolResultSchema, value);
      if (!r.success) break;
      const { id, name, result, author, timestamp } = r.data;
      out.event(
        new ToolResultObject(
          id ?? undefined,
          name,
          result,
          author,
          normaliseTimestamp(timestamp),
          value,
        ),
      );
      return;
    }
    case 'heartbeat':
    case 'ping':
    case 'keepalive':
      out.event(new HeartbeatObject(value));
      return;
    case 'error': {
      const f = errorFields(value);
      out.event(
        new ErrorObject(
          errorMessageOf(f.message ?? f.error ?? f.content, 'the agent failed'),
          f.code,
          value,
        ),
      );
      return;
    }
  }
  out.event(new UnknownObject(value));
}

function codeOf(value: unknown): string | number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** The fields of a failure payload (all optional: see {@link errorPayloadSchema}). */
function errorFields(value: Record<string, unknown>): ErrorPayload {
  const parsed = z.safeParse(errorPayloadSchema, value);
  return parsed.success ? parsed.data : {};
}

/** `undefined`, `null` or a string: `optionalString`. */
function isOptionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

/** A JSON object (not an array): what a zod object schema takes as input. */
function isObjectValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The common ADK events decoded without running their schemas: every part a
 * plain text, `functionCall` or `functionResponse` part (the streamed deltas,
 * the final copies, tool calls and results: nearly every payload of a turn).
 * The SSE figure demands it (docs/performance.md, "SSE throughput"):
 * {@link adkEventSchema} and the part schemas cost about 1 µs and 1–3 KB of
 * garbage per payload (zod builds a result object per field), as much as
 * `JSON.parse` itself.
 *
 * The shortcut is exact: it takes a payload only when each field already is
 * what the schema would return for it (so a part stands for its own decoded
 * value), and decodes it with the same code ({@link emitAdk}); anything else,
 * even one odd field, goes to the schemas. One difference, by design: a tool
 * call's `args` is the payload's own object, where `z.record` returns a
 * shallow copy with the same entries (an own `__proto__` key, which the copy
 * would drop, sends the payload to the schemas). A property test holds the
 * two paths to the same output. Returns false when it did not decode.
 */
export function decodeAdkFast(value: Record<string, unknown>, out: PayloadSink): boolean {
  if (typeof value.type === 'string') return false;
  const content = value.content;
  if (!isObjectValue(content)) return false;
  const parts = content.parts;
  if (!Array.isArray(parts)) return false;
  const { author, partial } = value;
  if (author !== undefined && typeof author !== 'string') return false;
  if (partial !== undefined && typeof partial !== 'boolean') return false;
  if (value.errorCode != null || value.errorMessage != null) return false;
  let lastText = -1;
  for (let i = 0; i < parts.length; i++) {
    const part: unknown = parts[i];
    if (!isObjectValue(part) || !plainPart(part)) {
      for (let j = 0; j < i; j++) scratch[j] = undefined;
      return false;
    }
    if (part.text != null) lastText = i;
    scratch[i] = part as unknown as DecodedPart;
  }
  emitAdk(
    parts.length,
    lastText,
    author as string | undefined,
    value.timestamp === undefined ? undefined : normaliseTimestamp(value.timestamp),
    partial === true ? 'partial' : 'final',
    undefined,
    undefined,
    value,
    out,
  );
  return true;
}

/**
 * A part that is exactly what its schema returns: the same precedence as
 * {@link decodeAdk} (text, then `functionCall`, then `functionResponse`), and
 * no field the schema would change or reject.
 */
function plainPart(part: Record<string, unknown>): boolean {
  const text = part.text;
  if (text != null) {
    const thought = part.thought;
    return (
      typeof text === 'string' &&
      (thought === undefined || thought === null || typeof thought === 'boolean')
    );
  }
  // {@link emitAdk} tells the kinds apart by key: a `text: null` beside a call would read as text.
  if ('text' in part) return false;
  const call = part.functionCall;
  if (call != null) {
    if (!isObjectValue(call) || typeof call.name !== 'string' || !isOptionalString(call.id)) {
      return false;
    }
    const args = call.args;
    return (
      args === undefined ||
      args === null ||
      (isObjectValue(args) && !hasOwn.call(args, '__proto__'))
    );
  }
  if ('functionCall' in part) return false;
  const response = part.functionResponse;
  return (
    response != null &&
    isObjectValue(response) &&
    typeof response.name === 'string' &&
    isOptionalString(response.id)
  );
}

/**
 * Decode one SSE payload into `out`. `eventName` is the SSE `event:` field, if
 * any. Never throws: what the SDK does not model becomes an `unknown` event.
 *
 * @example
 * ```ts
 * decodePayload('{"content":{"parts":[{"text":"Hi"}]},"author":"nemo_agent"}', undefined, sink);
 * // sink.piece(false, 'Hi', 'final', 'nemo_agent', undefined, {…}); sink.piecesEnd({…})
 * ```
 */
export function decodePayload(data: string, eventName: string | undefined, out: PayloadSink): void {
  // Empty payloads are heartbeats; the first char test skips the trim for JSON.
  const first = data.charCodeAt(0);
  if (data === '' || ((first <= 32 || Number.isNaN(first)) && data.trim() === '')) {
    out.event(new HeartbeatObject(data));
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    out.event(
      eventName === 'error' ? new ErrorObject(data, undefined, data) : new UnknownObject(data),
    );
    return;
  }
  if (!isRecord(value)) {
    out.event(
      eventName === 'error'
        ? new ErrorObject(errorMessageOf(value, 'the agent failed'), undefined, value)
        : new UnknownObject(value),
    );
    return;
  }
  if (!decodeAdkFast(value, out)) decodeWithSchemas(value, eventName, out);
}

/**
 * Decode a parsed payload (a JSON object) with the schemas alone: what every
 * payload the ADK shortcut does not take goes through (exported for the test that
 * holds {@link decodeAdkFast} to it).
 */
export function decodeWithSchemas(
  value: Record<string, unknown>,
  eventName: string | undefined,
  out: PayloadSink,
): void {
  const type = value.type;
  if (typeof type === 'string' && !isRecord(value.content)) {
    decodeTyped(value, type, out);
    return;
  }
  const adk = z.safeParse(adkEventSchema, value);
  if (
    adk.success &&
    (value.content != null || value.author !== undefined || value.invocationId !== undefined)
  ) {
    decodeAdk(adk.data, value, out);
    return;
  }
  const error = value.error;
  if (error !== undefined && error !== null) {
    const code = isRecord(error) ? codeOf(error.code) : errorFields(value).code;
    out.event(new ErrorObject(errorMessageOf(error, 'the agent failed'), code, value));
    return;
  }
  const code = value.code;
  if ((typeof code === 'number' && code !== 0) || (typeof code === 'string' && code !== '0')) {
    const f = errorFields(value);
    out.event(
      new ErrorObject(
        errorMessageOf(f.message ?? f.msg, `the service returned code ${code}`),
        code,
        value,
      ),
    );
    return;
  }
  if (adk.success && (value.errorCode !== undefined || value.errorMessage !== undefined)) {
    decodeAdk(adk.data, value, out);
    return;
  }
  if (eventName === 'error') {
    out.event(new ErrorObject(errorMessageOf(value, 'the agent failed'), undefined, value));
    return;
  }
  if (eventName === 'heartbeat' || eventName === 'ping') {
    out.event(new HeartbeatObject(value));
    return;
  }
  out.event(new UnknownObject(value));
}

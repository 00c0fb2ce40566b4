/**
 * A chat turn as a web `ReadableStream`: of `ChatEvent` objects, or of UTF-8
 * bytes in NDJSON or SSE framing (ready for `new Response(body)`).
 */
import { ConfigError } from '../../errors/errors.js';
import type { ChatEvent } from './events.js';

/** Options of `ChatStream.toReadableStream()`. */
export interface ChatReadableOptions {
  /**
   * `events` (default): a `ReadableStream<ChatEvent>`. `ndjson`: UTF-8 bytes,
   * one JSON event per line. `sse`: UTF-8 bytes, one `data: <json>` event each.
   */
  format?: 'events' | 'ndjson' | 'sse';
  /** Byte formats only: keep each event's `raw` payload. Default false (smaller). */
  raw?: boolean;
}

/** Where a readable stream takes its events from. */
export interface EventSource {
  next(): Promise<IteratorResult<ChatEvent, undefined>>;
  /** The consumer cancelled: close the connection. */
  cancel(): void;
}

/** Check `format` before the stream is claimed (a bad option must not consume it). */
export function readableFormat(options: ChatReadableOptions): 'events' | 'ndjson' | 'sse' {
  const format = options.format ?? 'events';
  if (format !== 'events' && format !== 'ndjson' && format !== 'sse') {
    throw new ConfigError(
      `toReadableStream() format must be 'events', 'ndjson' or 'sse' (got ${JSON.stringify(format)}).`,
    );
  }
  return format;
}

/** `ChatEvent` objects; a failed turn errors the stream with its typed error. */
export function eventStream(source: EventSource): ReadableStream<ChatEvent> {
  return new ReadableStream<ChatEvent>(
    {
      pull: async (controller) => {
        try {
          const step = await source.next();
          if (step.done) controller.close();
          else controller.enqueue(step.value);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: () => source.cancel(),
    },
    { highWaterMark: 0 },
  );
}

/**
 * NDJSON or SSE bytes. Each event without `raw` unless `keepRaw`. A failed
 * turn ends with an `error` record (`{"type":"error","message","code","name"}`)
 * unless the server's own `error` event was already the last record, then the
 * stream closes.
 */
export function byteStream(
  source: EventSource,
  format: 'ndjson' | 'sse',
  keepRaw: boolean,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const frame = (json: string) =>
    encoder.encode(format === 'sse' ? `data: ${json}\n\n` : `${json}\n`);
  let lastType: ChatEvent['type'] | undefined;
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        try {
          const step = await source.next();
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
      cancel: () => source.cancel(),
    },
    { highWaterMark: 0 },
  );
}

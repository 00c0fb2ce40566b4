import { type ChatEvent, NemoClient, type NemoClientOptions } from '../../src/index.js';

export const TOKEN = 'nmv_usr_chat_test_token_0123456789';
export const SID = '5529798706024415232';

const encoder = new TextEncoder();

/** One `data:` event (JSON-encoded unless a string). */
export function data(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

/** An ADK model event with the given parts. */
export function adk(
  parts: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: `evt-${Math.random().toString(36).slice(2, 8)}`,
    invocationId: 'e-1',
    author: 'nemo_agent',
    content: { role: 'model', parts },
    ...extra,
  };
}

/** A streamed SSE `Response` whose body yields `chunks` in order. */
export function sseResponse(
  chunks: readonly (string | Uint8Array)[],
  init: ResponseInit = {},
): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
  });
  return new Response(body, {
    status: 200,
    ...init,
    headers: { 'content-type': 'text/event-stream', ...(init.headers as Record<string, string>) },
  });
}

/** A stream the test writes to, chunk by chunk, and can end or break. */
export function controlledSse() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled: unknown = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      cancelled = reason ?? true;
    },
  });
  return {
    response: () =>
      new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    /** Write bytes; ignored once the SDK cancelled the body (a server whose client left). */
    write(text: string) {
      if (cancelled === false) controller.enqueue(encoder.encode(text));
    },
    close() {
      controller.close();
    },
    error(error: unknown) {
      controller.error(error);
    },
    /** The reason the SDK cancelled the body with, or `false`. */
    get cancelled() {
      return cancelled;
    },
  };
}

export interface RecordedCall {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

/**
 * A client whose `fetch` is `handler` (no network at all), recording every
 * request. `handler` may return a Response or throw (a network failure).
 */
export function fakeClient(
  handler: (request: Request, n: number) => Response | Promise<Response>,
  options: NemoClientOptions = {},
) {
  const calls: RecordedCall[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const text = request.method === 'GET' ? '' : await request.clone().text();
    calls.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    return handler(request, calls.length);
  };
  const client = new NemoClient({
    token: TOKEN,
    clientIdFile: false,
    logLevel: 'off',
    fetch: fetchImpl as typeof fetch,
    ...options,
  });
  return { client, session: client.sessions.open(SID), calls };
}

/** Read a whole stream of events, returning the events and the error that ended it, if any. */
export async function collect(
  iterable: AsyncIterable<ChatEvent>,
): Promise<{ events: ChatEvent[]; error: unknown }> {
  const events: ChatEvent[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

/** The events without `raw` (for comparisons). */
export function strip(events: readonly ChatEvent[]): unknown[] {
  return events.map(({ raw: _raw, ...rest }) => rest);
}

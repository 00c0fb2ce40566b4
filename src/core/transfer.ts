/**
 * Body transfer: the one small interface every bulk request goes through.
 * `fetchTransfer` works everywhere; on Node, CDN downloads use the `node:http`
 * implementation in `node-http.ts` when nothing configured for `fetch` would
 * be bypassed (see `canUseNodeHttp`).
 */
import { type ChunkSource, ERROR_BODY_BYTES, readBounded, webBody } from './body.js';

/** One read from a body: the web `ReadableStreamDefaultReader` shape. */
export type BodyRead = { done: true; value?: undefined } | { done: false; value: Uint8Array };

/** Reads a body chunk by chunk, whichever client fetched it. */
export interface BodyReader extends ChunkSource {
  read(): Promise<BodyRead>;
  /** Stop reading and release the connection. */
  cancel(reason?: unknown): Promise<void>;
}

/** A response with its body unread, whichever client fetched it. */
export interface FetchedResponse {
  readonly status: number;
  /** A browser's `redirect: 'manual'` answer, whose target is hidden. */
  readonly opaqueRedirect: boolean;
  header(name: string): string | null;
  /** Every header, as web `Headers`. */
  headers(): Headers;
  /** The body, or `undefined` when there is none. Call once. */
  body(): BodyReader | undefined;
  /** At most the first 64 KiB of the body as text (for error messages and small JSON); the rest is dropped. */
  text(): Promise<string>;
  /** Drop the body unread. */
  discard(): Promise<void>;
}

/**
 * A request body read chunk by chunk into buffers the source reuses (an upload
 * from a file). A chunk stays valid only until the next `next()` call: the
 * transfer writes each one and waits until the runtime is done with it before
 * asking for the next. Sending a 500 MB file then allocates nothing per chunk
 * (fresh 1 MiB buffers per chunk cost the kernel a page fault per page).
 */
export interface ReusedChunks {
  /** The next chunk, or `undefined` at the end. */
  next(): Promise<Uint8Array | undefined>;
  /** Release the source (idempotent). */
  close(): Promise<void>;
}

/** One request on the wire. */
export interface WireRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A web body (`fetch`), or chunks from reused buffers (`node:http` only). */
  body?: BodyInit | ReusedChunks | undefined;
  signal: AbortSignal | undefined;
  redirect: 'follow' | 'manual' | 'error';
}

/** Sends a request and hands back the response with its body unread. */
export interface BodyTransfer {
  send(request: WireRequest): Promise<FetchedResponse>;
}

/** Wrap a web `Response`. */
export function fromWebResponse(response: Response): FetchedResponse {
  let reader: BodyReader | undefined;
  const body = (): BodyReader | undefined => {
    reader ??= webBody(response) as BodyReader | undefined;
    return reader;
  };
  return {
    status: response.status,
    opaqueRedirect: response.type === 'opaqueredirect',
    header: (name) => response.headers.get(name),
    headers: () => response.headers,
    body,
    text: async () => (await readBounded(body(), ERROR_BODY_BYTES)).text,
    discard: async () => {
      await (reader ? reader.cancel() : response.body?.cancel())?.catch(() => {});
    },
  };
}

/**
 * `fetch` as a {@link BodyTransfer}. A streamed request body goes unbuffered:
 * ky clones every request to prepare retries and undici clones it to follow
 * redirects, and a clone tees the body stream so the unread branch keeps every
 * chunk (a 500 MB upload would end up in memory). `window: null` with
 * `redirect: 'error'` lets undici send the body without a clone.
 */
export function fetchTransfer(fetchImpl: typeof fetch): BodyTransfer {
  return {
    async send(request) {
      if (isReusedChunks(request.body)) {
        throw new Error('nemovideo internal error: reused chunks go through node:http only');
      }
      const isStream =
        typeof ReadableStream !== 'undefined' && request.body instanceof ReadableStream;
      const response = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        redirect: request.redirect,
        ...(request.body !== undefined ? { body: request.body, window: null } : {}),
        ...(isStream ? { duplex: 'half' } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      } as RequestInit);
      return fromWebResponse(response);
    },
  };
}

/** True for a {@link ReusedChunks} body. */
export function isReusedChunks(body: unknown): body is ReusedChunks {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ReusedChunks).next === 'function' &&
    typeof (body as ReusedChunks).close === 'function' &&
    !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
  );
}

/**
 * A {@link FetchedResponse} as a web `Response` (its body streamed, not read
 * here), for the code that reads responses of the API: the `node:http` upload
 * path hands its answer back through this.
 */
export function toWebResponse(fetched: FetchedResponse): Response {
  const bodiless = fetched.status === 204 || fetched.status === 304;
  const reader = bodiless ? undefined : fetched.body();
  const body = reader
    ? new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      })
    : null;
  return new Response(body, { status: fetched.status, headers: fetched.headers() });
}

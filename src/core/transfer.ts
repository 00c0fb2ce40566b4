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
  /** The body, or `undefined` when there is none. Call once. */
  body(): BodyReader | undefined;
  /** At most the first 64 KiB of the body as text (for error messages and small JSON); the rest is dropped. */
  text(): Promise<string>;
  /** Drop the body unread. */
  discard(): Promise<void>;
}

/** One request on the wire. */
export interface WireRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: BodyInit | undefined;
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

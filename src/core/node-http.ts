/**
 * Bulk GETs through `node:http`/`node:https`, for large downloads on Node.
 *
 * Why not `fetch`: Node's `fetch` (undici) moves every 64 KB chunk through a
 * WHATWG stream, copying it once more and keeping V8's incremental marking busy
 * on small heaps; downloading 500 MB on loopback it costs about twice the CPU
 * of `node:http` and ran at 0.4–0.7× the speed of `curl -o` where `node:http`
 * ran at 0.9–1.0× (docs/performance.md). This path is used only when nothing
 * would be bypassed by it: no user `fetch`, no undici global dispatcher, no
 * environment proxy (see {@link canUseNodeHttp}).
 */
import type { ClientContext } from './context.js';
import { nodeHttp, nodeHttps, nodeZlib } from './node.js';

/** One read from a body: the web `ReadableStreamDefaultReader` shape. */
export type BodyRead = { done: true; value?: undefined } | { done: false; value: Uint8Array };

/** Reads a body chunk by chunk, whichever client fetched it. */
export interface BodyReader {
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
  text(): Promise<string>;
  /** Drop the body unread. */
  discard(): Promise<void>;
}

/** Wrap a web `Response`. */
export function fromWebResponse(response: Response): FetchedResponse {
  return {
    status: response.status,
    opaqueRedirect: response.type === 'opaqueredirect',
    header: (name) => response.headers.get(name),
    body: () => {
      const reader = response.body?.getReader();
      if (!reader) return undefined;
      return {
        read: () => reader.read() as Promise<BodyRead>,
        cancel: (reason) => reader.cancel(reason).catch(() => {}),
      };
    },
    text: () => response.text(),
    discard: async () => {
      await response.body?.cancel().catch(() => {});
    },
  };
}

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface NodeProcessLike {
  versions?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  execArgv?: string[];
}

/**
 * Whether a GET to a host other than the API may go through `node:http`:
 * only on Node itself (not Bun or Deno), when the user gave no `fetch`, set no
 * undici global dispatcher other than a plain `Agent` (a proxy or mock agent,
 * say) and asked for no environment proxy, so that nothing they configured for
 * `fetch` is bypassed. A user whose plain `Agent` carries settings that matter
 * (a private CA) passes `fetch` to keep downloads on it.
 */
export function canUseNodeHttp(ctx: ClientContext): boolean {
  if (ctx.customFetch) return false;
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  const versions = proc?.versions;
  if (!versions?.node || versions.bun || 'Deno' in globalThis) return false;
  // undici installs a plain `Agent` there on the first fetch; anything else (a
  // ProxyAgent, EnvHttpProxyAgent, MockAgent…) was set by the user for fetch.
  const dispatcher = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  if (dispatcher !== undefined && dispatcher?.constructor?.name !== 'Agent') return false;
  const env = proc?.env ?? {};
  if (env.NODE_USE_ENV_PROXY || /--use-env-proxy\b/.test(env.NODE_OPTIONS ?? '')) return false;
  if (proc?.execArgv?.some((arg) => arg.startsWith('--use-env-proxy'))) return false;
  return true;
}

type IncomingMessage = import('node:http').IncomingMessage;

function readerOf(stream: AsyncIterable<Uint8Array> & { destroy(error?: Error): void }) {
  const iterator = stream[Symbol.asyncIterator]();
  let cancelled = false;
  return {
    read: async (): Promise<BodyRead> => {
      if (cancelled) return { done: true };
      const next = await iterator.next();
      return next.done ? { done: true } : { done: false, value: next.value };
    },
    cancel: async (reason?: unknown) => {
      if (cancelled) return;
      cancelled = true;
      stream.destroy(reason instanceof Error ? reason : undefined);
      await iterator.return?.().catch(() => {});
    },
  } satisfies BodyReader;
}

/** The body of `res`, decoded the way `fetch` decodes it when the server compressed it anyway. */
async function decodedBody(res: IncomingMessage): Promise<BodyReader> {
  const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return readerOf(res);
  const zlib = await nodeZlib();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  if (!decoder) return readerOf(res);
  res.once('error', (error) => decoder.destroy(error));
  res.pipe(decoder);
  return readerOf(decoder);
}

/**
 * GET `url` with `node:http(s)`: no credentials, no redirects followed (the
 * caller follows them by hand), `signal` aborts the request and its body.
 * Rejects like `fetch` does: with the abort reason's error, or the socket error.
 */
export async function nodeGet(url: URL, signal: AbortSignal): Promise<FetchedResponse> {
  const loaded = url.protocol === 'https:' ? await nodeHttps() : await nodeHttp();
  // The module object, not the ESM namespace: tools that patch `http.get` (msw, nock,
  // OpenTelemetry) patch the object, and a namespace's named exports keep the original.
  const client = (loaded as typeof loaded & { default?: typeof loaded }).default ?? loaded;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.get(
      url,
      { headers: { accept: '*/*', 'accept-encoding': 'identity' }, signal },
      resolve,
    );
    request.once('error', reject);
  });
  let reader: BodyReader | undefined;
  const header = (name: string): string | null => {
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  };
  return {
    status: res.statusCode ?? 0,
    opaqueRedirect: false,
    header,
    body: () => {
      if (reader) return reader;
      // The decoder is created synchronously for identity bodies, the common case.
      const encoding = header('content-encoding');
      if (encoding === null || /^\s*identity\s*$/i.test(encoding)) {
        reader = readerOf(res);
        return reader;
      }
      const pending = decodedBody(res);
      let inner: BodyReader | undefined;
      reader = {
        read: async () => {
          inner ??= await pending;
          return inner.read();
        },
        cancel: async (reason) => {
          inner ??= await pending;
          await inner.cancel(reason);
        },
      };
      return reader;
    },
    text: async () => {
      const body = await decodedBody(res);
      const parts: Uint8Array[] = [];
      for (;;) {
        const next = await body.read();
        if (next.done) break;
        parts.push(next.value);
      }
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.byteLength;
      }
      return new TextDecoder().decode(bytes);
    },
    discard: async () => {
      res.destroy();
    },
  };
}

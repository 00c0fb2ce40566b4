/**
 * Bulk GETs through `node:http`/`node:https`, for large downloads on Node.
 *
 * Why not `fetch`: Node's `fetch` (undici) moves every 64 KB chunk through a
 * WHATWG stream (one more copy, promises per chunk). Side by side on 500 MB
 * over loopback, `node:http` used about 20 % less CPU and ran 1.1–1.4× faster
 * (docs/performance.md). This path is used only when nothing set up for
 * `fetch` would be bypassed (see {@link canUseNodeHttp}).
 */

import { DownloadError } from '../errors/errors.js';
import { ERROR_BODY_BYTES, readBounded } from './body.js';
import { nodeHttp, nodeHttps, nodeStream, nodeZlib } from './node.js';
import {
  type BodyRead,
  type BodyReader,
  type BodyTransfer,
  type FetchedResponse,
  isReusedChunks,
  type ReusedChunks,
} from './transfer.js';

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
export function canUseNodeHttp(customFetch: boolean): boolean {
  if (customFetch) return false;
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  const versions = proc?.versions;
  if (!versions?.node || versions.bun || 'Deno' in globalThis) return false;
  // undici installs a plain `Agent` there on the first fetch; anything else (a
  // ProxyAgent, EnvHttpProxyAgent, MockAgent…) was set by the user for fetch.
  const dispatcher = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  if (dispatcher !== undefined && dispatcher?.constructor?.name !== 'Agent') return false;
  const env = proc?.env ?? {};
  const envProxy = (env.NODE_USE_ENV_PROXY ?? '').trim();
  if ((envProxy !== '' && envProxy !== '0') || /--use-env-proxy\b/.test(env.NODE_OPTIONS ?? '')) {
    return false;
  }
  if (proc?.execArgv?.some((arg) => arg.startsWith('--use-env-proxy'))) return false;
  return true;
}

type IncomingMessage = import('node:http').IncomingMessage;
type Zlib = typeof import('node:zlib');

function readerOf(stream: AsyncIterable<Uint8Array> & { destroy(error?: Error): void }) {
  const iterator = stream[Symbol.asyncIterator]();
  let cancelled = false;
  return {
    // The iterator's results already have the reader's shape: hand them on as they are
    // (this runs once per network chunk).
    read: (): Promise<BodyRead> =>
      cancelled ? Promise.resolve({ done: true }) : (iterator.next() as Promise<BodyRead>),
    cancel: async (reason?: unknown) => {
      if (cancelled) return;
      cancelled = true;
      stream.destroy(reason instanceof Error ? reason : undefined);
      await iterator.return?.().catch(() => {});
    },
  } satisfies BodyReader;
}

/**
 * The decoders for a `Content-Encoding` list, in the order to apply them (the
 * last encoding applied is undone first). `deflate` is the zlib format
 * (RFC 9110). An encoding this client cannot undo fails the download rather
 * than writing encoded bytes under the file's name.
 */
function decodersFor(zlib: Zlib, header: string | null): import('node:stream').Transform[] {
  const codings = (header ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return zlib.createGunzip();
    if (coding === 'deflate') return zlib.createInflate();
    if (coding === 'br') return zlib.createBrotliDecompress();
    throw new DownloadError(
      `The server sent the file with Content-Encoding "${coding}", which this client cannot decode.`,
    );
  });
}

/**
 * GET `url` with `node:http(s)`: no credentials, no redirects followed (the
 * caller follows them by hand), `signal` aborts the request and its body.
 * Rejects like `fetch` does: with the abort reason's error, or the socket error.
 */
export function nodeGet(
  url: URL,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<FetchedResponse> {
  return nodeRequest(url, 'GET', signal, headers, undefined);
}

/** Write every chunk of `body`, each only once the runtime is done with the previous (see {@link ReusedChunks}). */
async function writeChunks(request: import('node:http').ClientRequest, body: ReusedChunks) {
  try {
    for (let chunk = await body.next(); chunk !== undefined; chunk = await body.next()) {
      if (chunk.byteLength === 0) continue;
      await new Promise<void>((resolve, reject) =>
        request.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
    }
  } finally {
    await body.close();
  }
}

/**
 * A request with `node:http(s)`: a GET, or a POST whose body comes as
 * {@link ReusedChunks} (uploads). No redirect is followed: a 3xx is handed
 * back. Rejects like `fetch` does: with the abort reason's error, or the socket
 * error (a body that cannot be read fails the request with its own error).
 */
async function nodeRequest(
  url: URL,
  method: 'GET' | 'POST',
  signal: AbortSignal,
  headers: Record<string, string>,
  chunks: ReusedChunks | undefined,
): Promise<FetchedResponse> {
  const [loaded, zlib, stream] = await Promise.all([
    url.protocol === 'https:' ? nodeHttps() : nodeHttp(),
    nodeZlib(),
    nodeStream(),
  ]);
  // The module object, not the ESM namespace: tools that patch `http.get` (msw, nock,
  // OpenTelemetry) patch the object, and a namespace's named exports keep the original.
  const client = (loaded as typeof loaded & { default?: typeof loaded }).default ?? loaded;
  // What `fetch` sends, less the compression it would offer; then the caller's (a Range, a bearer).
  const options = {
    method,
    headers: { accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'node', ...headers },
    signal,
  };
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    if (method === 'GET') {
      client.get(url, options, resolve).once('error', reject);
      return;
    }
    const request = client.request(url, options, resolve);
    request.once('error', reject);
    if (!chunks) {
      request.end();
      return;
    }
    writeChunks(request, chunks).then(
      () => request.end(),
      (error: unknown) => {
        request.destroy(error instanceof Error ? error : new Error(String(error)));
        reject(error);
      },
    );
  });
  const status = res.statusCode ?? 0;
  const header = (name: string): string | null => {
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  };
  let reader: BodyReader | undefined;
  const body = (): BodyReader | undefined => {
    if (reader) return reader;
    if (status === 204 || status === 304) {
      res.resume();
      return undefined;
    }
    let decoders: import('node:stream').Transform[] = [];
    try {
      if (header('content-length') !== '0')
        decoders = decodersFor(zlib, header('content-encoding'));
    } catch (error) {
      res.destroy();
      throw error;
    }
    const [first, ...rest] = decoders;
    // pipeline() destroys every stage when one fails or is cancelled, so a reset
    // reaches the reader and a cancelled decoder releases the connection.
    let source: import('node:stream').Readable = res;
    if (first) {
      const last = rest.at(-1) ?? first;
      stream.pipeline([res, first, ...rest], () => {});
      source = last;
    }
    reader = readerOf(source);
    return reader;
  };
  return {
    status,
    opaqueRedirect: false,
    header,
    headers: () => {
      const all = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) all.append(name, one);
      }
      return all;
    },
    body,
    text: async () => (await readBounded(body(), ERROR_BODY_BYTES)).text,
    discard: async () => {
      res.destroy();
    },
  };
}

/**
 * `node:http(s)` as a body transfer: GETs (CDN downloads: no credentials, the
 * caller's headers) and POSTs whose body is {@link ReusedChunks} (uploads);
 * redirects handed back.
 */
export const nodeHttpTransfer: BodyTransfer = {
  send(request) {
    const signal = request.signal ?? new AbortController().signal;
    if (request.method === 'GET' && request.body === undefined) {
      return nodeRequest(request.url, 'GET', signal, request.headers, undefined);
    }
    if (request.method === 'POST' && isReusedChunks(request.body)) {
      return nodeRequest(request.url, 'POST', signal, request.headers, request.body);
    }
    throw new Error('nemovideo internal error: node:http carries GETs and POSTs of reused chunks');
  },
};

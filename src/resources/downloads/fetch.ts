/**
 * Opening a download: the GET, redirects followed by hand so credentials only
 * ever go to the API, the API's JSON answers naming the file, and the checks
 * made before a byte of the body is read.
 */
import { readBounded } from '../../core/body.js';
import type { ClientContext } from '../../core/context.js';
import { parseJsonText, readEnvelope } from '../../core/envelope.js';
import { throwIfAborted } from '../../core/signal.js';
import { type BodyReader, type FetchedResponse, fromWebResponse } from '../../core/transfer.js';
import { ApiError, DownloadError } from '../../errors/errors.js';

/** Redirects followed (each hop judged on its own URL), JSON answers naming the file included. */
export const MAX_REDIRECTS = 5;

/** The most of a body read as text: an error body or the API's JSON answer. The rest is not read. */
export const MAX_TEXT_BYTES = 64 * 1024;

/**
 * Asked of every download: the file as it is. A compressed answer would make
 * `Content-Length` and `Range` count encoded bytes, so the SDK refuses one
 * (see {@link assertIdentity}). Browsers drop the `accept-encoding` header themselves.
 */
export const DOWNLOAD_HEADERS: Readonly<Record<string, string>> = {
  accept: '*/*',
  'accept-encoding': 'identity',
};

export function apiPrefix(ctx: ClientContext): string {
  return ctx.transport.baseUrl.replace(/\/+$/, '');
}

/** The API path of `url` when it lives under the API base URL, else `undefined` (a foreign host: no credentials). */
export function apiPathOf(ctx: ClientContext, url: URL): string | undefined {
  const base = new URL(apiPrefix(ctx));
  if (url.origin !== base.origin) return undefined;
  const prefix = base.pathname.replace(/\/+$/, '');
  if (prefix !== '' && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
    return undefined;
  }
  return `${url.pathname.slice(prefix.length) || '/'}${url.search}`;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** `origin + path` of a URL: what messages show (a signed query string is a credential of sorts). */
export function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** At most `cap` bytes of `reader` as text; the rest is not read (the connection is released). */
export function readText(reader: BodyReader | undefined, cap = MAX_TEXT_BYTES) {
  return readBounded(reader, cap);
}

/**
 * A GET to a host other than the API, through the transport's body transfer:
 * no bearer, no attribution headers, redirects by hand (`node:http` on Node
 * when that bypasses nothing the user configured for `fetch`).
 */
function foreignGet(
  ctx: ClientContext,
  url: URL,
  signal: AbortSignal,
  timeoutMs: number,
  redirect: 'manual' | 'follow',
  headers: Record<string, string>,
): Promise<FetchedResponse> {
  return ctx.transport.foreignGet(url, { signal, timeoutMs, redirect, headers });
}

/** The file URL in a JSON answer: `url`, `outputUrl`, `download_url`, `output.url`, in the envelope's `data` or bare. */
function urlInJson(text: string): string | undefined {
  const outcome = readEnvelope(parseJsonText(text));
  if (!outcome.ok) return undefined;
  const levels = [outcome.data, (outcome.data as { data?: unknown } | null)?.data];
  for (const level of levels) {
    if (!level || typeof level !== 'object') continue;
    const r = level as Record<string, unknown>;
    const output =
      r.output && typeof r.output === 'object' ? (r.output as Record<string, unknown>) : {};
    for (const value of [
      r.url,
      r.outputUrl,
      r.output_url,
      r.download_url,
      r.downloadUrl,
      output.url,
    ]) {
      if (typeof value === 'string' && value.trim() !== '') return value;
    }
  }
  return undefined;
}

/** A response the download can read: 2xx (or 416 to a range request), and the URL that served it. */
export interface Opened {
  response: FetchedResponse;
  url: URL;
  /** It came from a host other than the API (a CDN). */
  foreign: boolean;
}

/**
 * GET `url`, following redirects by hand so credentials (bearer and
 * attribution) only ever go to the API base URL: an API URL goes through the
 * transport (bearer, retries, token refresh), any other host gets a plain GET
 * without them. Returns the 2xx response with its body unread (or a 416, the
 * answer to a range past the end). Any other status is a `DownloadError` with
 * `httpStatus` (the API's answer: its `ApiError`).
 */
export async function openDownload(
  ctx: ClientContext,
  start: URL,
  signal: AbortSignal,
  timeoutMs: number,
  extraHeaders: Record<string, string>,
): Promise<Opened> {
  let url = start;
  for (let hop = 0; ; hop++) {
    throwIfAborted(signal);
    const apiPath = apiPathOf(ctx, url);
    // A range asked of one URL is asked of the next hop too (same file).
    const headers = { ...DOWNLOAD_HEADERS, ...extraHeaders };
    let response: FetchedResponse;
    if (apiPath !== undefined) {
      try {
        const api = await ctx.transport.stream({
          method: 'GET',
          path: apiPath,
          headers,
          redirect: 'manual',
          replay: 'safe',
          signal,
          timeout: timeoutMs,
          what: 'the download',
        });
        response = fromWebResponse(api);
      } catch (error) {
        // A range past the end, on the API: the caller decides (the file may be complete).
        if (error instanceof ApiError && error.httpStatus === 416) {
          return { response: rangeNotSatisfiable(), url, foreign: false };
        }
        throw error;
      }
    } else {
      response = await foreignGet(ctx, url, signal, timeoutMs, 'manual', headers);
      if (response.opaqueRedirect) {
        // A browser hides the target of a manual redirect. This request carries no
        // credentials, so letting the runtime follow it is safe.
        await response.discard();
        response = await foreignGet(ctx, url, signal, timeoutMs, 'follow', headers);
      }
    }
    if (response.status >= 300 && response.status < 400) {
      await response.discard();
      const location = response.header('location');
      if (!location) {
        throw new DownloadError(
          `${url.host} answered ${response.status} without a Location header.`,
          { httpStatus: response.status },
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new DownloadError(
          `Too many redirects (more than ${MAX_REDIRECTS}) from ${start.host}.`,
        );
      }
      url = new URL(location, url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new DownloadError(`Refusing to follow a redirect to ${url.protocol} URL.`);
      }
      continue;
    }
    const ok = response.status >= 200 && response.status < 300;
    if (apiPath !== undefined && ok && /\bjson\b/i.test(response.header('content-type') ?? '')) {
      // The API may answer the download endpoint with JSON naming the file's URL.
      const { text, overflowed } = await readText(response.body());
      const target = overflowed ? undefined : urlInJson(text);
      if (target === undefined) {
        throw new DownloadError(
          `GET ${url.pathname} answered JSON ${overflowed ? `longer than ${MAX_TEXT_BYTES} bytes` : 'without a file URL'} where a file was expected.`,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new DownloadError(
          `Too many redirects (more than ${MAX_REDIRECTS}) from ${start.host}.`,
        );
      }
      url = new URL(target, url);
      continue;
    }
    if (response.opaqueRedirect) {
      throw new DownloadError(
        `${url.host} redirected, and this runtime hides redirect targets: the download cannot follow it without risking the credentials.`,
      );
    }
    if (response.status === 416) return { response, url, foreign: apiPath === undefined };
    if (!ok) {
      const { text } = await readText(response.body()).catch(() => ({ text: '' }));
      const said = text.trim().slice(0, 200);
      throw new DownloadError(
        `GET ${shown(url)} answered HTTP ${response.status}${said ? `: ${said}` : ''}.`,
        { httpStatus: response.status },
      );
    }
    return { response, url, foreign: apiPath === undefined };
  }
}

/** The API's 416 (raised by the transport as an `ApiError`) as a bodiless response. */
function rangeNotSatisfiable(): FetchedResponse {
  return {
    status: 416,
    opaqueRedirect: false,
    header: () => null,
    headers: () => new Headers(),
    body: () => undefined,
    text: async () => '',
    discard: async () => {},
  };
}

/**
 * Refuse a compressed answer before reading it. The SDK asks for
 * `accept-encoding: identity`; a server that compresses anyway would make
 * `Content-Length` and ranges count encoded bytes, and inflating it without a
 * bound is how a few hundred KB become gigabytes. Nothing is decoded.
 */
export function assertIdentity(response: FetchedResponse, url: URL): void {
  const encoding = (response.header('content-encoding') ?? '').trim();
  if (/^(identity)?$/i.test(encoding)) return;
  throw new DownloadError(
    `${url.host} sent the file compressed (Content-Encoding: ${encoding.slice(0, 40)}) although the SDK asked for the file as it is (accept-encoding: identity). Refusing it: its size cannot be checked, and decoding it has no bound. Ask the server's owner to serve files uncompressed.`,
    { httpStatus: response.status },
  );
}

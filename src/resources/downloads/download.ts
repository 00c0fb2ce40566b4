import type { ClientContext } from '../../core/context.js';
import { parseJsonText, readEnvelope } from '../../core/envelope.js';
import { nodeFs, nodeFsSync, nodePath } from '../../core/node.js';
import type { TransferProgress } from '../../core/progress.js';
import { anySignal, throwIfAborted } from '../../core/signal.js';
import { abortErrorFrom, type IdleTimer, idleTimer } from '../../core/timers.js';
import { type BodyReader, type FetchedResponse, fromWebResponse } from '../../core/transfer.js';
import {
  AbortError,
  ConfigError,
  DownloadError,
  isNemoError,
  TimeoutError,
} from '../../errors/errors.js';
import { type FileWriter, openFileWriter } from './file-writer.js';

/** Options of `client.download()`. */
export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /**
   * Called as bytes arrive. `totalBytes` comes from `Content-Length`; `percent`
   * (whole numbers) only moves forward and ends at 100.
   */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /**
   * The render id: when the URL fails, the file is fetched from the API's
   * download endpoint (`backend.paths.renderDownload`) with the bearer token.
   */
  renderId?: string | undefined;
  /**
   * Ms without receiving a byte (or the headers) before the download is
   * abandoned. Default the client's `timeout`.
   */
  idleTimeout?: number | undefined;
}

/** A finished download. */
export interface DownloadResult {
  /** The absolute path written, when `to` was a path. */
  path?: string | undefined;
  /** Bytes written. */
  bytes: number;
  /** The URL the bytes came from (the fallback endpoint when it was used). */
  url: string;
}

/** The destination: a file path (Node) or a web `WritableStream`. */
export type DownloadTarget = string | WritableStream<Uint8Array>;

const MAX_REDIRECTS = 5;

/**
 * Asked of every download: the file as it is. A compressed answer would make
 * `Content-Length` count encoded bytes, so a body cut short could pass
 * unnoticed once decoded (fetch decodes leniently). Browsers drop the
 * `accept-encoding` header themselves.
 */
const DOWNLOAD_HEADERS: Readonly<Record<string, string>> = {
  accept: '*/*',
  'accept-encoding': 'identity',
};

/** A sink the body is written into: a temp file (renamed at the end) or the caller's stream. */
interface Sink {
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Bytes already handed to the caller's stream (a file sink can always restart). */
  canRestart(): boolean;
  restart(): Promise<void>;
  commit(): Promise<string | undefined>;
  discard(reason: unknown): Promise<void>;
}

function apiPrefix(ctx: ClientContext): string {
  return ctx.transport.baseUrl.replace(/\/+$/, '');
}

/** The API path of `url` when it lives under the API base URL, else `undefined` (a foreign host: no credentials). */
function apiPathOf(ctx: ClientContext, url: URL): string | undefined {
  const base = new URL(apiPrefix(ctx));
  if (url.origin !== base.origin) return undefined;
  const prefix = base.pathname.replace(/\/+$/, '');
  if (prefix !== '' && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
    return undefined;
  }
  return `${url.pathname.slice(prefix.length) || '/'}${url.search}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Watches for stalls: aborts `controller` when `touch()` was not called for `ms`. */
function idleWatchdog(ctx: ClientContext, ms: number, controller: AbortController): IdleTimer {
  return idleTimer(ctx.clock, ms, () =>
    controller.abort(new TimeoutError('download', ms, `No data for ${ms} ms`)),
  );
}

/**
 * GET `url`, following redirects by hand so credentials (bearer and
 * attribution) only ever go to the API base URL: an API URL goes through the
 * transport (bearer, retries, token refresh), any other host gets a plain
 * `fetch` without them. Returns the 2xx response with its body unread.
 */
async function open(
  ctx: ClientContext,
  start: URL,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ response: FetchedResponse; url: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    throwIfAborted(signal);
    const apiPath = apiPathOf(ctx, url);
    let response: FetchedResponse;
    if (apiPath !== undefined) {
      const api = await ctx.transport.stream({
        method: 'GET',
        path: apiPath,
        headers: DOWNLOAD_HEADERS,
        redirect: 'manual',
        replay: 'safe',
        signal,
        timeout: timeoutMs,
        what: 'the download',
      });
      response = fromWebResponse(api);
    } else {
      response = await foreignGet(ctx, url, signal, timeoutMs, 'manual');
      if (response.opaqueRedirect) {
        // A browser hides the target of a manual redirect. This request carries no
        // credentials, so letting the runtime follow it is safe.
        await response.discard();
        response = await foreignGet(ctx, url, signal, timeoutMs, 'follow');
      }
    }
    if (response.status >= 300 && response.status < 400) {
      await response.discard();
      const location = response.header('location');
      if (!location)
        throw new DownloadError(
          `${url.host} answered ${response.status} without a Location header.`,
        );
      if (hop >= MAX_REDIRECTS)
        throw new DownloadError(
          `Too many redirects (more than ${MAX_REDIRECTS}) from ${start.host}.`,
        );
      url = new URL(location, url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new DownloadError(`Refusing to follow a redirect to ${url.protocol} URL.`);
      }
      continue;
    }
    const ok = response.status >= 200 && response.status < 300;
    if (apiPath !== undefined && ok && /\bjson\b/i.test(response.header('content-type') ?? '')) {
      // The API may answer the download endpoint with JSON naming the file's URL.
      const target = urlInJson(await response.text());
      if (target === undefined) {
        throw new DownloadError(
          `GET ${url.pathname} answered JSON without a file URL where a file was expected.`,
        );
      }
      if (hop >= MAX_REDIRECTS)
        throw new DownloadError(
          `Too many redirects (more than ${MAX_REDIRECTS}) from ${start.host}.`,
        );
      url = new URL(target, url);
      continue;
    }
    if (response.opaqueRedirect) {
      throw new DownloadError(
        `${url.host} redirected, and this runtime hides redirect targets: the download cannot follow it without risking the credentials.`,
      );
    }
    if (!ok) {
      const text = await response.text().catch(() => '');
      throw new DownloadError(
        `GET ${url.origin}${url.pathname} answered HTTP ${response.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}.`,
      );
    }
    return { response, url };
  }
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

/**
 * A GET to a host other than the API: no bearer, no attribution headers,
 * redirects by hand (see `Transport.foreignGet`: `node:http` on Node when that
 * bypasses nothing the user configured for `fetch`).
 */
function foreignGet(
  ctx: ClientContext,
  url: URL,
  signal: AbortSignal,
  timeoutMs: number,
  redirect: 'manual' | 'follow',
): Promise<FetchedResponse> {
  return ctx.transport.foreignGet(url, { signal, timeoutMs, redirect, headers: DOWNLOAD_HEADERS });
}

async function fileSink(target: string): Promise<Sink> {
  let fs: typeof import('node:fs');
  let fsp: typeof import('node:fs/promises');
  let path: typeof import('node:path');
  try {
    [fs, fsp, path] = await Promise.all([nodeFsSync(), nodeFs(), nodePath()]);
  } catch (error) {
    throw new ConfigError(
      'Downloading to a file path needs Node.js; in a browser pass a WritableStream as the target.',
      { cause: error },
    );
  }
  const finalPath = path.resolve(target);
  const dir = path.dirname(finalPath);
  const random = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  const tempPath = path.join(dir, `.${path.basename(finalPath)}.${random}.part`);
  try {
    const stat = await fsp.stat(dir);
    if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  } catch (error) {
    throw new ConfigError(
      `Cannot download to ${finalPath}: the folder ${dir} does not exist or is not a folder.`,
      { cause: error },
    );
  }

  let writer: FileWriter | undefined = await openFileWriter(fs, tempPath);
  const destroy = async () => {
    const open = writer;
    writer = undefined;
    await open?.destroy();
    await fsp.rm(tempPath, { force: true });
  };
  return {
    write(chunk) {
      if (!writer) return Promise.reject(new DownloadError('The download file is closed.'));
      return writer.write(chunk);
    },
    canRestart: () => true,
    async restart() {
      await destroy();
      writer = await openFileWriter(fs, tempPath);
    },
    async commit() {
      const open = writer;
      if (!open) throw new DownloadError('The download file is closed.');
      writer = undefined;
      try {
        await open.finish();
      } catch (error) {
        writer = open; // so discard() removes the temporary file
        throw error;
      }
      await fsp.rename(tempPath, finalPath);
      return finalPath;
    },
    discard: destroy,
  };
}

function streamSink(target: WritableStream<Uint8Array>): Sink {
  const writer = target.getWriter();
  let written = false;
  return {
    async write(chunk) {
      written = true;
      await writer.ready;
      await writer.write(chunk);
    },
    canRestart: () => !written,
    async restart() {},
    async commit() {
      await writer.close();
      return undefined;
    },
    async discard(reason) {
      await writer.abort(reason).catch(() => {});
    },
  };
}

/**
 * Copy one response body into `sink`, counting bytes, checking
 * `Content-Length` and reporting progress. Memory stays bounded: one chunk at a
 * time, waiting for the sink to drain.
 */
async function pump(
  response: FetchedResponse,
  sink: Sink,
  signal: AbortSignal,
  touch: () => void,
  progress: (bytes: number, total: number | undefined) => void,
): Promise<number> {
  const encoded = !/^\s*(identity\s*)?$/i.test(response.header('content-encoding') ?? '');
  const lengthHeader = response.header('content-length');
  const total =
    !encoded && lengthHeader !== null && /^\d+$/.test(lengthHeader.trim())
      ? Number(lengthHeader)
      : undefined;
  const reader: BodyReader | undefined = response.body();
  if (!reader) {
    if (total !== undefined && total > 0) {
      throw new DownloadError(`The response had no body but announced ${total} bytes.`);
    }
    return 0;
  }
  const onAbort = () => {
    reader.cancel(signal.reason).catch(() => {});
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let bytes = 0;
  try {
    progress(0, total);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      bytes += value.byteLength;
      if (total !== undefined && bytes > total) {
        throw new DownloadError(
          `Received more than the ${total} bytes announced by Content-Length.`,
        );
      }
      const pending = sink.write(value);
      if (pending) await pending;
      progress(bytes, total);
    }
  } catch (error) {
    reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  throwIfAborted(signal);
  if (total !== undefined && bytes !== total) {
    throw new DownloadError(
      `The download ended after ${bytes} of ${total} bytes (Content-Length). The connection was probably cut; try again.`,
    );
  }
  return bytes;
}

function toDownloadError(error: unknown, url: URL): Error {
  if (error instanceof AbortError || error instanceof ConfigError) return error;
  if (error instanceof DownloadError || error instanceof TimeoutError) return error;
  if (isNemoError(error)) return error;
  return new DownloadError(
    `Downloading ${url.origin}${url.pathname} failed: ${describeError(error)}`,
  );
}

/**
 * @internal Download `url` into `to` (see `client.download`).
 */
export async function download(
  ctx: ClientContext,
  url: string,
  to: DownloadTarget,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  let start: URL;
  try {
    start = new URL(url, `${apiPrefix(ctx)}/`);
  } catch (error) {
    throw new ConfigError(`download() needs a valid URL (got ${JSON.stringify(url)}).`, {
      cause: error,
    });
  }
  if (start.protocol !== 'https:' && start.protocol !== 'http:') {
    throw new ConfigError(`download() needs an http(s) URL (got ${start.protocol}).`);
  }
  if (
    typeof to !== 'string' &&
    !(typeof WritableStream !== 'undefined' && to instanceof WritableStream)
  ) {
    throw new ConfigError(
      'download() needs a file path or a WritableStream<Uint8Array> as the target.',
    );
  }
  if (typeof to === 'string' && to.trim() === '') {
    throw new ConfigError('download() needs a non-empty file path.');
  }
  throwIfAborted(options.signal);
  const timeoutMs = options.idleTimeout ?? ctx.transport.config.timeoutMs;

  const sink = typeof to === 'string' ? await fileSink(to) : streamSink(to);
  let lastPercent = -1;
  let lastReportedBytes = -1;
  const report = (bytes: number, total: number | undefined, done = false) => {
    if (!options.onProgress) return;
    let percent: number | undefined;
    if (done) percent = 100;
    else if (total !== undefined && total > 0)
      percent = Math.min(99, Math.floor((bytes / total) * 100));
    else if (total === 0) percent = 99;
    if (percent !== undefined) {
      if (percent <= lastPercent) return;
      lastPercent = percent;
    } else {
      // Unknown total: report every MiB, and never less than before.
      if (bytes < lastReportedBytes + 1024 * 1024) return;
    }
    lastReportedBytes = Math.max(lastReportedBytes, bytes);
    options.onProgress({ loadedBytes: Math.max(bytes, 0), totalBytes: total, percent });
  };

  const sources: URL[] = [start];
  if (options.renderId !== undefined) {
    const fallback = ctx.transport.url(ctx.backend.paths.renderDownload(options.renderId));
    if (fallback.href !== start.href) sources.push(fallback);
  }

  let lastError: unknown;
  try {
    for (const [i, source] of sources.entries()) {
      if (i > 0) {
        if (!sink.canRestart()) break;
        await sink.restart();
        ctx.logger.info(
          `Download from ${start.host} failed (${describeError(lastError)}); trying the API download endpoint for render ${options.renderId}`,
        );
      }
      const controller = new AbortController();
      const signal = anySignal([options.signal, controller.signal]) ?? controller.signal;
      const watchdog = idleWatchdog(ctx, timeoutMs, controller);
      try {
        const { response, url: servedBy } = await open(ctx, source, signal, timeoutMs);
        const bytes = await pump(response, sink, signal, watchdog.touch, report);
        const path = await sink.commit();
        report(bytes, bytes, true);
        return path === undefined
          ? { bytes, url: servedBy.href }
          : { path, bytes, url: servedBy.href };
      } catch (error) {
        if (options.signal?.aborted) throw abortErrorFrom(options.signal);
        lastError = watchdog.fired
          ? new TimeoutError(
              'download',
              timeoutMs,
              `The download from ${source.host} stalled: no data for ${timeoutMs} ms. Try again, or raise idleTimeout.`,
              { cause: error },
            )
          : toDownloadError(error, source);
        if (lastError instanceof ConfigError) throw lastError;
      } finally {
        watchdog.stop();
      }
    }
    throw lastError;
  } catch (error) {
    await sink.discard(error).catch(() => {});
    throw error;
  }
}

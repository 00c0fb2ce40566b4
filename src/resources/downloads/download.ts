import type { ClientContext } from '../../core/context.js';
import type { TransferProgress } from '../../core/progress.js';
import { anySignal, throwIfAborted } from '../../core/signal.js';
import { abortErrorFrom, deadline, type IdleTimer, idleTimer } from '../../core/timers.js';
import type { BodyReader, FetchedResponse } from '../../core/transfer.js';
import {
  AbortError,
  ApiError,
  ConfigError,
  DownloadError,
  isNemoError,
  TimeoutError,
} from '../../errors/errors.js';
import { pollRender } from '../renders/poll.js';
import {
  apiPrefix,
  assertIdentity,
  describeError,
  type Opened,
  openDownload,
  shown,
} from './fetch.js';
import { openPathTarget } from './path-target.js';
import { type PartialFile, type Sink, streamSink } from './sinks.js';

/**
 * Default overall time limit of one `download()` call: 1 hour (500 MB at about
 * 1.1 Mbit/s). A server trickling a byte now and then never trips the idle
 * timeout; this bounds it. A path target keeps what it received, so the next
 * call resumes.
 */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60 * 60_000;

/** Options of `client.download()`. */
export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /**
   * Called as bytes arrive: `{ loadedBytes, totalBytes, percent }`, the one
   * progress shape of uploads and downloads. `totalBytes` is the file's size
   * when the server says (`Content-Length`, `Content-Range`); `percent` (whole
   * numbers) only moves forward and ends at 100. A resumed download starts at
   * the bytes it already had.
   */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /**
   * The render id. When the result URL has expired (HTTP 403, 404 or 410 from
   * the CDN) the render is polled again for a fresh URL; when the URL fails
   * otherwise, the file is fetched from the API's download endpoint
   * (`backend.paths.renderDownload`) with the bearer token.
   */
  renderId?: string | undefined;
  /**
   * Ms without receiving a byte (or the headers) before an attempt is
   * abandoned. Default the client's `timeout`.
   */
  idleTimeout?: number | undefined;
  /**
   * Ms the whole download may take, renewals and fallback included. Default
   * `DEFAULT_DOWNLOAD_TIMEOUT_MS` (1 hour); `0` for none.
   */
  totalTimeout?: number | undefined;
  /**
   * Path targets: keep an interrupted download (`<name>.part` and
   * `<name>.part.json`) and continue it on the next call to the same path,
   * with `Range` and `If-Range`. Default `true`. `false`: a temporary file,
   * removed on failure; every call starts from zero.
   */
  resume?: boolean | undefined;
}

/** A finished download. */
export interface DownloadResult {
  /** The absolute path written, when `to` was a path. */
  path?: string | undefined;
  /** The file's size in bytes (what was written, a resumed part included). */
  bytes: number;
  /** The URL the last bytes came from (a renewed URL or the fallback endpoint when used). */
  url: string;
  /** Bytes received by this call: less than `bytes` when it resumed a partial download. */
  transferredBytes: number;
}

/** The destination: a file path (Node) or a web `WritableStream`. */
export type DownloadTarget = string | WritableStream<Uint8Array>;

/** Statuses of a CDN that mean "this URL no longer works": ask the service for a fresh one. */
const EXPIRED_STATUS = new Set([403, 404, 410]);

/** Errors after which the bytes held cannot be trusted: nothing is kept. */
const corrupt = new WeakSet<object>();

function corruptError(message: string): DownloadError {
  const error = new DownloadError(message);
  corrupt.add(error);
  return error;
}

/** Watches for stalls: aborts `controller` when `touch()` was not called for `ms` (capped timers). */
function idleWatchdog(ctx: ClientContext, ms: number, controller: AbortController): IdleTimer {
  return idleTimer(ctx.clock, ms, () =>
    controller.abort(new TimeoutError('download', ms, `No data for ${ms} ms`)),
  );
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
  progress: (bytes: number) => void,
): Promise<number> {
  const lengthHeader = response.header('content-length');
  const length =
    lengthHeader !== null && /^\s*\d+\s*$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const reader: BodyReader | undefined = response.body();
  if (!reader) {
    if (length !== undefined && length > 0) {
      throw new DownloadError(`The response had no body but announced ${length} bytes.`);
    }
    return 0;
  }
  const onAbort = () => {
    reader.cancel(signal.reason).catch(() => {});
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      bytes += value.byteLength;
      if (length !== undefined && bytes > length) {
        throw corruptError(`Received more than the ${length} bytes announced by Content-Length.`);
      }
      const pending = sink.write(value);
      if (pending) await pending;
      progress(bytes);
    }
  } catch (error) {
    reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  throwIfAborted(signal);
  if (length !== undefined && bytes !== length) {
    throw new DownloadError(
      `The download ended after ${bytes} of ${length} bytes (Content-Length). The connection was probably cut; download again to continue.`,
    );
  }
  return bytes;
}

function toDownloadError(error: unknown, url: URL): Error {
  if (isNemoError(error)) return error;
  return new DownloadError(`Downloading ${shown(url)} failed: ${describeError(error)}`, {
    cause: error,
  });
}

/** The local disk failed (the path target types its errors with `code`): no other source can help. */
function isLocal(error: unknown): boolean {
  return error instanceof DownloadError && error.code !== undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof DownloadError || error instanceof ApiError) return error.httpStatus;
  return undefined;
}

/** The error the caller sees, saying where the bytes received so far are kept. */
function withPartial(error: unknown, partial: PartialFile | undefined): unknown {
  if (!partial) return error;
  const kept = ` The ${partial.bytes} bytes received so far are kept in ${partial.path}: download to the same path again to resume.`;
  if (error instanceof DownloadError) {
    return new DownloadError(`${error.message}${kept}`, {
      httpStatus: error.httpStatus,
      code: error.code,
      partialPath: partial.path,
      partialBytes: partial.bytes,
      cause: error.cause,
    });
  }
  if (error instanceof TimeoutError && error.name === 'TimeoutError') {
    return new TimeoutError(error.kind, error.timeoutMs, `${error.message}${kept}`, {
      cause: error.cause,
    });
  }
  return error;
}

interface Source {
  url: URL;
  /** `given`: the URL passed in; `renewed`: a fresh URL from the render; `fallback`: the API endpoint. */
  kind: 'given' | 'renewed' | 'fallback';
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
  const totalMs = options.totalTimeout ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  if (!(typeof totalMs === 'number' && totalMs >= 0)) {
    throw new ConfigError(`totalTimeout must be a number of ms ≥ 0 (got ${String(totalMs)}).`);
  }
  throwIfAborted(options.signal);
  const idleMs = options.idleTimeout ?? ctx.transport.config.timeoutMs;

  const sink =
    typeof to === 'string'
      ? await openPathTarget(to, {
          resume: options.resume ?? true,
          url: start,
          renderId: options.renderId,
        })
      : streamSink(to);

  // Progress: monotonic, once per whole percent (every MiB while the size is unknown).
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
    } else if (bytes < lastReportedBytes + 1024 * 1024) return;
    if (bytes < lastReportedBytes) return;
    lastReportedBytes = bytes;
    options.onProgress({ loadedBytes: bytes, totalBytes: total, percent });
  };

  // The overall deadline: one timer for the whole call (capped steps: any length is honoured).
  const overall = deadline(
    ctx.clock,
    totalMs,
    () =>
      new TimeoutError(
        'download',
        totalMs,
        `The download of ${shown(start)} did not finish within totalTimeout (${totalMs} ms).`,
      ),
  );
  const callSignal = anySignal([options.signal, overall.signal]) ?? overall.signal;

  const sources: Source[] = [{ url: start, kind: 'given' }];
  let renewed = false;
  let fellBack = false;
  let restarts = 0;
  let transferred = 0;
  try {
    for (let source = sources.shift(); source; source = sources.shift()) {
      const controller = new AbortController();
      const signal = anySignal([callSignal, controller.signal]) ?? controller.signal;
      const watchdog = idleWatchdog(ctx, idleMs, controller);
      let opened: Opened | undefined;
      try {
        opened = await openDownload(ctx, source.url, signal, idleMs, sink.requestHeaders());
        watchdog.touch();
        const { response } = opened;
        if (response.status !== 416) assertIdentity(response, opened.url);
        const plan = await sink.begin(response);
        if (plan.kind === 'restart') {
          await response.discard();
          if (++restarts > 2) {
            throw corruptError(
              `${opened.url.host} answered range requests inconsistently (${plan.why}); giving up.`,
            );
          }
          ctx.logger.info(`Download of ${shown(source.url)} starts over: ${plan.why}`);
          sources.unshift(source);
          continue;
        }
        if (plan.kind === 'complete') {
          await response.discard();
          const path = await sink.commit();
          report(plan.total, plan.total, true);
          return withPath(path, { bytes: plan.total, url: opened.url.href, transferredBytes: 0 });
        }
        const { offset, total: announced } = plan;
        const length = response.header('content-length');
        const total =
          announced ??
          (length !== null && /^\s*\d+\s*$/.test(length) ? offset + Number(length) : undefined);
        report(offset, total);
        const before = transferred;
        const bytes = await pump(response, sink, signal, watchdog.touch, (n) => {
          transferred = before + n; // every byte received counts, in failed attempts too
          report(offset + n, total);
        });
        if (total !== undefined && offset + bytes !== total) {
          throw new DownloadError(
            `The download ended after ${offset + bytes} of ${total} bytes. The connection was probably cut; download again to continue.`,
          );
        }
        const path = await sink.commit();
        report(offset + bytes, offset + bytes, true);
        return withPath(path, {
          bytes: offset + bytes,
          url: opened.url.href,
          transferredBytes: transferred,
        });
      } catch (error) {
        // Release the connection whatever state its body is in (refused, half read).
        await opened?.response.discard().catch(() => {});
        await sink.pause();
        if (options.signal?.aborted) throw abortErrorFrom(options.signal);
        if (overall.signal.aborted) throw overall.signal.reason;
        const failure = watchdog.fired
          ? new TimeoutError(
              'download',
              idleMs,
              `The download from ${source.url.host} stalled: no data for ${idleMs} ms. Download again to continue, or raise idleTimeout.`,
              { cause: error },
            )
          : toDownloadError(error, source.url);
        if (failure instanceof ConfigError || failure instanceof AbortError) throw failure;
        // A full disk is the disk's error: another source would fail the same way (#13 item 9).
        if (isLocal(failure) || corrupt.has(failure) || !sink.canContinue()) throw failure;
        const next = await nextSource(ctx, source, failure, options.renderId, callSignal, {
          renewed,
          fellBack,
        });
        if (!next) throw failure;
        if (next.kind === 'renewed') renewed = true;
        if (next.kind === 'fallback') fellBack = true;
        ctx.logger.info(
          `Download from ${source.url.host} failed (${describeError(failure)}); ${next.kind === 'renewed' ? 'trying the fresh result URL of' : 'trying the API download endpoint for'} render ${options.renderId}`,
        );
        sources.push(next);
      } finally {
        watchdog.stop();
      }
    }
    throw new DownloadError(`Downloading ${shown(start)} failed.`);
  } catch (error) {
    const keep = !corrupt.has(error as object);
    const partial = await sink.close(keep, error).catch(() => undefined);
    throw withPartial(error, partial);
  } finally {
    overall.cancel();
  }
}

function withPath(path: string | undefined, result: Omit<DownloadResult, 'path'>): DownloadResult {
  return path === undefined ? result : { path, ...result };
}

/**
 * Where to try next after `failure` on `source`: with a render id, a fresh
 * result URL when the CDN says the URL no longer works (403, 404, 410), then
 * the API's download endpoint.
 */
async function nextSource(
  ctx: ClientContext,
  source: Source,
  failure: Error,
  renderId: string | undefined,
  signal: AbortSignal,
  tried: { renewed: boolean; fellBack: boolean },
): Promise<Source | undefined> {
  if (renderId === undefined) return undefined;
  const fallback = ctx.transport.url(ctx.backend.paths.renderDownload(renderId));
  const status = httpStatusOf(failure);
  if (
    !tried.renewed &&
    source.kind !== 'fallback' &&
    status !== undefined &&
    EXPIRED_STATUS.has(status) &&
    source.url.origin !== fallback.origin
  ) {
    try {
      const { status: render } = await pollRender(ctx, renderId, { signal });
      if (render.status === 'completed' && render.url && render.url !== source.url.href) {
        return { url: new URL(render.url, source.url), kind: 'renewed' };
      }
    } catch (error) {
      if (signal.aborted) throw error;
      ctx.logger.info(`Could not renew the result URL of render ${renderId}: ${String(error)}`);
    }
  }
  if (!tried.fellBack && fallback.href !== source.url.href) {
    return { url: fallback, kind: 'fallback' };
  }
  return undefined;
}

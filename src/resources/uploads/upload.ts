import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { decodeWith, looseNumber } from '../../core/schema.js';
import { anySignal, throwIfAborted } from '../../core/signal.js';
import { abortErrorFrom } from '../../core/timers.js';
import type { ReusedChunks } from '../../core/transfer.js';
import type { RequestOptions } from '../../core/transport.js';
import { isLoopbackHost } from '../../core/url.js';
import {
  AbortError,
  ApiError,
  ConfigError,
  ConnectionError,
  ResponseValidationError,
  TimeoutError,
  UploadError,
} from '../../errors/errors.js';
import { ErrorCode } from '../../errors/from-response.js';
import { type MultipartBody, MultipartPlan, type ReusedMultipartBody } from './body.js';
import { contentTypeFor, mediaKindOf } from './content-type.js';
import { createBoundary } from './multipart.js';
import { ProgressTracker, type UploadProgress } from './progress.js';
import { isNode, type PreparedSource, prepareSources, type UploadInput } from './sources.js';

/**
 * Default per-attempt time limit of an upload, in ms (30 minutes): long enough
 * for 500 MB at about 2.5 Mbit/s. A client `timeout` above it wins; pass
 * `timeout` to `upload()` to choose another (0 = none).
 */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** Multipart field name of the upload endpoint (contract §2.4). */
const FIELD_NAME = 'files';

/** Options of `session.upload()`. */
export interface UploadOptions extends RequestOptions {
  /** Called as bytes go out: monotonic, the last call reports 100 %. An exception thrown here aborts the upload. */
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /** Largest accepted file, in bytes, checked before sending. Default: the backend's limit (500 MB). */
  maxBytes?: number | undefined;
}

/** What the service made of an uploaded file. `fileType` is `video`, `image` or `audio` as far as known. */
export type UploadFileType = 'video' | 'image' | 'audio' | (string & {});

/** One uploaded file, decoded from the upload response. */
export interface UploadedFile {
  /** The file name the service recorded. */
  filename: string;
  fileType: UploadFileType;
  /** Where the service stores it (its `cdn_url`). */
  url: string;
  /** Media duration in seconds, when the service reports it. */
  durationSec?: number;
  /** Pixel width of a video or image. */
  width?: number;
  height?: number;
  /** Frames per second of a video. */
  fps?: number;
  /** Content hash, when reported. */
  hash?: string;
  /** The file entry as received (snake_case). */
  raw: Record<string, unknown>;
}

/** The result of `session.upload()` / `session.uploadUrl()`. */
export interface UploadResult {
  /** The uploaded files, in the order sent. */
  files: UploadedFile[];
  /** Whether the service added the files to the session's state, when it says. */
  sessionStateApplied: boolean | undefined;
  /** The response's `data` as received. */
  raw: unknown;
}

const optionalNumber = z.optional(z.nullable(looseNumber));
const optionalString = z.optional(z.nullable(z.string()));

const uploadedFileWire = z.looseObject({
  filename: optionalString,
  file_type: optionalString,
  cdn_url: optionalString,
  url: optionalString,
  duration: optionalNumber,
  width: optionalNumber,
  height: optionalNumber,
  fps: optionalNumber,
  hash: z.optional(z.nullable(z.union([z.string(), z.number()]))),
});

const uploadWire = z.looseObject({
  files: z.array(uploadedFileWire),
  session_state_applied: z.optional(z.nullable(z.boolean())),
});

/** What was sent, to fill in fields a response leaves out. */
interface SentItem {
  filename: string;
  contentType: string;
}

function decodeUploadResult(data: unknown, sent: readonly SentItem[], what: string): UploadResult {
  const decoded = decodeWith(uploadWire, data, what);
  const files = decoded.files.map((file, i): UploadedFile => {
    const url = file.cdn_url ?? file.url;
    if (!url) {
      throw new ResponseValidationError(
        `Unexpected shape in ${what}: no cdn_url at data.files[${i}]. The service may have changed; upgrade nemovideo or report this with the response body.`,
        { path: `data.files[${i}].cdn_url`, body: data },
      );
    }
    const item = sent[i];
    const raw = (data as { files: Record<string, unknown>[] }).files[i] ?? {};
    const result: UploadedFile = {
      filename: file.filename ?? item?.filename ?? '',
      fileType: file.file_type ?? mediaKindOf(item?.contentType ?? '') ?? 'unknown',
      url,
      raw,
    };
    if (file.duration != null) result.durationSec = file.duration;
    if (file.width != null) result.width = file.width;
    if (file.height != null) result.height = file.height;
    if (file.fps != null) result.fps = file.fps;
    if (file.hash != null) result.hash = String(file.hash);
    return result;
  });
  return { files, sessionStateApplied: decoded.session_state_applied ?? undefined, raw: data };
}

function uploadTimeout(ctx: ClientContext, requested: number | undefined): number {
  if (requested !== undefined) return requested;
  const base = ctx.transport.config.timeoutMs;
  return Number.isFinite(base) && base > 0 ? Math.max(base, DEFAULT_UPLOAD_TIMEOUT_MS) : base;
}

/** Failures the transport would have retried for a re-readable body. */
function wouldRetry(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  if (error instanceof TimeoutError) return error.kind === 'request';
  if (error instanceof ApiError) {
    if (error.code === ErrorCode.TokenExpired) return true;
    const transientStatus = [408, 429, 500, 502, 503, 504].includes(error.httpStatus);
    return transientStatus && (error.code === undefined || error.code === error.httpStatus);
  }
  return false;
}

function notRetried(error: Error, streams: readonly PreparedSource[]): UploadError {
  const names = streams.map((s) => s.label).join(', ');
  return new UploadError(
    `The upload failed and was not retried: ${names} can be read only once, so the SDK cannot send ${streams.length > 1 ? 'them' : 'it'} again. Cause: ${error.message} To get automatic retries, upload from a path, a Blob or bytes; or call upload() again with a new stream.`,
    { cause: error },
  );
}

/** `session.upload()`: validate, then stream every input in one multipart request. */
export async function uploadFiles(
  ctx: ClientContext,
  sessionId: string,
  input: UploadInput | readonly UploadInput[],
  options: UploadOptions = {},
): Promise<UploadResult> {
  const { onProgress, maxBytes: maxOption, signal, timeout, maxRetries } = options;
  throwIfAborted(signal);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ConfigError('upload(): onProgress must be a function.');
  }
  const maxBytes = maxOption ?? ctx.backend.maxUploadBytes;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new ConfigError(
      `upload(): maxBytes must be a whole number of bytes > 0 (got ${String(maxOption)}).`,
    );
  }
  const inputs: readonly unknown[] = Array.isArray(input) ? input : [input];
  if (inputs.length === 0) {
    throw new ConfigError('upload() needs at least one file (got an empty list).');
  }

  // Validation: nothing is sent (not even a token request) until every input passed.
  const sources = await prepareSources(inputs, { backend: ctx.backend, maxBytes });
  throwIfAborted(signal);

  const plan = new MultipartPlan(sources, FIELD_NAME, createBoundary(), maxBytes);
  const replayable = sources.every((s) => s.replayable);
  const progress = new ProgressTracker(sources, onProgress);
  // Aborted when reading a source fails for good: the transport must not retry that.
  const fatal = new AbortController();
  let body: MultipartBody | ReusedMultipartBody | undefined;

  const hooks = {
    onBytes: (source: PreparedSource, bytes: number) => progress.add(source, bytes),
    onEnd: () => progress.end(),
    onFatal: (error: unknown) => fatal.abort(error),
  };
  const openBody = async (): Promise<ReadableStream<Uint8Array>> => {
    await body?.close();
    progress.restart();
    const opened = plan.open(hooks);
    body = opened;
    return opened.stream;
  };
  // Node: node:http, file chunks read into two reused buffers (see the transport's reusedBody).
  const openReused = async (): Promise<ReusedChunks> => {
    await body?.close();
    progress.restart();
    const opened = plan.openReused(hooks);
    body = opened;
    return opened;
  };

  // Browsers cannot stream a request body over HTTP/1.1: there, Blobs and bytes go as one
  // (lazily composed) Blob, with a single 100 % progress report at the end.
  const blobBody = isNode() ? undefined : plan.blob();
  const headers: Record<string, string> = { 'content-type': plan.contentType };
  if (plan.length !== undefined && !blobBody) headers['content-length'] = String(plan.length);

  try {
    const data = await ctx.transport.json<unknown>({
      method: 'POST',
      path: ctx.backend.paths.upload(sessionId),
      body: blobBody ? () => blobBody : openBody,
      reusedBody: blobBody ? undefined : openReused,
      headers,
      replay: replayable ? 'safe' : 'never',
      signal: anySignal([signal, fatal.signal]),
      timeout: uploadTimeout(ctx, timeout),
      maxRetries,
      what: 'the upload response',
    });
    progress.end(true);
    return decodeUploadResult(data, sources, 'the upload response');
  } catch (error) {
    if (signal?.aborted) throw error instanceof AbortError ? error : abortErrorFrom(signal);
    if (fatal.signal.aborted) throw fatal.signal.reason;
    if (!replayable && error instanceof Error && wouldRetry(error)) {
      throw notRetried(
        error,
        sources.filter((s) => !s.replayable),
      );
    }
    throw error;
  } finally {
    await body?.close();
  }
}

function checkUrl(value: unknown, index: number, apiIsLoopback: boolean): string {
  const where = `uploadUrl() URL ${index}`;
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new ConfigError(`${where} must be a string or URL (got ${typeof value}).`);
  }
  let url: URL;
  try {
    url = new URL(String(value).trim());
  } catch {
    throw new ConfigError(
      `${where} is not a valid URL: ${JSON.stringify(String(value))}. Pass an absolute http(s) URL such as https://example.com/clip.mp4.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const hint = url.protocol === 'file:' ? ' For a local file use session.upload(path).' : '';
    throw new ConfigError(
      `${where} must be an http(s) URL the service can download (got ${url.protocol}).${hint}`,
    );
  }
  if (isLoopbackHost(url.hostname) && !apiIsLoopback) {
    throw new ConfigError(
      `${where} points at this machine (${url.host}), which the service cannot reach: it downloads the URL itself. Use session.upload(path) for local files.`,
    );
  }
  return url.href;
}

/** `session.uploadUrl()`: let the service fetch media from public URLs. */
export async function uploadUrls(
  ctx: ClientContext,
  sessionId: string,
  input: string | URL | readonly (string | URL)[],
  options: RequestOptions = {},
): Promise<UploadResult> {
  throwIfAborted(options.signal);
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    throw new ConfigError('uploadUrl() needs at least one URL (got an empty list).');
  }
  const apiIsLoopback = isLoopbackHost(new URL(ctx.transport.baseUrl).hostname);
  const urls = list.map((u, i) => checkUrl(u, i, apiIsLoopback));
  const data = await ctx.transport.json<unknown>({
    ...options,
    timeout: uploadTimeout(ctx, options.timeout),
    method: 'POST',
    path: ctx.backend.paths.upload(sessionId),
    json: { urls, source_type: 'url' },
    replay: 'safe',
    what: 'the upload-by-URL response',
  });
  const sent = urls.map((u) => {
    const last = new URL(u).pathname.split('/').pop() ?? '';
    let filename = last;
    try {
      filename = decodeURIComponent(last);
    } catch {
      // keep the encoded name
    }
    return { filename, contentType: contentTypeFor(filename) };
  });
  return decodeUploadResult(data, sent, 'the upload-by-URL response');
}

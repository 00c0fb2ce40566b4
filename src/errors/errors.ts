import { redact, redactCause, redactValue } from './redact.js';

/** Marks our errors so {@link isNemoError} works across two copies of the package. */
const NEMO_ERROR_BRAND = Symbol.for('nemovideo.error');

export interface NemoErrorOptions {
  cause?: unknown;
}

/**
 * The base class of every error the SDK throws.
 *
 * Messages say what happened and what to do next. Tokens and URL credentials
 * are kept out of the message, the stack, `toString()`, `toJSON()`, `cause`
 * and every field.
 *
 * @example
 * ```ts
 * try {
 *   await client.credits.balance();
 * } catch (err) {
 *   if (isNemoError(err)) console.error(err.message);
 *   else throw err;
 * }
 * ```
 */
export class NemoError extends Error {
  override name = 'NemoError';

  constructor(message: string, options: NemoErrorOptions = {}) {
    // The cause too: a platform error may quote a header value (and so a token).
    super(
      redact(message),
      options.cause === undefined ? undefined : { cause: redactCause(options.cause) },
    );
    Object.defineProperty(this, NEMO_ERROR_BRAND, { value: true, enumerable: false });
  }

  override toString(): string {
    return redact(`${this.name}: ${this.message}`);
  }

  /** A plain, token-free description of the error (for structured logs). */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key === 'name' || key === 'message' || key === 'cause') continue;
      json[key] = redactValue(value);
    }
    return json;
  }
}

/**
 * True when `error` is an error thrown by any copy of this package.
 *
 * @example
 * ```ts
 * if (isNemoError(err)) console.log(err.name, err.message);
 * ```
 */
export function isNemoError(error: unknown): error is NemoError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[NEMO_ERROR_BRAND] === true
  );
}

/**
 * A bad option, argument or local setting, caught before any request: an invalid
 * base URL, a token that cannot go in a header, credentials that would go over
 * plain http, an unusable client id file. The message names the fix.
 */
export class ConfigError extends NemoError {
  override name = 'ConfigError';
}

/** The request could not reach the service (DNS, refused, reset, TLS). */
export class ConnectionError extends NemoError {
  override name = 'ConnectionError';
}

/** Which limit a {@link TimeoutError} hit. */
export type TimeoutKind =
  | 'request'
  | 'turn-hard-limit'
  | 'turn-heartbeats-only'
  | 'stream-idle'
  | 'render'
  | 'download';

/** A time limit ran out. `kind` and the message name which one. */
export class TimeoutError extends NemoError {
  override name = 'TimeoutError';
  readonly kind: TimeoutKind;
  readonly timeoutMs: number;
  constructor(kind: TimeoutKind, timeoutMs: number, message: string, options?: NemoErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller aborted the operation through its `AbortSignal`. */
export class AbortError extends NemoError {
  override name = 'AbortError';
  constructor(
    message = 'The operation was aborted by its AbortSignal.',
    options?: NemoErrorOptions,
  ) {
    super(message, options);
  }
}

/** A response body fit none of the shapes the contract allows. `path` points at the bad field. */
export class ResponseValidationError extends NemoError {
  override name = 'ResponseValidationError';
  readonly path: string;
  readonly body: unknown;
  constructor(message: string, details: { path?: string; body?: unknown; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.path = details.path ?? '';
    this.body = redactValue(details.body);
  }
}

export interface ApiErrorDetails {
  httpStatus: number;
  code?: number | undefined;
  requestId?: string | undefined;
  body?: unknown;
  cause?: unknown;
}

/**
 * The service answered with an error: a non-zero JSON `code`, `success: false`,
 * or an HTTP error status.
 */
export class ApiError extends NemoError {
  override name = 'ApiError';
  /** HTTP status of the response (200 when the error came in a JSON envelope). */
  readonly httpStatus: number;
  /** The backend's JSON `code`, when it sent one. */
  readonly code: number | undefined;
  /** The request id the server sent, if any (quote it in bug reports). */
  readonly requestId: string | undefined;
  /** The parsed response body (credentials redacted). */
  readonly body: unknown;
  constructor(message: string, details: ApiErrorDetails) {
    // A server may echo anything in its request id, the token included.
    const requestId = details.requestId === undefined ? undefined : redact(details.requestId);
    const suffix = requestId ? ` (request id ${requestId})` : '';
    super(`${message}${suffix}`, { cause: details.cause });
    this.httpStatus = details.httpStatus;
    this.code = details.code;
    this.requestId = requestId;
    this.body = redactValue(details.body);
  }
}

/**
 * The service rejected the token (code 1001: expired or invalid). An anonymous
 * token is renewed and the request replayed once before this is raised; a token
 * you supplied (option, `NEMO_TOKEN`) is never replaced behind your back.
 */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError';
}

/** 1002: the session does not exist (or belongs to another user). */
export class SessionNotFoundError extends ApiError {
  override name = 'SessionNotFoundError';
}

/** 2001: out of credits. `registerUrl` links an anonymous user to a new account. */
export class InsufficientCreditsError extends ApiError {
  override name = 'InsufficientCreditsError';
  readonly registerUrl: string | undefined;
  constructor(message: string, details: ApiErrorDetails & { registerUrl?: string | undefined }) {
    super(message, details);
    this.registerUrl = details.registerUrl;
  }
}

/** 4001: the file type is not accepted. Raised locally too, before any byte is sent. */
export class UnsupportedFileTypeError extends ApiError {
  override name = 'UnsupportedFileTypeError';
  readonly acceptedFormats: readonly string[];
  constructor(message: string, details: ApiErrorDetails & { acceptedFormats: readonly string[] }) {
    super(message, details);
    this.acceptedFormats = details.acceptedFormats;
  }
}

/** 4002: the file is larger than the service accepts. Raised locally too, before upload. */
export class FileTooLargeError extends ApiError {
  override name = 'FileTooLargeError';
  readonly maxBytes: number;
  constructor(message: string, details: ApiErrorDetails & { maxBytes: number }) {
    super(message, details);
    this.maxBytes = details.maxBytes;
  }
}

/** HTTP 402: the plan does not allow this export (a subscription limit, not credits). */
export class ExportNotAllowedError extends ApiError {
  override name = 'ExportNotAllowedError';
}

/** HTTP 429: rate limited. `retryAfterMs` is how long the server asked us to wait. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: ApiErrorDetails & { retryAfterMs?: number | undefined }) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The chat stream failed after it started. Every event before the failure was delivered. */
export class StreamError extends NemoError {
  override name = 'StreamError';
  /** Backend error code carried by the stream, if any. */
  readonly code: string | number | undefined;
  constructor(
    message: string,
    details: { code?: string | number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.code = details.code;
  }
}

/** Only heartbeats arrived for longer than the turn-lost limit: the agent's turn is lost. */
export class TurnTimeoutError extends TimeoutError {
  override name = 'TurnTimeoutError';
}

/**
 * Disconnect recovery read the state repeatedly and saw no change: the turn
 * failed. From a durable workflow (`client.workflows`), `jobId` names the job
 * whose recorded message was lost: it is never sent again automatically.
 */
export class TurnLostError extends NemoError {
  override name = 'TurnLostError';
  /** The durable job whose message was lost, when a resume found it lost. */
  readonly jobId: string | undefined;
  constructor(message: string, options: NemoErrorOptions & { jobId?: string | undefined } = {}) {
    super(message, options);
    this.jobId = options.jobId;
  }
}

/** The draft has no track with segments, so there is nothing to export yet. */
export class DraftNotReadyError extends NemoError {
  override name = 'DraftNotReadyError';
}

/** The render job ended in `failed`. `reason` is the server's explanation. */
export class RenderFailedError extends NemoError {
  override name = 'RenderFailedError';
  readonly renderId: string;
  readonly reason: string | undefined;
  constructor(renderId: string, reason: string | undefined, message?: string) {
    super(
      message ??
        `Render ${renderId} failed${reason ? `: ${reason}` : ''}. Check the timeline with session.state() and start a new render.`,
    );
    this.renderId = renderId;
    this.reason = reason === undefined ? undefined : redact(reason);
  }
}

/** The render did not finish within the allowed number of polls or `maxWait`. */
export class RenderTimeoutError extends TimeoutError {
  override name = 'RenderTimeoutError';
  readonly renderId: string;
  constructor(renderId: string, timeoutMs: number, message: string) {
    super('render', timeoutMs, message);
    this.renderId = renderId;
  }
}

/** What a {@link DownloadError} knows beyond its message. */
export interface DownloadErrorDetails extends NemoErrorOptions {
  /** The HTTP status the server answered, when it refused the file. */
  httpStatus?: number | undefined;
  /** The file system's error code (`ENOSPC`, `EROFS`, `EACCES`, `ENAMETOOLONG`…) when the local disk failed. */
  code?: string | undefined;
  /** Where the bytes received so far are kept to resume from (a path target with `resume` on). */
  partialPath?: string | undefined;
  /** How many bytes `partialPath` holds. */
  partialBytes?: number | undefined;
}

/**
 * A download failed: the server refused the file (`httpStatus`), the body was
 * cut or did not match its announced size, or the local disk failed (`code`,
 * the file system's error, such as `ENOSPC`). When `partialPath` is set, the
 * bytes received so far are kept there and the next `download()` to the same
 * path resumes from them; otherwise nothing is left behind.
 */
export class DownloadError extends NemoError {
  override name = 'DownloadError';
  readonly httpStatus: number | undefined;
  readonly code: string | undefined;
  readonly partialPath: string | undefined;
  readonly partialBytes: number | undefined;
  constructor(message: string, details: DownloadErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.httpStatus = details.httpStatus;
    this.code = details.code;
    this.partialPath = details.partialPath;
    this.partialBytes = details.partialBytes;
  }
}

/**
 * An upload's source failed: a path that does not exist or cannot be read, a
 * file that changed while it was sent, a stream that errored or did not match
 * its declared size, or a one-shot stream that was not retried after a
 * transient failure (`cause` is that failure).
 */
export class UploadError extends NemoError {
  override name = 'UploadError';
}

/** Why a {@link JournalError} was raised. */
export type JournalProblem =
  /** The entry is not valid JSON or not a job record. */
  | 'corrupt'
  /** The entry was written by a newer release (a higher schema `version`). */
  | 'newer-version'
  /** The entry belongs to another job (another API, other inputs) than the one asked for. */
  | 'mismatch'
  /** An input file changed since it was uploaded for this job. */
  | 'input-changed'
  /** The journal could not be read or written (permissions, disk full…). */
  | 'io'
  /** Another process holds the job (see {@link JobLockedError}). */
  | 'locked';

/** What a {@link JournalError} knows beyond its message. */
export interface JournalErrorDetails extends NemoErrorOptions {
  jobId: string;
  problem: JournalProblem;
  /** Where the entry lives (a file path, "memory", a queue job…), when known. */
  location?: string | undefined;
}

/**
 * The job journal (durable workflows) cannot be used for this job: its entry
 * is corrupt or from a newer release, belongs to other inputs, an input file
 * changed since it was uploaded, or the journal could not be read or written.
 * The entry is left untouched; the message says how to clear it (remove the
 * entry, or run the job with `fresh`).
 */
export class JournalError extends NemoError {
  override name = 'JournalError';
  /** The job id. */
  readonly jobId: string;
  readonly problem: JournalProblem;
  /** Where the entry lives, when known. */
  readonly location: string | undefined;
  constructor(message: string, details: JournalErrorDetails) {
    super(message, { cause: details.cause });
    this.jobId = details.jobId;
    this.problem = details.problem;
    this.location = details.location;
  }
}

/**
 * Another process (or another call in this one) is running the job: its lock
 * names the holder. Wait for it to finish, or stop it; a lock left by a
 * process that no longer runs on this host is taken over automatically.
 */
export class JobLockedError extends JournalError {
  override name = 'JobLockedError';
  /** The holder's process id, when known. */
  readonly pid: number | undefined;
  /** The holder's host name, when known. */
  readonly hostname: string | undefined;
  constructor(
    message: string,
    details: Omit<JournalErrorDetails, 'problem'> & {
      pid?: number | undefined;
      hostname?: string | undefined;
    },
  ) {
    super(message, { ...details, problem: 'locked' });
    this.pid = details.pid;
    this.hostname = details.hostname;
  }
}

import {
  ApiError,
  AuthenticationError,
  ExportNotAllowedError,
  FileTooLargeError,
  InsufficientCreditsError,
  RateLimitError,
  SessionNotFoundError,
  UnsupportedFileTypeError,
} from './errors.js';

/** The documented backend codes (protocol §1.2). */
export const ErrorCode = {
  TokenExpired: 1001,
  SessionNotFound: 1002,
  InsufficientCredits: 2001,
  UnsupportedFileType: 4001,
  FileTooLarge: 4002,
} as const;

/**
 * What the error messages need to know about the backend (a structural slice of
 * core's `BackendProfile`, so this layer imports nothing of ours).
 */
export interface ErrorContext {
  webUrl: string;
  registerUrl: (userId: string, webUrl: string) => string;
  acceptedFormats: readonly string[];
  maxUploadBytes: number;
}

/** Everything known about a failed response. */
export interface ApiFailure {
  httpStatus: number;
  code: number | undefined;
  message: string | undefined;
  body: unknown;
  requestId: string | undefined;
  retryAfterMs: number | undefined;
  /** `METHOD /path`, for messages. */
  endpoint: string;
  /** The request was the anonymous-token request (where HTTP 400 means a missing client id). */
  anonymousTokenRequest: boolean;
  /** The anonymous user id, when known (for the registration link). */
  userId: string | undefined;
}

/** HTTP 400 on the anonymous-token request (or naming the client id): the `X-Client-Id` was missing. */
export function isMissingClientId(failure: ApiFailure): boolean {
  return (
    failure.httpStatus === 400 &&
    (failure.code === undefined || failure.code === 400) &&
    (failure.anonymousTokenRequest || /client.?id/i.test(failure.message ?? ''))
  );
}

function serverSays(message: string | undefined): string {
  return message ? ` The service said: "${message}".` : '';
}

/** Turn a failed response into the typed error for its code or status. A JSON code wins over the status. */
export function errorFromFailure(failure: ApiFailure, backend: ErrorContext): ApiError {
  const details = {
    httpStatus: failure.httpStatus,
    code: failure.code,
    requestId: failure.requestId,
    body: failure.body,
  };
  const said = serverSays(failure.message);
  switch (failure.code) {
    case ErrorCode.TokenExpired:
      return new AuthenticationError(
        `The token was rejected as expired or invalid (code 1001) on ${failure.endpoint}.${said} Supply a fresh token, or unset NEMO_TOKEN and omit the token option so the SDK gets an anonymous one.`,
        details,
      );
    case ErrorCode.SessionNotFound:
      return new SessionNotFoundError(
        `Session not found (code 1002) on ${failure.endpoint}.${said} Create a new session with client.sessions.create().`,
        details,
      );
    case ErrorCode.InsufficientCredits: {
      const registerUrl = failure.userId
        ? backend.registerUrl(failure.userId, backend.webUrl)
        : undefined;
      const next = registerUrl
        ? `Register at ${registerUrl} to keep your work and get more credits.`
        : 'Top up your account, then try again.';
      return new InsufficientCreditsError(`Out of credits (code 2001).${said} ${next}`, {
        ...details,
        registerUrl,
      });
    }
    case ErrorCode.UnsupportedFileType:
      return new UnsupportedFileTypeError(
        `Unsupported file type (code 4001).${said} Accepted formats: ${backend.acceptedFormats.join(', ')}.`,
        { ...details, acceptedFormats: backend.acceptedFormats },
      );
    case ErrorCode.FileTooLarge:
      return new FileTooLargeError(
        `File too large (code 4002).${said} The limit is ${formatBytes(backend.maxUploadBytes)}; compress or trim the video and upload it again.`,
        { ...details, maxBytes: backend.maxUploadBytes },
      );
    default:
      break;
  }
  // HTTP 429 is a rate limit whatever (undocumented) code the body carries.
  if (
    failure.code === undefined ||
    failure.code === failure.httpStatus ||
    failure.httpStatus === 429
  ) {
    switch (failure.httpStatus) {
      case 400:
        if (isMissingClientId(failure)) {
          return new ApiError(
            `The service requires an X-Client-Id header (HTTP 400) on ${failure.endpoint}.${said} Pass clientId, set NEMO_CLIENT_ID, or allow the SDK to write ~/.config/nemovideo/client_id.`,
            details,
          );
        }
        break;
      case 402:
        return new ExportNotAllowedError(
          `Export not allowed by your plan (HTTP 402).${said} This is a subscription limit, not a lack of credits: upgrade the plan on ${backend.webUrl}. If you set custom headers, keep the three attribution headers, without which exports also fail with 402.`,
          details,
        );
      case 429: {
        const wait =
          failure.retryAfterMs !== undefined
            ? `Wait ${Math.ceil(failure.retryAfterMs / 1000)} s`
            : 'Wait a little';
        const hint = failure.anonymousTokenRequest
          ? ' The service grants one anonymous token per client id while the last one is valid: reuse it (tokenStore option) or set NEMO_TOKEN.'
          : '';
        return new RateLimitError(
          `Rate limited (HTTP 429) on ${failure.endpoint}.${said} ${wait} and try again.${hint}`,
          { ...details, retryAfterMs: failure.retryAfterMs },
        );
      }
      default:
        break;
    }
  }
  const codePart = failure.code !== undefined ? ` with code ${failure.code}` : '';
  const next =
    failure.httpStatus >= 500
      ? 'The service had a problem; try again later.'
      : 'Check the request arguments; if they look right, report this with the request id.';
  return new ApiError(
    `The service answered HTTP ${failure.httpStatus}${codePart} on ${failure.endpoint}.${said} ${next}`,
    details,
  );
}

/** `524288000` → `500 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${+(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

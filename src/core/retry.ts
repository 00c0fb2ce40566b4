/**
 * The retry decision, as one pure function: given what happened to this
 * attempt and to the ones before it, and the request's policy, retry after
 * N ms or fail. No I/O, no clock, no randomness of its own (the caller draws
 * the jitter), so it is tested from a table (test/core/retry.test.ts).
 */

/**
 * When a request may be sent again after a failure.
 * - `safe`: replaying is harmless (reads, idempotent writes): retry 408, 5xx,
 *   connection failures and timeouts, plus the refusals below.
 * - `refusal-only`: only when the server refused the request before acting on
 *   it (429, 1001, missing client id). Used for `/run_sse`: a message the server
 *   may have received is never sent twice.
 * - `never`: no replay at all (a one-shot upload stream).
 */
export type ReplayPolicy = 'safe' | 'refusal-only' | 'never';

/** Retry timing: exponential backoff with jitter, and how long a server hint may make us wait. */
export interface RetryTiming {
  /** First backoff delay. */
  initialDelayMs: number;
  /** Largest backoff delay. */
  maxDelayMs: number;
  /** A server hint (`Retry-After`) longer than this is not waited for: the error is raised instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_TIMING: RetryTiming = {
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 120_000,
};

/** Everything the decision needs to know about a request's rules. */
export interface RetryPolicy extends RetryTiming {
  replay: ReplayPolicy;
  /** Transient failures retried at most this many times (the 429 wait needs it > 0 too). */
  maxRetries: number;
  /** The wait on a 429 without a hint (protocol §1.2: 30 s). */
  rateLimitDefaultWaitMs: number;
}

/** What went wrong with one attempt, as far as retrying is concerned. */
export type Outcome =
  /** The request did not get a response: refused, reset, DNS, TLS. */
  | { kind: 'connection' }
  /** The attempt's time limit ran out. */
  | { kind: 'timeout' }
  /** Code 1001 on a request that carried a token: a new token may help. */
  | { kind: 'token-rejected' }
  /** HTTP 400 naming the client id, on a request that sent one. */
  | { kind: 'missing-client-id' }
  /** HTTP 429 (not on the anonymous-token request, where waiting does not help). */
  | { kind: 'rate-limited'; retryAfterMs: number | undefined }
  /** 408 / 500 / 502 / 503 / 504 without another code. */
  | { kind: 'transient-status'; retryAfterMs: number | undefined }
  /** Anything else: a refusal that a replay cannot change. */
  | { kind: 'final' };

/** The attempt being judged: the outcomes of the attempts before it, and a jitter draw in [0, 1). */
export interface AttemptHistory {
  previous: readonly Outcome[];
  jitter: number;
}

/**
 * Retry after `retryAfterMs` (`renewToken`: with a new token first; `shared`: the
 * wait applies to every request of the client, through its rate budget, not to
 * this one alone), or fail with the attempt's error.
 */
export type RetryDecision =
  | { retryAfterMs: number; renewToken?: true; shared?: true }
  | { fail: true };

const FAIL: RetryDecision = { fail: true };

/** Delay before retry number `retry` (0-based): exponential, with up to 25 % jitter downwards. */
export function backoffDelay(retry: number, timing: RetryTiming, jitter: number): number {
  const base = Math.min(timing.maxDelayMs, timing.initialDelayMs * 2 ** retry);
  return Math.round(base * (1 - 0.25 * jitter));
}

const TRANSIENT = new Set<Outcome['kind']>(['connection', 'timeout', 'transient-status']);

/**
 * Decide whether attempt `previous.length + 1` is retried.
 *
 * - connection failures, timeouts, 408/5xx: only when replaying is `safe`, at
 *   most `maxRetries` times, after exponential backoff (a `Retry-After` on the
 *   response wins when it is at most `maxRetryAfterMs`);
 * - 1001: once, with a new token, unless replay is `never`;
 * - a missing client id: once;
 * - 429: once, unless replay is `never` or `maxRetries` is 0, after the
 *   server's hint or `rateLimitDefaultWaitMs`, a wait `shared` by every request
 *   of the client (the transport pauses its rate budget); a wait above
 *   `maxRetryAfterMs` is not waited for (the `RateLimitError` is raised with the hint);
 * - anything else: fail.
 */
export function decideRetry(
  attempt: AttemptHistory,
  outcome: Outcome,
  policy: RetryPolicy,
): RetryDecision {
  const seen = (kind: Outcome['kind']) => attempt.previous.some((o) => o.kind === kind);
  switch (outcome.kind) {
    case 'connection':
    case 'timeout':
    case 'transient-status': {
      const retries = attempt.previous.filter((o) => TRANSIENT.has(o.kind)).length;
      if (policy.replay !== 'safe' || retries >= policy.maxRetries) return FAIL;
      const hinted = outcome.kind === 'transient-status' ? outcome.retryAfterMs : undefined;
      if (hinted !== undefined && hinted <= policy.maxRetryAfterMs) return { retryAfterMs: hinted };
      return { retryAfterMs: backoffDelay(retries, policy, attempt.jitter) };
    }
    case 'token-rejected':
      if (policy.replay === 'never' || seen('token-rejected')) return FAIL;
      return { retryAfterMs: 0, renewToken: true };
    case 'missing-client-id':
      return seen('missing-client-id') ? FAIL : { retryAfterMs: 0 };
    case 'rate-limited': {
      if (policy.replay === 'never' || policy.maxRetries === 0 || seen('rate-limited')) return FAIL;
      const wait = outcome.retryAfterMs ?? policy.rateLimitDefaultWaitMs;
      return wait <= policy.maxRetryAfterMs ? { retryAfterMs: wait, shared: true } : FAIL;
    }
    case 'final':
      return FAIL;
  }
}

/**
 * The wait a response asks for, in ms, or `undefined` when it gives no usable
 * hint (`retry-after-ms`, `Retry-After` in seconds or as an HTTP date). Any
 * size is returned as is: callers compare it with their bound before waiting.
 */
export function parseRetryAfter(
  header: (name: string) => string | null,
  now: number,
): number | undefined {
  const ms = header('retry-after-ms');
  if (ms !== null) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const text = header('retry-after');
  if (text === null || text.trim() === '') return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

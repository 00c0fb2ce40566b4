/**
 * Retry timing: exponential backoff with jitter, and the server's own hints
 * (`retry-after-ms`, `Retry-After` in seconds or as an HTTP date).
 */

export interface RetryTiming {
  /** First backoff delay. */
  initialDelayMs: number;
  /** Largest backoff delay. */
  maxDelayMs: number;
  /** A server hint longer than this is not waited for: the error is raised instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_TIMING: RetryTiming = {
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 120_000,
};

/** Delay before retry number `retry` (0-based): exponential, with up to 25 % jitter downwards. */
export function backoffDelay(retry: number, timing: RetryTiming, random: () => number): number {
  const base = Math.min(timing.maxDelayMs, timing.initialDelayMs * 2 ** retry);
  return Math.round(base * (1 - 0.25 * random()));
}

/** The wait a response asks for, in ms, or `undefined` when it gives no usable hint. */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const header = headers.get('retry-after');
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

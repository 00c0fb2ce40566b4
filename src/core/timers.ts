import { AbortError } from '../errors/errors.js';

/**
 * Time as the SDK sees it. Inject a fake one (`new NemoClient({ clock })`) so
 * tests of retries, polling and recovery never sleep for real.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolve after `ms`; reject with `AbortError` as soon as `signal` aborts (and clear the timer). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: run `fn` after `ms` and return a function that cancels it. Used
   * for timeouts, which are almost always cancelled; without it the SDK uses
   * an aborted `sleep`.
   */
  schedule?(ms: number, fn: () => void): () => void;
}

/** The real clock, built on `Date.now` and `setTimeout` (so vitest fake timers drive it too). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortErrorFrom(signal));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortErrorFrom(signal));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The error to throw for an aborted signal: the caller's own `NemoError` reason, else a `AbortError`. */
export function abortErrorFrom(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof AbortError) return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') {
    return new AbortError(`The operation was aborted: ${reason.message}`, { cause: reason });
  }
  return new AbortError(undefined, { cause: reason });
}

/**
 * `clock.sleep`, normalised: whatever an injected clock rejects with on abort,
 * the caller gets the SDK's `AbortError`.
 */
export async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    if (signal?.aborted) throw abortErrorFrom(signal);
    throw error;
  }
}

/** Run `fn` after `ms` on `clock`; returns the cancel function. */
export function schedule(clock: Clock, ms: number, fn: () => void): () => void {
  if (clock.schedule) return clock.schedule(ms, fn);
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(fn, () => {});
  return () => controller.abort();
}

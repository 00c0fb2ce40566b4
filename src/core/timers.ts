import { AbortError } from '../errors/errors.js';

/**
 * Time as the SDK sees it. Inject a fake one (`new NemoClient({ clock })`) so
 * tests of retries, polling and recovery never sleep for real.
 *
 * The SDK never hands a clock a delay above 2³¹−1 ms (`MAX_TIMER_MS`): longer waits
 * are made of several capped ones, so a clock built on `setTimeout` cannot
 * overflow (where a delay above 2³¹−1 ms fires at once).
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

/** The longest delay `setTimeout` honours (2³¹−1 ms, about 24.8 days); above it, it fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay a timer can take: finite, ≥ 0, at most {@link MAX_TIMER_MS}. `Infinity` and NaN become the cap. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_TIMER_MS || !Number.isFinite(ms) ? MAX_TIMER_MS : ms;
}

/** The real clock, built on `Date.now` and `setTimeout` (so vitest fake timers drive it too). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    return schedule(plainClock, ms, fn);
  },
  sleep(ms, signal) {
    return sleep(plainClock, ms, signal);
  },
};

/** `setTimeout` itself; only ever called with capped delays (through the helpers below). */
const plainClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
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
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The error to throw for an aborted signal: the caller's own `NemoError` reason, else an `AbortError`. */
export function abortErrorFrom(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof AbortError) return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') {
    return new AbortError(`The operation was aborted: ${reason.message}`, { cause: reason });
  }
  return new AbortError(undefined, { cause: reason });
}

/**
 * Wait `ms` on `clock`, abortable. Every layer waits through this: delays above
 * {@link MAX_TIMER_MS} are slept in capped steps, and whatever an injected clock
 * rejects with on abort, the caller gets the SDK's `AbortError`.
 */
export async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  let left = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  try {
    do {
      const step = timerDelay(left);
      await clock.sleep(step, signal);
      // An infinite wait only ends by abort: it sleeps capped steps forever.
      if (Number.isFinite(left)) left -= step;
    } while (left > 0);
  } catch (error) {
    if (signal?.aborted) throw abortErrorFrom(signal);
    throw error;
  }
}

/**
 * Run `fn` after `ms` on `clock`; returns the cancel function. Delays above
 * {@link MAX_TIMER_MS} re-arm in capped steps; a non-finite delay never fires.
 */
export function schedule(clock: Clock, ms: number, fn: () => void): () => void {
  if (!Number.isFinite(ms)) return () => {};
  let cancelled = false;
  let cancelStep: () => void = () => {};
  const arm = (left: number) => {
    const step = timerDelay(left);
    const rest = left - step;
    const fire = () => {
      if (cancelled) return;
      if (rest > 0) arm(rest);
      else fn();
    };
    if (clock.schedule) {
      cancelStep = clock.schedule(step, fire);
    } else {
      const controller = new AbortController();
      clock.sleep(step, controller.signal).then(fire, () => {});
      cancelStep = () => controller.abort();
    }
  };
  arm(Math.max(0, ms));
  return () => {
    cancelled = true;
    cancelStep();
  };
}

/** A deadline armed on a clock: aborts its `signal` after `ms`, unless cancelled first. */
export interface Deadline {
  /** Aborts when the time runs out (reason: the `reason()` given, else a plain `Error`). */
  readonly signal: AbortSignal;
  /** True once the time ran out. */
  readonly fired: boolean;
  /** Stop the timer (idempotent). */
  cancel(): void;
}

/**
 * Abort a signal after `ms` on `clock` (the one "abort after N ms" of the SDK:
 * request timeouts, header deadlines). `0`, a negative or a non-finite `ms`
 * never fires.
 */
export function deadline(clock: Clock, ms: number, reason?: () => unknown): Deadline {
  const controller = new AbortController();
  let fired = false;
  const cancel =
    Number.isFinite(ms) && ms > 0
      ? schedule(clock, ms, () => {
          fired = true;
          controller.abort(reason?.() ?? new Error(`deadline of ${ms} ms`));
        })
      : () => {};
  return {
    signal: controller.signal,
    get fired() {
      return fired;
    },
    cancel,
  };
}

/** A stall watchdog: calls `onIdle` once when `touch()` was not called for `ms`. */
export interface IdleTimer {
  /** Activity: restart the idle time. */
  touch(): void;
  /** Stop watching (idempotent). */
  stop(): void;
  /** True once it fired. */
  readonly fired: boolean;
}

/**
 * Watch for stalls on `clock` without re-arming a timer on every `touch()`:
 * the timer wakes at the earliest time the idle limit could be reached and
 * sleeps again for what is left. A non-finite or non-positive `ms` never fires.
 */
export function idleTimer(clock: Clock, ms: number, onIdle: () => void): IdleTimer {
  let last = clock.now();
  let fired = false;
  let stopped = false;
  let cancel: () => void = () => {};
  const wake = () => {
    if (stopped) return;
    const idle = clock.now() - last;
    if (idle >= ms) {
      fired = true;
      stopped = true;
      onIdle();
      return;
    }
    cancel = schedule(clock, ms - idle, wake);
  };
  if (Number.isFinite(ms) && ms > 0) cancel = schedule(clock, ms, wake);
  return {
    touch: () => {
      last = clock.now();
    },
    stop: () => {
      stopped = true;
      cancel();
    },
    get fired() {
      return fired;
    },
  };
}

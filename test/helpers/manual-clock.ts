import type { Clock } from '../../src/helpers.js';

interface PendingSleep {
  at: number;
  ms: number;
  resolve: () => void;
}

/** Flush promise callbacks and pending I/O callbacks. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. Every `sleep` is recorded, so tests can
 * assert the exact waits (backoff, Retry-After, 30 s) without sleeping.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #pending: PendingSleep[] = [];
  /** Every duration passed to `sleep`, in call order. */
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2026, 10, 24)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      const entry: PendingSleep = { at: this.#now + ms, ms, resolve };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.#pending.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.#pending.indexOf(entry);
          if (i >= 0) this.#pending.splice(i, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Durations of the sleeps still waiting. */
  pending(): number[] {
    return this.#pending.map((p) => p.ms);
  }

  /** Ms from now until the earliest pending sleep ends, or `undefined` when none is pending. */
  untilNext(): number | undefined {
    if (this.#pending.length === 0) return undefined;
    return Math.max(0, Math.min(...this.#pending.map((p) => p.at)) - this.#now);
  }

  /** Wait (in real I/O turns) until a sleep of `ms` is pending. */
  async waitForSleep(ms: number, maxTurns = 500): Promise<void> {
    for (let i = 0; i < maxTurns; i++) {
      if (this.#pending.some((p) => p.ms === ms)) return;
      await flush();
    }
    throw new Error(`no sleep of ${ms} ms was requested; pending: ${this.pending().join(', ')}`);
  }

  /** Wait until a sleep matching `accept` is pending, and return its duration. */
  async nextSleep(accept: (ms: number) => boolean, maxTurns = 500): Promise<number> {
    for (let i = 0; i < maxTurns; i++) {
      const found = this.#pending.find((p) => accept(p.ms));
      if (found) return found.ms;
      await flush();
    }
    throw new Error(`no matching sleep was requested; pending: ${this.pending().join(', ')}`);
  }

  /** Move time forward, firing due sleeps in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#pending.sort((a, b) => a.at - b.at);
      const next = this.#pending[0];
      if (!next || next.at > target) break;
      this.#pending.shift();
      this.#now = next.at;
      next.resolve();
      await flush();
    }
    this.#now = target;
    await flush();
  }
}

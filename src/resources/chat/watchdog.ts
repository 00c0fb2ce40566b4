/**
 * The time limits of a chat turn, on the client's clock: the hard limit of
 * the turn, the idle limit (no bytes at all), and the heartbeat-only limit
 * (bytes, but only heartbeats). One timer at a time, re-armed for the nearest
 * limit; nothing is left behind once the turn is over.
 */
import { type Clock, schedule } from '../../core/timers.js';
import { ConfigError, TimeoutError, TurnTimeoutError } from '../../errors/errors.js';
import type { NetworkWatch } from './reader.js';

/** The limits in ms; `0` turns one off. */
export interface TurnLimits {
  hardMs: number;
  idleMs: number;
  heartbeatMs: number;
}

/** A limit option: a number of ms ≥ 0; `0` or `Infinity` turns it off (→ 0). */
export function limitOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new ConfigError(
      `${name} must be a number of ms ≥ 0, or 0 / Infinity to turn it off (got ${String(value)}).`,
    );
  }
  return v === Number.POSITIVE_INFINITY ? 0 : v;
}

function describeMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

const NOT_RESENT = 'The message was not re-sent; read session.state() to see what the agent did.';

/**
 * Watches one turn. The reader reports its network waits ({@link NetworkWatch});
 * the idle and heartbeat-only limits count only time spent waiting on the
 * network, so time the SDK does not read (its read-ahead is full) never counts.
 */
export class TurnWatchdog implements NetworkWatch {
  readonly #clock: Clock;
  readonly #limits: TurnLimits;
  readonly #onTimeout: (error: TimeoutError) => void;
  readonly #startedAt: number;
  /** Since when the reader waits on the network (`undefined` while it does not). */
  #waitingSince: number | undefined;
  /** Network wait since the last bytes that were not only heartbeats (finished waits only). */
  #quietMs = 0;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(clock: Clock, limits: TurnLimits, onTimeout: (error: TimeoutError) => void) {
    this.#clock = clock;
    this.#limits = limits;
    this.#onTimeout = onTimeout;
    this.#startedAt = clock.now();
    // The request is on its way: waiting for the response counts as waiting on the network.
    this.#waitingSince = this.#startedAt;
    this.#arm();
  }

  waiting(): void {
    this.#waitingSince = this.#clock.now();
  }

  received(content: boolean): void {
    const since = this.#waitingSince;
    this.#waitingSince = undefined;
    if (content) this.#quietMs = 0;
    else if (since !== undefined) this.#quietMs += this.#clock.now() - since;
  }

  finished(): void {
    this.stop();
  }

  /** No limit applies any more: cancel the timer (idempotent). */
  stop(): void {
    this.#stopped = true;
    const cancel = this.#cancel;
    this.#cancel = undefined;
    cancel?.();
  }

  /** Arm one timer for the nearest limit, or fire the one that is due. */
  #arm(): void {
    this.#cancel = undefined;
    if (this.#stopped) return;
    const { hardMs, idleMs, heartbeatMs } = this.#limits;
    if (!hardMs && !idleMs && !heartbeatMs) return;
    const now = this.#clock.now();
    const since = this.#waitingSince;
    const waited = since === undefined ? 0 : now - since;
    let wait = Number.POSITIVE_INFINITY;
    if (hardMs) {
      const left = this.#startedAt + hardMs - now;
      if (left <= 0) {
        this.#fire('hard');
        return;
      }
      wait = left;
    }
    if (idleMs) {
      const left = idleMs - waited;
      if (left <= 0) {
        this.#fire('idle');
        return;
      }
      wait = Math.min(wait, left);
    }
    if (heartbeatMs && since !== undefined) {
      // Judged only while waiting on the network: the reader judges bytes as they arrive.
      const left = heartbeatMs - (this.#quietMs + waited);
      if (left <= 0) {
        this.#fire('heartbeat');
        return;
      }
      wait = Math.min(wait, left);
    }
    // Not waiting (read-ahead full) with only the heartbeat limit on: look again later.
    if (wait === Number.POSITIVE_INFINITY) wait = heartbeatMs;
    // The core timer helper caps each step at 2^31-1 ms (setTimeout would fire at once beyond).
    this.#cancel = schedule(this.#clock, wait, () => this.#arm());
  }

  #fire(which: 'hard' | 'idle' | 'heartbeat'): void {
    this.#stopped = true;
    const { hardMs, idleMs, heartbeatMs } = this.#limits;
    let error: TimeoutError;
    if (which === 'hard') {
      error = new TimeoutError(
        'turn-hard-limit',
        hardMs,
        `The chat turn exceeded its hard limit of ${describeMs(hardMs)} and was stopped (hardTimeout option; default backend.turn.hardTimeoutMs). ${NOT_RESENT}`,
      );
    } else if (which === 'idle') {
      error = new TimeoutError(
        'stream-idle',
        idleMs,
        `No bytes arrived on the chat stream for ${describeMs(idleMs)}: the connection is considered dead (idleTimeout option). ${NOT_RESENT}`,
      );
    } else {
      error = new TurnTimeoutError(
        'turn-heartbeats-only',
        heartbeatMs,
        `Only heartbeats arrived on the chat stream for ${describeMs(heartbeatMs)}: the turn is considered lost (heartbeatTimeout option; default backend.turn.heartbeatOnlyTimeoutMs). ${NOT_RESENT}`,
      );
    }
    this.#onTimeout(error);
  }
}

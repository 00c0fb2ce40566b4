import { type Clock, systemClock } from './timers.js';

/**
 * One 429 backoff shared by every request of a client (or of every client and
 * process that share the budget). A 429 anywhere pauses them all until its
 * `Retry-After` has passed, instead of each request backing off on its own and
 * the others running into the same limit meanwhile.
 *
 * The transport asks {@link RateBudget.remaining} before sending each API
 * request (not the CDN's) and waits that long; on a 429 it calls
 * {@link RateBudget.pause} with the wait the service asked for (or the
 * documented 30 s). Times are durations, never clock readings, so a budget kept
 * elsewhere (Redis: `nemovideo/redis`) measures them with its own clock and
 * machines whose clocks disagree still agree on the pause.
 *
 * A budget is advice, like a token store is a cache: when one fails, the SDK
 * logs a warning and sends the request.
 *
 * @example
 * ```ts
 * import { NemoClient } from 'nemovideo';
 * import { MemoryRateBudget } from 'nemovideo/helpers';
 *
 * // Two clients in one process (two API keys, say) that the service limits together.
 * const rateBudget = new MemoryRateBudget();
 * const a = new NemoClient({ token: 'nmv_usr_a…', rateBudget });
 * const b = new NemoClient({ token: 'nmv_usr_b…', rateBudget });
 * ```
 */
export interface RateBudget {
  /** Where the pause is kept, for messages ("memory", a Redis key…). Optional. */
  readonly location?: string | undefined;
  /** Milliseconds every request must still wait before it is sent (0: send now). */
  remaining(): number | Promise<number>;
  /** Pause every request for `ms`. A shorter pause never cuts a longer one in force short. */
  pause(ms: number): void | Promise<void>;
}

/**
 * A rate budget in this process's memory: the default of every client (each
 * client its own), or one instance shared by several clients.
 */
export class MemoryRateBudget implements RateBudget {
  readonly location = 'memory (this process)';
  readonly #clock: Clock;
  #until = 0;

  /** @param clock time source (inject the client's fake clock in tests). */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** @example `const wait = budget.remaining(); // 0 unless a 429 paused the client` */
  remaining(): number {
    return Math.max(0, this.#until - this.#clock.now());
  }

  /** @example `budget.pause(30_000); // every request waits 30 s` */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#until = Math.max(this.#until, this.#clock.now() + ms);
  }
}

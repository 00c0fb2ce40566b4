import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { looseNumber, type Schema } from '../../core/schema.js';
import type { RequestOptions } from '../../core/transport.js';

const balanceData: Schema<CreditBalance> = z.pipe(
  z.looseObject({
    available: looseNumber,
    frozen: z.optional(z.nullable(looseNumber)),
    total: z.optional(z.nullable(looseNumber)),
  }),
  z.transform((d) => {
    const frozen = d.frozen ?? 0;
    return { available: d.available, frozen, total: d.total ?? d.available + frozen };
  }),
);

/** Credit balance. `frozen` is reserved by work in progress; `total = available + frozen`. */
export interface CreditBalance {
  /** Credits you can spend now. */
  available: number;
  /** Credits reserved by work in progress. */
  frozen: number;
  /** `available + frozen`. */
  total: number;
}

/** `client.credits`: the account's credits. */
export class CreditsResource {
  readonly #ctx: ClientContext;

  /** @internal Use `client.credits` / `client.sessions`. */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /**
   * Read the credit balance.
   *
   * @example
   * ```ts
   * const { available, frozen, total } = await client.credits.balance();
   * console.log(`${available} credits left (${frozen} reserved)`);
   * ```
   */
  balance(options: RequestOptions = {}): Promise<CreditBalance> {
    return this.#ctx.transport.json({
      ...options,
      method: 'GET',
      path: this.#ctx.backend.paths.creditsBalance,
      replay: 'safe',
      schema: balanceData,
      what: 'the credits response',
    });
  }
}

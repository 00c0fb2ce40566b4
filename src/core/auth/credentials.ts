import * as z from 'zod/mini';
import { ApiError, ConfigError, RateLimitError } from '../../errors/errors.js';
import { registerSecret } from '../../errors/redact.js';
import type { BackendProfile } from '../backend.js';
import { readEnv } from '../env.js';
import { headerValueProblem } from '../headers.js';
import type { LevelLogger } from '../logger.js';
import { decodeWith, idString, looseNumber } from '../schema.js';
import { raceSignal } from '../signal.js';
import type { Clock } from '../timers.js';
import type { ClientIdSource } from './client-id.js';
import type { StoredToken, TokenStore } from './token-store.js';

/** A token, or a function returning one (called again when the service rejects the last). */
export type TokenOption = string | (() => string | Promise<string>);

/** Where the token in use came from. */
export type TokenSourceKind = 'option' | 'function' | 'env' | 'anonymous';

/** What the service granted with an anonymous token (the token itself is not included). */
export interface AnonymousGrant {
  credits: number | undefined;
  userId: string | undefined;
  expiresAt: Date | undefined;
  obtainedAt: Date;
}

const anonymousTokenData = z.pipe(
  z.looseObject({
    token: z.string().check(z.minLength(1)),
    credits: z.optional(z.nullable(looseNumber)),
    user_id: z.optional(z.nullable(idString)),
    expires_at: z.optional(z.nullable(z.union([z.string(), z.number()]))),
  }),
  z.transform((d) => ({
    token: d.token,
    credits: d.credits ?? undefined,
    userId: d.user_id ?? undefined,
    expiresAt: parseExpiry(d.expires_at ?? undefined),
  })),
);

/** A token the user supplied, refused with a typed error (that never quotes it) when it cannot go in a header. */
function checkedUserToken(token: string, from: string): string {
  const problem = headerValueProblem(token);
  if (problem !== undefined) {
    throw new ConfigError(
      `${from} contains ${problem}, which cannot be sent in an Authorization header. Copy the token again without line breaks or stray characters.`,
    );
  }
  return token;
}

/** ISO-8601 string, epoch seconds or epoch ms → epoch ms. */
function parseExpiry(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface CredentialsConfig {
  token: TokenOption | undefined;
  /** The API base URL: stored tokens are keyed by it. */
  baseUrl: string;
  /**
   * Sends the anonymous-token request (no bearer, `X-Client-Id`) and resolves with
   * the envelope's `data`. The transport that owns these credentials supplies it.
   */
  requestAnonymousToken: (signal?: AbortSignal) => Promise<unknown>;
  clientIds: ClientIdSource;
  store: TokenStore;
  clock: Clock;
  logger: LevelLogger;
  backend: BackendProfile;
}

/**
 * Supplies the bearer token: the `token` option, else `NEMO_TOKEN`, else an
 * anonymous token. Anonymous tokens are fetched once for many concurrent
 * callers (single flight), reused from the token store, renewed shortly before
 * a known expiry, and replaced once when the service answers 1001.
 */
export class Credentials {
  readonly kind: TokenSourceKind;
  readonly #config: CredentialsConfig;
  #current: StoredToken | undefined;
  #inflight: Promise<StoredToken> | undefined;
  #userToken: string | undefined;
  #userTokenInflight: Promise<string> | undefined;
  /** Tokens the service rejected with 1001: never reused from the store. */
  readonly #rejected = new Set<string>();
  /** The token whose early renewal the service refused (429); used until it lapses. */
  #renewalRefusedFor: string | undefined;

  constructor(config: CredentialsConfig) {
    this.#config = config;
    const env = readEnv('NEMO_TOKEN');
    if (typeof config.token === 'string') {
      if (config.token.trim() === '') {
        throw new ConfigError(
          'The token option is an empty string. Pass a token, or omit it to use NEMO_TOKEN or an anonymous token.',
        );
      }
      this.kind = 'option';
      this.#userToken = checkedUserToken(config.token, 'The token option');
    } else if (typeof config.token === 'function') {
      this.kind = 'function';
    } else if (env !== undefined) {
      this.kind = 'env';
      this.#userToken = checkedUserToken(env, 'NEMO_TOKEN');
    } else {
      this.kind = 'anonymous';
    }
    registerSecret(this.#userToken, true);
  }

  /** The grant behind the anonymous token in use, if any. */
  get grant(): AnonymousGrant | undefined {
    const t = this.#current;
    if (!t || this.kind !== 'anonymous') return undefined;
    return {
      credits: t.credits,
      userId: t.userId,
      expiresAt: t.expiresAt === undefined ? undefined : new Date(t.expiresAt),
      obtainedAt: new Date(t.obtainedAt),
    };
  }

  userId(): string | undefined {
    return this.#current?.userId;
  }

  clientId(): Promise<string> {
    return this.#config.clientIds.get();
  }

  async token(signal?: AbortSignal): Promise<string> {
    switch (this.kind) {
      case 'option':
      case 'env':
        return this.#userToken as string;
      case 'function':
        if (this.#userToken !== undefined) return this.#userToken;
        return raceSignal(this.#callTokenFunction(), signal);
      case 'anonymous':
        return (await raceSignal(this.#anonymous(), signal)).token;
    }
  }

  async onTokenRejected(token: string, signal?: AbortSignal): Promise<boolean> {
    switch (this.kind) {
      case 'option':
      case 'env':
        return false;
      case 'function':
        // Another caller already replaced the rejected token: replay with the new one.
        if (this.#userToken !== undefined && this.#userToken !== token) return true;
        this.#userToken = undefined;
        await raceSignal(this.#callTokenFunction(), signal);
        return true;
      case 'anonymous': {
        // Synchronously, so that every concurrent caller joins one refresh and none can pick
        // the rejected token back up from the store.
        this.#rejected.add(token);
        if (this.#current?.token === token) this.#current = undefined;
        await raceSignal(this.#anonymous(), signal);
        return true;
      }
    }
  }

  #callTokenFunction(): Promise<string> {
    const fn = this.#config.token as () => string | Promise<string>;
    this.#userTokenInflight ??= (async () => {
      try {
        const value = await fn();
        if (typeof value !== 'string' || value.trim() === '') {
          throw new ConfigError(
            'The token function returned no token. It must return a non-empty string (or a promise of one).',
          );
        }
        registerSecret(value);
        this.#userToken = checkedUserToken(value, 'The token returned by the token function');
        return value;
      } finally {
        this.#userTokenInflight = undefined;
      }
    })();
    return this.#userTokenInflight;
  }

  /** The anonymous token: current, stored, or newly granted, one request for all concurrent callers. */
  #anonymous(): Promise<StoredToken> {
    const now = this.#config.clock.now();
    const current = this.#current;
    if (current && !this.#expiresSoon(current, now)) return Promise.resolve(current);
    if (
      current &&
      this.#renewalRefusedFor === current.token &&
      current.expiresAt !== undefined &&
      now < current.expiresAt
    ) {
      return Promise.resolve(current);
    }
    this.#inflight ??= this.#obtain(current).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /**
   * A token store is a cache: when it fails, log and carry on with a token in memory rather
   * than fail a request that already has (or can get) a token.
   */
  async #storeCall<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#config.logger.warn(`could not ${what} the token store: ${reason}`);
      return undefined;
    }
  }

  /** Tokens are stored per API base URL and client id: a token of one service is never sent to another. */
  async #storeKey(): Promise<string> {
    return `${this.#config.baseUrl} ${await this.#config.clientIds.get()}`;
  }

  #expiresSoon(token: StoredToken, now: number): boolean {
    return (
      token.expiresAt !== undefined &&
      now >= token.expiresAt - this.#config.backend.tokenRenewMarginMs
    );
  }

  /**
   * A 429 on the token request: the service grants one anonymous token per client
   * id while the last is valid, so waiting does not help. Say what does.
   */
  #tokenRefused(error: RateLimitError): RateLimitError {
    const { store, clientIds } = this.#config;
    const where = store.location
      ? `the SDK keeps it in ${store.location}; if that file was deleted or is not shared with this process (another configDir / NEMO_CONFIG_DIR, or clientIdFile: false), the token is lost until it expires`
      : 'this client keeps tokens in a tokenStore that did not have it';
    const idFrom = clientIds.describe();
    return new RateLimitError(
      `The service refused a new anonymous token (HTTP 429): it grants one per client id while the last one is valid (7 days), and ${where}. Ways out: set NEMO_TOKEN (or the token option) to a token you have; or use another client id (NEMO_CLIENT_ID or the clientId option; this one comes from ${idFrom}); or run with the same config folder as the process that got the token.`,
      {
        httpStatus: error.httpStatus,
        code: error.code,
        requestId: error.requestId,
        body: error.body,
        retryAfterMs: error.retryAfterMs,
        cause: error,
      },
    );
  }

  /**
   * The stored token, when it can be used instead of asking for one: not the
   * token being replaced, not rejected (1001), sendable in a header, not about
   * to expire. A rejected or damaged one is deleted, unless another process may
   * be storing a new token meanwhile (`mayDelete` false: a lockable store read
   * without its lock).
   */
  async #usableStored(key: string, replacing: StoredToken | undefined, mayDelete: boolean) {
    const { store, clock, logger } = this.#config;
    const stored = await this.#storeCall('read', () => store.get(key));
    if (!stored || stored.token === replacing?.token) return undefined;
    if (this.#rejected.has(stored.token)) {
      if (mayDelete) await this.#storeCall('delete', () => store.delete(key));
      return undefined;
    }
    if (headerValueProblem(stored.token) !== undefined) {
      // A damaged or edited store: never send it; ask for a new token instead.
      logger.warn('the token store held a token that cannot be sent in a header; ignoring it');
      if (mayDelete) await this.#storeCall('delete', () => store.delete(key));
      return undefined;
    }
    if (this.#expiresSoon(stored, clock.now())) return undefined;
    registerSecret(stored.token);
    this.#current = stored;
    return stored;
  }

  /**
   * A token for this client: the stored one, else a new grant. With a store that
   * can lock, the grant is asked for under the store's lock, and the store is
   * read again once the lock is held: another process (or client) that held it
   * may have just stored a new token, which is used instead of asking again.
   */
  async #obtain(previous: StoredToken | undefined): Promise<StoredToken> {
    const { store } = this.#config;
    const key = await this.#storeKey();
    if (!previous) {
      const stored = await this.#usableStored(key, undefined, !store.lock);
      if (stored) return stored;
    }
    const lock = store.lock
      ? await this.#storeCall('lock', () => (store.lock as NonNullable<TokenStore['lock']>)(key))
      : undefined;
    try {
      if (lock) {
        const stored = await this.#usableStored(key, previous, true);
        if (stored) return stored;
      }
      return await this.#grant(key, previous);
    } finally {
      if (lock) await this.#storeCall('unlock', () => lock.release());
    }
  }

  /** Ask the service for a new anonymous token and store it. */
  async #grant(key: string, previous: StoredToken | undefined): Promise<StoredToken> {
    const { store, clock, backend, logger } = this.#config;
    try {
      const granted = decodeWith(
        anonymousTokenData,
        await this.#config.requestAnonymousToken(),
        'the anonymous-token response',
      );
      registerSecret(granted.token);
      const problem = headerValueProblem(granted.token);
      if (problem !== undefined) {
        throw new ApiError(
          `The service granted an anonymous token that contains ${problem}, which cannot be sent in an Authorization header. The service (or something between it and you) is misbehaving: check baseUrl / NEMO_API_URL, or set NEMO_TOKEN.`,
          { httpStatus: 200 },
        );
      }
      const now = clock.now();
      const token: StoredToken = {
        token: granted.token,
        credits: granted.credits,
        userId: granted.userId,
        expiresAt: granted.expiresAt ?? now + backend.anonymousTokenTtlMs,
        obtainedAt: now,
      };
      this.#current = token;
      await this.#storeCall('save', () => store.set(key, token));
      logger.info('obtained an anonymous token');
      return token;
    } catch (error) {
      // Renewing early may be refused while the old token is still valid: keep using it.
      if (
        error instanceof RateLimitError &&
        previous?.expiresAt !== undefined &&
        clock.now() < previous.expiresAt
      ) {
        logger.debug(
          'early token renewal refused (429); keeping the current token until it lapses',
        );
        this.#renewalRefusedFor = previous.token;
        return previous;
      }
      if (error instanceof RateLimitError) throw this.#tokenRefused(error);
      throw error;
    }
  }
}

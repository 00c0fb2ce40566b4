/**
 * The retry decision as a table: (earlier outcomes, this outcome, policy) →
 * retry after N ms, or fail. No HTTP, no clock.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_TIMING,
  decideRetry,
  type Outcome,
  type RetryDecision,
  type RetryPolicy,
} from '../../src/core/retry.js';

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  ...DEFAULT_RETRY_TIMING, // 500 ms initial, 8 s max, hints up to 120 s
  replay: 'safe',
  maxRetries: 2,
  rateLimitDefaultWaitMs: 30_000,
  ...over,
});

const connection: Outcome = { kind: 'connection' };
const timeout: Outcome = { kind: 'timeout' };
const status503: Outcome = { kind: 'transient-status', retryAfterMs: undefined };
const tokenRejected: Outcome = { kind: 'token-rejected' };
const noClientId: Outcome = { kind: 'missing-client-id' };
const limited = (retryAfterMs?: number): Outcome => ({ kind: 'rate-limited', retryAfterMs });
const FAIL: RetryDecision = { fail: true };

type Row = [
  name: string,
  previous: Outcome[],
  outcome: Outcome,
  policy: RetryPolicy,
  expected: RetryDecision,
];

const YEAR = 365 * 24 * 3600 * 1000;

const table: Row[] = [
  // transient failures: backoff 500, 1000, 2000… (jitter 0), only where replay is safe
  ['1st connection failure', [], connection, policy(), { retryAfterMs: 500 }],
  ['2nd failure doubles', [connection], timeout, policy(), { retryAfterMs: 1_000 }],
  ['retries run out', [connection, timeout], status503, policy(), FAIL],
  ['maxRetries 0', [], connection, policy({ maxRetries: 0 }), FAIL],
  [
    'backoff is capped',
    [connection, connection, connection, connection, connection],
    connection,
    policy({ maxRetries: 9 }),
    { retryAfterMs: 8_000 },
  ],
  [
    'refusal-only never replays a transient failure',
    [],
    connection,
    policy({ replay: 'refusal-only' }),
    FAIL,
  ],
  ['never never replays', [], status503, policy({ replay: 'never' }), FAIL],
  [
    'a 503 hint wins over backoff',
    [],
    { kind: 'transient-status', retryAfterMs: 7_000 },
    policy(),
    { retryAfterMs: 7_000 },
  ],
  [
    'a 503 hint above the cap falls back to backoff',
    [],
    { kind: 'transient-status', retryAfterMs: YEAR },
    policy(),
    { retryAfterMs: 500 },
  ],
  // 1001: one renewal, not for `never`
  [
    '1001 renews the token once',
    [],
    tokenRejected,
    policy({ replay: 'refusal-only' }),
    { retryAfterMs: 0, renewToken: true },
  ],
  ['a second 1001 fails', [tokenRejected], tokenRejected, policy(), FAIL],
  ['1001 with replay never fails', [], tokenRejected, policy({ replay: 'never' }), FAIL],
  [
    '1001 renews even with maxRetries 0',
    [],
    tokenRejected,
    policy({ maxRetries: 0 }),
    { retryAfterMs: 0, renewToken: true },
  ],
  // missing client id: once
  ['missing client id retried once', [], noClientId, policy(), { retryAfterMs: 0 }],
  ['missing client id twice fails', [noClientId], noClientId, policy(), FAIL],
  // 429: once, the hint or 30 s, never above the cap (no overflow, no immediate re-send); the
  // wait is shared: every request of the client waits it out (the rate budget), not this one alone
  [
    '429 without a hint waits 30 s, shared',
    [],
    limited(),
    policy({ replay: 'refusal-only' }),
    { retryAfterMs: 30_000, shared: true },
  ],
  [
    '429 with a hint waits the hint, shared',
    [],
    limited(3_000),
    policy(),
    { retryAfterMs: 3_000, shared: true },
  ],
  ['429 a second time fails', [limited(1)], limited(1), policy(), FAIL],
  ['429 with a year-long hint fails at once', [], limited(YEAR), policy(), FAIL],
  [
    '429 with a hint just at the cap waits',
    [],
    limited(120_000),
    policy(),
    { retryAfterMs: 120_000, shared: true },
  ],
  ['429 with maxRetries 0 fails', [], limited(), policy({ maxRetries: 0 }), FAIL],
  ['429 with replay never fails', [], limited(), policy({ replay: 'never' }), FAIL],
  [
    '429 does not use up the transient retries',
    [limited(1)],
    connection,
    policy(),
    { retryAfterMs: 500 },
  ],
  // anything else
  ['a final refusal fails', [], { kind: 'final' }, policy(), FAIL],
];

describe('decideRetry', () => {
  it.each(table)('%s', (_name, previous, outcome, p, expected) => {
    expect(decideRetry({ previous, jitter: 0 }, outcome, p)).toEqual(expected);
  });

  it('takes up to 25 % off a backoff with the jitter draw', () => {
    expect(decideRetry({ previous: [], jitter: 0.999 }, connection, policy())).toEqual({
      retryAfterMs: 375,
    });
  });
});

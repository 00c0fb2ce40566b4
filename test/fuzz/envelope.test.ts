/**
 * Envelope fuzzing through the public API: whatever JSON (or junk) the server
 * answers, with whatever status and content type, `credits.balance()`,
 * `sessions.create()` and the anonymous-token request only ever resolve with a
 * well-typed value or reject with a `NemoError`.
 */
import fc from 'fast-check';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { isNemoError, NemoClient } from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';
import {
  dataArb,
  envelopeArb,
  fuzzParams,
  idArb,
  instantClock,
  looseNumberArb,
  toResponse,
  type WireResponse,
  wireArb,
} from './arbitraries.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const CREATE = `${BASE}/api/tasks/me/with-session/nemo_agent`;
const TOKEN = `${BASE}/api/auth/anonymous-token`;
const RUNS = 300;

function client(options: { token?: string } = {}) {
  return new NemoClient({
    clientIdFile: false,
    clientId: 'fuzz-client',
    logLevel: 'off',
    clock: instantClock,
    maxRetries: 2,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
}

/** Settle `promise`; fail the property unless it is a value accepted by `check` or a NemoError. */
async function onlyNemoErrors<T>(promise: Promise<T>, check: (value: T) => void): Promise<void> {
  let value: T;
  try {
    value = await promise;
  } catch (error) {
    if (!isNemoError(error)) {
      throw new Error(`rejected with a non-NemoError: ${String(error)}`, { cause: error });
    }
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    expect(() => JSON.stringify(error)).not.toThrow();
    return;
  }
  check(value);
}

const balanceWire = wireArb(
  envelopeArb(
    dataArb({ available: looseNumberArb, frozen: looseNumberArb, total: looseNumberArb }),
  ),
);
const sessionWire = wireArb(
  envelopeArb(dataArb({ session_id: idArb, task_id: idArb, user_id: idArb })),
);
const tokenWire = wireArb(
  envelopeArb(
    dataArb({
      token: fc.oneof(fc.string(), fc.constant('nmv_usr_fuzz_token_value'), fc.jsonValue()),
      credits: looseNumberArb,
      user_id: idArb,
      expires_at: fc.oneof(
        fc.string(),
        fc.integer(),
        fc.date().map((d) => d.toISOString()),
      ),
    }),
  ),
);

describe('envelope decoding never throws anything but a NemoError', () => {
  it('credits.balance() on arbitrary responses', async () => {
    let wire: WireResponse | undefined;
    server.use(http.get(BALANCE, () => toResponse(wire as WireResponse)));
    const c = client({ token: 'nmv_usr_fuzz_envelope_token' });
    await fc.assert(
      fc.asyncProperty(balanceWire, async (w) => {
        wire = w;
        await onlyNemoErrors(c.credits.balance(), (b) => {
          for (const n of [b.available, b.frozen, b.total]) expect(typeof n).toBe('number');
        });
      }),
      fuzzParams(RUNS),
    );
  });

  it('sessions.create() on arbitrary responses', async () => {
    let wire: WireResponse | undefined;
    server.use(http.post(CREATE, () => toResponse(wire as WireResponse)));
    const c = client({ token: 'nmv_usr_fuzz_envelope_token' });
    await fc.assert(
      fc.asyncProperty(sessionWire, async (w) => {
        wire = w;
        await onlyNemoErrors(c.sessions.create(), (s) => {
          expect(typeof s.id).toBe('string');
          expect(s.id.length).toBeGreaterThan(0);
          for (const v of [s.taskId, s.userId]) expect(['string', 'undefined']).toContain(typeof v);
        });
      }),
      fuzzParams(RUNS),
    );
  });

  it('the anonymous-token request on arbitrary responses', async () => {
    let wire: WireResponse | undefined;
    server.use(
      http.post(TOKEN, () => toResponse(wire as WireResponse)),
      http.get(BALANCE, () => ok({ available: 1, frozen: 0, total: 1 })),
    );
    await fc.assert(
      fc.asyncProperty(tokenWire, async (w) => {
        wire = w;
        const c = client();
        await onlyNemoErrors(c.credits.balance(), (b) => expect(b.available).toBe(1));
      }),
      fuzzParams(RUNS),
    );
  });

  it('is exercised on both outcomes (the generators reach success and failure)', async () => {
    // Guards the properties above against generators that only ever produce errors.
    let wire: WireResponse | undefined;
    server.use(http.get(BALANCE, () => toResponse(wire as WireResponse)));
    const c = client({ token: 'nmv_usr_fuzz_envelope_token' });
    let resolved = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(balanceWire, async (w) => {
        wire = w;
        await c.credits.balance().then(
          () => {
            resolved += 1;
          },
          () => {
            rejected += 1;
          },
        );
      }),
      { numRuns: 200, seed: 42 },
    );
    expect(resolved).toBeGreaterThan(5);
    expect(rejected).toBeGreaterThan(5);
  });
});

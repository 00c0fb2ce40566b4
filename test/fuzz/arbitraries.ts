import fc from 'fast-check';
import type { Clock } from '../../src/helpers.js';

/** A clock whose sleeps end at once (retries and Retry-After waits cost nothing), abortable. */
export const instantClock: Clock = {
  now: () => Date.now(),
  sleep: (_ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) reject(signal.reason);
      else setImmediate(resolve);
    }),
};

/** Numbers as a sloppy backend might send them. */
export const looseNumberArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.integer().map(String),
  fc.constantFrom('', 'NaN', 'Infinity', '1e400', '-0', ' 7 ', '0x10'),
  fc.constant(null),
  fc.boolean(),
  fc.jsonValue(),
);

/** Ids: strings, numbers (even unsafe ones), junk. */
export const idArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.constantFrom('5529798706024415232', '', ' '),
  fc.integer(),
  fc.double(),
  // A session id that does not fit in a double (arrives as a JSON number).
  fc.constant(Number('5529798706024415232')),
  fc.constant(null),
  fc.jsonValue(),
);

/** A `data` payload: anything, or something close to what `fields` expects. */
export function dataArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue(),
    fc.record(fields, { requiredKeys: [] }),
    fc.record(fields),
    fc.tuple(fc.record(fields), fc.dictionary(fc.string(), fc.jsonValue())).map(([a, b]) => ({
      ...b,
      ...a,
    })),
  );
}

const codeArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1001, 1002, 2001, 4001, 4002, 400, 402, 429, 500, -1),
  fc.constantFrom('0', '1001', '2001', 'abc', ''),
  fc.integer(),
  fc.jsonValue(),
);

/** A response body in every envelope shape the contract allows, and many it does not. */
export function envelopeArb(data: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ code: fc.constant(0), data }) },
    {
      weight: 3,
      arbitrary: fc.record(
        { code: codeArb, data, message: fc.oneof(fc.string(), fc.jsonValue()), msg: fc.string() },
        { requiredKeys: ['code'] },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record(
        { success: fc.oneof(fc.boolean(), fc.jsonValue()), data, error: fc.jsonValue() },
        { requiredKeys: ['success'] },
      ),
    },
    { weight: 2, arbitrary: data },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
}

/** What the server sends: status, content type, body text, extra headers. */
export interface WireResponse {
  status: number;
  contentType: string | undefined;
  text: string | null;
  retryAfter: string | undefined;
}

export function wireArb(body: fc.Arbitrary<unknown>): fc.Arbitrary<WireResponse> {
  const text = fc.oneof(
    { weight: 6, arbitrary: body.map((b) => JSON.stringify(b) ?? 'null') },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '<html>502 Bad Gateway</html>', '\u0000') },
  );
  return fc
    .record({
      status: fc.oneof(
        { weight: 5, arbitrary: fc.constant(200) },
        { weight: 3, arbitrary: fc.constantFrom(201, 204, 400, 401, 402, 403, 404, 408, 413) },
        { weight: 3, arbitrary: fc.constantFrom(415, 429, 500, 502, 503, 504, 418) },
      ),
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'text/html',
        'text/event-stream',
        undefined,
      ),
      text,
      retryAfter: fc.option(fc.oneof(fc.constantFrom('0', '1', 'soon', '-5'), fc.string()), {
        nil: undefined,
      }),
    })
    .map((w) => (w.status === 204 ? { ...w, text: null } : w));
}

/** Build the `Response` for a {@link WireResponse}. */
export function toResponse(w: WireResponse): Response {
  const headers = new Headers();
  if (w.contentType) headers.set('content-type', w.contentType);
  if (w.retryAfter !== undefined) {
    try {
      headers.set('retry-after', w.retryAfter);
    } catch {
      // not a valid header value: send none
    }
  }
  return new Response(w.text, { status: w.status, headers });
}

/**
 * fast-check parameters shared by the fuzz suites: a fixed seed, so CI is
 * deterministic. `FUZZ_SEED=<n>` replays another seed; `FUZZ_SEED=random`
 * explores (the failing seed is printed with the counterexample).
 */
export function fuzzParams(numRuns: number): { numRuns: number; seed?: number } {
  const env = process.env.FUZZ_SEED;
  if (env === 'random') return { numRuns };
  return { numRuns, seed: env === undefined ? 20_261_124 : Number(env) };
}

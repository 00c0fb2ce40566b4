/**
 * Draft decoder fuzzing: `decodeDraft` on arbitrary input returns a Timeline or
 * throws a `NemoError`; a decodable draft round-trips through `encodeDraft`
 * byte for byte; the summary helpers never throw on a decoded timeline; and
 * `session.state()` on arbitrary state bodies rejects only with a `NemoError`.
 */
import fc from 'fast-check';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  decodeDraft,
  diffTimelines,
  encodeDraft,
  isExportReady,
  summarizeTimeline,
} from '../../src/helpers.js';
import { isNemoError, NemoClient, type Timeline } from '../../src/index.js';
import { BASE, useMswServer } from '../helpers/msw.js';
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
const RUNS = 400;

const extraKeys = fc.dictionary(
  fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('fx', 'spd', 'z', '__proto__', 'constructor'),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
const numberish = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 600_000 }) },
  { weight: 1, arbitrary: looseNumberArb },
);
const segmentArb = fc
  .tuple(
    fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 8 }), fc.jsonValue()),
        st: numberish,
        du: numberish,
        nm: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue()),
        src: fc.oneof(fc.webUrl(), fc.string()),
        ss: numberish,
        w: numberish,
        h: numberish,
        txt: fc.string({ maxLength: 20 }),
        vol: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), looseNumberArb),
      },
      { requiredKeys: [] },
    ),
    extraKeys,
  )
  .map(([known, extra]) => ({ ...extra, ...known }));
const trackArb = fc
  .tuple(
    fc.record(
      {
        tt: fc.oneof(fc.constantFrom(0, 1, 7, 3, 99), looseNumberArb),
        sg: fc.oneof(
          { weight: 5, arbitrary: fc.array(segmentArb, { maxLength: 4 }) },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
      },
      { requiredKeys: [] },
    ),
    extraKeys,
  )
  .map(([known, extra]) => ({ ...extra, ...known }));
const draftArb = fc
  .tuple(
    fc.record(
      {
        t: fc.oneof(
          { weight: 5, arbitrary: fc.array(trackArb, { maxLength: 4 }) },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        d: numberish,
        m: fc.oneof(
          fc.record(
            {
              title: fc.string(),
              width: numberish,
              height: numberish,
              fps: numberish,
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    ),
    extraKeys,
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

/** Decode, or prove the failure is a NemoError; `undefined` on failure. */
function tryDecode(raw: unknown): Timeline | undefined {
  try {
    return decodeDraft(raw);
  } catch (error) {
    if (!isNemoError(error)) {
      throw new Error(`decodeDraft threw a non-NemoError: ${String(error)}`, { cause: error });
    }
    return undefined;
  }
}

function exerciseHelpers(timeline: Timeline): void {
  expect(typeof summarizeTimeline(timeline)).toBe('string');
  expect(typeof isExportReady(timeline)).toBe('boolean');
  const same = diffTimelines(timeline, timeline);
  expect(same.changed).toBe(false);
  expect(typeof diffTimelines(null, timeline).summary).toBe('string');
  expect(typeof diffTimelines(timeline, null).summary).toBe('string');
}

describe('draft decoder fuzzing', () => {
  it('never throws anything but a NemoError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const timeline = tryDecode(raw);
        if (timeline) exerciseHelpers(timeline);
      }),
      fuzzParams(RUNS),
    );
  });

  it('round-trips every decodable draft exactly and keeps the helpers total', () => {
    let decoded = 0;
    fc.assert(
      fc.property(draftArb, (input) => {
        const raw = JSON.parse(JSON.stringify(input)) as unknown;
        const before = JSON.stringify(raw);
        const timeline = tryDecode(raw);
        // The decoder copies its input: it never mutates it.
        expect(JSON.stringify(raw)).toBe(before);
        if (!timeline) return;
        decoded += 1;
        expect(JSON.stringify(encodeDraft(timeline))).toBe(before);
        exerciseHelpers(timeline);
      }),
      fuzzParams(RUNS),
    );
    // The generator must reach the success path, or the round-trip is untested.
    expect(decoded).toBeGreaterThan(RUNS / 10);
  });

  it('session.state() on arbitrary state bodies rejects only with a NemoError', async () => {
    let wire: WireResponse | undefined;
    server.use(
      http.get(`${BASE}/api/state/nemo_agent/me/:sid/latest`, () =>
        toResponse(wire as WireResponse),
      ),
    );
    const client = new NemoClient({
      token: 'nmv_usr_fuzz_state_token',
      clientIdFile: false,
      logLevel: 'off',
      clock: instantClock,
    });
    const session = client.sessions.open('5529798706024415232');
    const stateWire = wireArb(
      envelopeArb(
        dataArb({
          session_id: idArb,
          task_id: idArb,
          state: dataArb({
            draft: fc.oneof(draftArb, fc.jsonValue()),
            video_infos: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
            generated_media: fc.jsonValue(),
            canvas_config: fc.jsonValue(),
          }),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(stateWire, async (w) => {
        wire = w;
        try {
          const state = await session.state();
          expect(typeof state.sessionId).toBe('string');
          if (state.draft) exerciseHelpers(state.draft);
        } catch (error) {
          if (!isNemoError(error)) {
            throw new Error(`state() rejected with a non-NemoError: ${String(error)}`, {
              cause: error,
            });
          }
        }
      }),
      fuzzParams(RUNS),
    );
  });
});

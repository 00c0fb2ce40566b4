import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSegment,
  createTrack,
  decodeDraft,
  diffTimelines,
  encodeDraft,
  isExportReady,
  summarizeTimeline,
} from '../../src/helpers.js';
import { isNemoError, ResponseValidationError, type Timeline } from '../../src/index.js';

/** The emulator's documented example draft (docs/testing.md). */
const EXAMPLE = {
  t: [
    {
      tt: 0,
      sg: [
        {
          id: 'seg_v1',
          st: 0,
          du: 30000,
          nm: 'city.mp4',
          src: 'https://cdn.emulator.nemovideo.test/uploads/1/city.mp4',
          ss: 0,
          w: 1920,
          h: 1080,
          vol: 1,
        },
      ],
    },
    { tt: 7, sg: [{ id: 'seg_t1', st: 0, du: 3000, nm: 'Title', txt: 'Urban Dreams' }] },
    {
      tt: 1,
      sg: [
        {
          id: 'seg_a1',
          st: 0,
          du: 30000,
          nm: 'Lo-fi',
          src: 'https://cdn.emulator.nemovideo.test/library/lofi.mp3',
          ss: 0,
          vol: 0.35,
        },
      ],
    },
  ],
  d: 30000,
  m: { title: 'project', width: 1920, height: 1080, fps: 30 },
};

/** The same shape with unknown keys everywhere and an unknown track type. */
const EXOTIC = {
  v: 3,
  t: [
    { tt: 0, lk: true, sg: [{ st: '0', du: '10000', nm: 'city timelapse', fx: [{ k: 'blur' }] }] },
    { tt: 1, sg: [{ st: 0, du: 10000, nm: 'Lo-fi', vol: 0.35, fade: { in: 500 } }] },
    { tt: 7, sg: [{ st: 0, du: 3000, txt: 'Urban Dreams', style: { font: 'Inter' } }] },
    { tt: 42, sg: [{ st: 0, du: 1000, sticker: 'star' }], extra: null },
  ],
  d: 10000,
  m: { title: 'x', custom: { a: [1, 2] } },
  z_last: 'kept',
};

describe('decodeDraft', () => {
  it('decodes the emulator draft into typed tracks and segments', () => {
    const t = decodeDraft(EXAMPLE);
    expect(t.durationMs).toBe(30000);
    expect(t.metadata).toMatchObject({ title: 'project', width: 1920, height: 1080, fps: 30 });
    expect(t.tracks.map((x) => [x.kind, x.typeCode])).toEqual([
      ['video', 0],
      ['text', 7],
      ['audio', 1],
    ]);
    expect(t.tracks[0]?.segments[0]).toMatchObject({
      id: 'seg_v1',
      startMs: 0,
      durationMs: 30000,
      name: 'city.mp4',
      sourceUrl: 'https://cdn.emulator.nemovideo.test/uploads/1/city.mp4',
      sourceStartMs: 0,
      width: 1920,
      height: 1080,
      volume: 1,
      text: undefined,
    });
    expect(t.tracks[1]?.segments[0]?.text).toBe('Urban Dreams');
    expect(t.tracks[2]?.segments[0]?.volume).toBe(0.35);
  });

  it('keeps unknown keys and unknown track types', () => {
    const t = decodeDraft(EXOTIC);
    const unknown = t.tracks[3];
    expect(unknown?.kind).toBe('unknown');
    expect(unknown?.typeCode).toBe(42);
    expect(unknown?.raw.extra).toBeNull();
    expect(unknown?.segments[0]?.raw.sticker).toBe('star');
    expect(t.tracks[0]?.segments[0]?.durationMs).toBe(10000); // numeric strings accepted
    expect(t.raw.z_last).toBe('kept');
    expect(t.metadata.raw.custom).toEqual({ a: [1, 2] });
  });

  it('copies its input: mutating the source later does not change the timeline', () => {
    const source = structuredClone(EXAMPLE);
    const t = decodeDraft(source);
    (source.t[0] as { tt: number }).tt = 9;
    expect(encodeDraft(t)).toEqual(EXAMPLE);
  });

  it.each([
    [{ t: {} }, 'draft.t'],
    [{ t: [1] }, 'draft.t[0]'],
    [{ t: [{ tt: 'video' }] }, 'draft.t[0].tt'],
    [{ t: [{ tt: 0, sg: 'x' }] }, 'draft.t[0].sg'],
    [
      {
        t: [
          { tt: 0, sg: [{}] },
          { tt: 1, sg: [{ du: 'long' }] },
        ],
      },
      'draft.t[1].sg[0].du',
    ],
    [{ t: [{ tt: 0, sg: [{ d: -5 }] }] }, 'draft.t[0].sg[0].d'],
    [{ t: [{ tt: 7, sg: [{ txt: 5 }] }] }, 'draft.t[0].sg[0].txt'],
    [{ d: 'soon' }, 'draft.d'],
    [{ m: [] }, 'draft.m'],
    [[], 'draft'],
    ['draft', 'draft'],
  ])('a malformed draft %j names the bad path %s', (raw, path) => {
    let caught: unknown;
    try {
      decodeDraft(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ResponseValidationError);
    expect((caught as ResponseValidationError).path).toBe(path);
    expect((caught as Error).message).toContain(path);
  });

  it('treats null fields as absent and an empty draft as a timeline with no tracks', () => {
    const t = decodeDraft({ t: null, d: null, m: null });
    expect(t.tracks).toEqual([]);
    expect(t.durationMs).toBeUndefined();
    expect(encodeDraft(t)).toEqual({ t: null, d: null, m: null });
    const empty = decodeDraft({});
    expect(empty.tracks).toEqual([]);
    expect(isExportReady(empty)).toBe(false);
    expect(encodeDraft(empty)).toEqual({});
  });
});

describe('encodeDraft', () => {
  it.each([
    ['example', EXAMPLE],
    ['exotic', EXOTIC],
  ])('gives back the %s draft exactly, key order included, when nothing changed', (_, raw) => {
    const out = encodeDraft(decodeDraft(raw));
    expect(out).toStrictEqual(raw);
    expect(JSON.stringify(out)).toBe(JSON.stringify(raw));
  });

  it('applies typed edits made immutably and keeps unknown keys', () => {
    const t = decodeDraft(EXOTIC);
    const edited: Timeline = {
      ...t,
      durationMs: 8000,
      metadata: { ...t.metadata, title: 'renamed' },
      tracks: t.tracks.map((track) =>
        track.kind === 'audio'
          ? { ...track, segments: track.segments.map((s) => ({ ...s, volume: 0.2 })) }
          : track.kind === 'video'
            ? { ...track, segments: track.segments.map((s) => ({ ...s, durationMs: 8000 })) }
            : track,
      ),
    };
    const out = encodeDraft(edited) as typeof EXOTIC;
    expect(out.d).toBe(8000);
    expect(out.m).toEqual({ title: 'renamed', custom: { a: [1, 2] } });
    expect(out.t[0]?.sg[0]).toEqual({
      st: '0',
      du: 8000,
      nm: 'city timelapse',
      fx: [{ k: 'blur' }],
    });
    expect(out.t[1]?.sg[0]).toEqual({
      st: 0,
      du: 10000,
      nm: 'Lo-fi',
      vol: 0.2,
      fade: { in: 500 },
    });
    expect(out.t[3]).toEqual(EXOTIC.t[3]);
    expect(out.z_last).toBe('kept');
    // the original timeline is untouched
    expect(encodeDraft(t)).toStrictEqual(EXOTIC);
  });

  it('applies edits made by mutation, removes fields set to undefined, adds and removes tracks', () => {
    const t = decodeDraft(EXAMPLE);
    const text = t.tracks[1]!;
    text.segments[0]!.text = 'City Nights';
    t.tracks[0]!.segments[0]!.volume = undefined;
    t.tracks.splice(2, 1); // drop the music
    t.tracks.push(
      createTrack('text', [createSegment({ startMs: 27000, durationMs: 3000, text: 'The end' })]),
    );
    const out = encodeDraft(t) as { t: Record<string, unknown>[] };
    expect(out.t).toHaveLength(3);
    expect(out.t[0]?.sg).toEqual([
      {
        id: 'seg_v1',
        st: 0,
        du: 30000,
        nm: 'city.mp4',
        src: 'https://cdn.emulator.nemovideo.test/uploads/1/city.mp4',
        ss: 0,
        w: 1920,
        h: 1080,
      },
    ]);
    expect(out.t[1]?.sg).toEqual([
      { id: 'seg_t1', st: 0, du: 3000, nm: 'Title', txt: 'City Nights' },
    ]);
    expect(out.t[2]).toEqual({ tt: 7, sg: [{ st: 27000, du: 3000, txt: 'The end' }] });
  });

  it('changes the track type when kind or typeCode changes', () => {
    const t = decodeDraft({ t: [{ tt: 0, sg: [] }, { tt: 42 }] });
    const out = encodeDraft({
      ...t,
      tracks: [
        { ...t.tracks[0]!, kind: 'audio' },
        { ...t.tracks[1]!, typeCode: 7 },
      ],
    });
    expect(out).toEqual({ t: [{ tt: 1, sg: [] }, { tt: 7 }] });
  });

  it('returns a fresh copy each time', () => {
    const t = decodeDraft(EXAMPLE);
    const a = encodeDraft(t) as { t: unknown[] };
    a.t.length = 0;
    expect(encodeDraft(t)).toStrictEqual(EXAMPLE);
  });
});

describe('properties (fast-check)', () => {
  it('arbitrary JSON never throws anything but a NemoError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          decodeDraft(value);
        } catch (error) {
          if (!isNemoError(error)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary draft-shaped JSON never throws anything but a NemoError', () => {
    const anyJson = fc.jsonValue({ maxDepth: 2 });
    const segment = fc.dictionary(
      fc.constantFrom('id', 'st', 'du', 'd', 'nm', 'src', 'ss', 'w', 'h', 'txt', 'vol', 'x'),
      fc.oneof(anyJson, fc.nat(), fc.string()),
    );
    const track = fc.record(
      {
        tt: fc.oneof(fc.constantFrom(0, 1, 7, 3), anyJson),
        sg: fc.oneof(fc.array(segment), anyJson),
      },
      { requiredKeys: [] },
    );
    const draft = fc.record(
      { t: fc.oneof(fc.array(track), anyJson), d: fc.oneof(fc.nat(), anyJson), m: anyJson },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(draft, (value) => {
        try {
          const t = decodeDraft(value);
          expect(encodeDraft(t)).toStrictEqual(value);
        } catch (error) {
          if (!isNemoError(error)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('unchanged valid drafts round-trip exactly', () => {
    const extra = fc.dictionary(
      fc
        .string()
        .filter(
          (k) =>
            ![
              'id',
              'st',
              'du',
              'd',
              'nm',
              'src',
              'ss',
              'w',
              'h',
              'txt',
              'vol',
              'tt',
              'sg',
              't',
              'm',
              'title',
              'width',
              'height',
              'fps',
            ].includes(k),
        ),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    );
    const segment = fc
      .tuple(
        fc.record(
          {
            id: fc.string(),
            st: fc.nat(),
            du: fc.nat(),
            nm: fc.string(),
            src: fc.webUrl(),
            ss: fc.nat(),
            txt: fc.string(),
            vol: fc.double({ min: 0, max: 1, noNaN: true }),
          },
          { requiredKeys: [] },
        ),
        extra,
      )
      .map(([known, more]) => ({ ...more, ...known }));
    const track = fc
      .tuple(
        fc.record(
          { tt: fc.integer({ min: 0, max: 9 }), sg: fc.array(segment, { maxLength: 4 }) },
          { requiredKeys: [] },
        ),
        extra,
      )
      .map(([known, more]) => ({ ...known, ...more }));
    const draft = fc.record(
      {
        t: fc.array(track, { maxLength: 5 }),
        d: fc.nat(),
        m: fc.record({ title: fc.string(), width: fc.nat(), fps: fc.nat() }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(draft, (raw) => {
        const t = decodeDraft(raw);
        const out = encodeDraft(t);
        expect(out).toStrictEqual(raw);
        expect(JSON.stringify(out)).toBe(JSON.stringify(raw));
        expect(diffTimelines(t, decodeDraft(out)).changed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('summarizeTimeline and isExportReady', () => {
  it("prints the contract's format", () => {
    const t = decodeDraft({
      t: [
        { tt: 0, sg: [{ st: 0, du: 10000, nm: 'city timelapse' }] },
        { tt: 1, sg: [{ st: 0, du: 10000, nm: 'Lo-fi', vol: 0.35 }] },
        { tt: 7, sg: [{ st: 0, du: 3000, nm: 'Title', txt: 'Urban Dreams' }] },
      ],
      d: 10000,
    });
    expect(summarizeTimeline(t)).toBe(
      'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)',
    );
  });

  it('matches the emulator example summary', () => {
    expect(summarizeTimeline(decodeDraft(EXAMPLE))).toBe(
      'Timeline (3 tracks): 1. Video: city.mp4 (0-30s) 2. Title: "Urban Dreams" (0-3s) 3. BGM: Lo-fi (0-30s, 35%)',
    );
  });

  it('handles null, empty, unnamed, many-segment and unknown tracks', () => {
    expect(summarizeTimeline(null)).toBe('Timeline: empty (no draft yet)');
    expect(summarizeTimeline(decodeDraft({}))).toBe('Timeline (0 tracks)');
    const t = decodeDraft({
      t: [
        {
          tt: 0,
          sg: [
            { st: 0, du: 2500, nm: 'a' },
            { st: 2500, du: 2500, src: 'https://cdn.x/y/b%20c.mp4?sig=1' },
            { st: 5000, du: 1000, nm: 'd' },
            { st: 6000, du: 1000, nm: 'e' },
          ],
        },
        { tt: 42, sg: [{ st: 1000 }] },
        { tt: 1, sg: [] },
      ],
    });
    expect(summarizeTimeline(t)).toBe(
      'Timeline (3 tracks): 1. Video: a, b c.mp4, d +1 more (0-7s) 2. Track type 42: 1 segment 3. BGM: (empty)',
    );
    expect(
      summarizeTimeline(decodeDraft({ t: [{ tt: 1, sg: [{ st: 0, du: 1000, nm: 'x' }] }] })),
    ).toBe('Timeline (1 track): 1. BGM: x (0-1s)');
  });

  it('is export-ready only with a track that has segments', () => {
    expect(isExportReady(null)).toBe(false);
    expect(isExportReady(decodeDraft({ t: [{ tt: 0, sg: [] }] }))).toBe(false);
    expect(isExportReady(decodeDraft({ t: [{ tt: 0 }, { tt: 1, sg: [{}] }] }))).toBe(true);
  });
});

describe('diffTimelines', () => {
  it('says "no changes" for equal drafts, including both null', () => {
    expect(diffTimelines(null, null)).toMatchObject({ changed: false, summary: 'no changes' });
    const d = diffTimelines(decodeDraft(EXAMPLE), decodeDraft(structuredClone(EXAMPLE)));
    expect(d).toMatchObject({
      changed: false,
      tracksAdded: [],
      tracksRemoved: [],
      tracksChanged: [],
      durationBeforeMs: 30000,
      durationAfterMs: 30000,
      summary: 'no changes',
    });
  });

  it('reports added, removed and changed tracks and the duration', () => {
    const before = decodeDraft({
      t: [
        { tt: 0, sg: [{ st: 0, du: 10000, nm: 'city timelapse' }] },
        { tt: 1, sg: [{ st: 0, du: 10000, nm: 'Lo-fi', vol: 0.35 }] },
      ],
      d: 10000,
    });
    const after = decodeDraft({
      t: [
        { tt: 0, sg: [{ st: 0, du: 8000, nm: 'city timelapse' }] },
        { tt: 7, sg: [{ st: 0, du: 3000, txt: 'Urban Dreams' }] },
      ],
      d: 8000,
    });
    const d = diffTimelines(before, after);
    expect(d.changed).toBe(true);
    expect(d.tracksAdded.map((t) => t.kind)).toEqual(['text']);
    expect(d.tracksRemoved.map((t) => t.kind)).toEqual(['audio']);
    expect(d.tracksChanged.map((c) => [c.before.kind, c.after.kind])).toEqual([['video', 'video']]);
    expect(d.durationBeforeMs).toBe(10000);
    expect(d.durationAfterMs).toBe(8000);
    expect(d.summary).toBe(
      'added Title: "Urban Dreams" (0-3s); removed BGM: Lo-fi (0-10s, 35%); changed Video: city timelapse (0-10s) → city timelapse (0-8s); duration 10s → 8s',
    );
  });

  it('notices a draft appearing and changes only in unknown keys', () => {
    const t = decodeDraft(EXAMPLE);
    expect(diffTimelines(null, t).summary).toMatch(/^draft created; added Video: city\.mp4/);
    expect(diffTimelines(null, t).tracksAdded).toHaveLength(3);
    const tweaked = structuredClone(EXAMPLE) as typeof EXAMPLE & { t: { fx?: string }[] };
    tweaked.t[0]!.fx = 'grain';
    const d = diffTimelines(t, decodeDraft(tweaked));
    expect(d.changed).toBe(true);
    expect(d.summary).toBe('changed Video: city.mp4 (0-30s) (other fields)');
    const reordered = { ...EXAMPLE, t: [EXAMPLE.t[1], EXAMPLE.t[0], EXAMPLE.t[2]] };
    expect(diffTimelines(t, decodeDraft(reordered)).summary).toBe('tracks reordered');
    expect(diffTimelines(t, decodeDraft({ ...EXAMPLE, m: { title: 'new' } })).summary).toBe(
      'metadata changed',
    );
  });
});

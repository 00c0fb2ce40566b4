import { ResponseValidationError } from '../../errors/errors.js';

/**
 * The draft (timeline) decoder and encoder.
 *
 * The wire draft uses compact keys (protocol §2.6): `t` tracks, `tt` track type,
 * `sg` segments, `d` duration in ms, `m` metadata. Segment keys are not
 * documented by the service; the ones below are those the emulator documents
 * (`docs/testing.md`). Every key the decoder does not know is kept in `raw` and
 * written back unchanged by {@link encodeDraft}.
 */

/** What kind of content a track holds. `unknown` keeps the wire `typeCode`. */
export type TrackKind = 'video' | 'audio' | 'text' | 'unknown';

/** The wire track type codes (`tt`) the SDK knows. */
export const TRACK_TYPE_CODES: Readonly<Record<Exclude<TrackKind, 'unknown'>, number>> = {
  video: 0,
  audio: 1,
  text: 7,
};

/** One clip, sound or text on a track. Fields are `undefined` when the draft does not carry them. */
export interface Segment {
  /** Segment id (`id`), unique in the draft. */
  id: string | undefined;
  /** Start on the timeline in ms (`st`). */
  startMs: number | undefined;
  /** Duration on the timeline in ms (`du`, or `d`). */
  durationMs: number | undefined;
  /** Display name (`nm`): file name, music title, "Title". */
  name: string | undefined;
  /** Source media URL (`src`), for video and audio. */
  sourceUrl: string | undefined;
  /** In-point inside the source in ms (`ss`): the trim start. */
  sourceStartMs: number | undefined;
  /** Source width in px (`w`), for video. */
  width: number | undefined;
  /** Source height in px (`h`), for video. */
  height: number | undefined;
  /** The text shown (`txt`), for text tracks. */
  text: string | undefined;
  /** Volume from 0 to 1 (`vol`): `0.35` is 35 %. */
  volume: number | undefined;
  /** The segment exactly as the service sent it, unknown keys included. */
  raw: Record<string, unknown>;
}

/** A track of the timeline. */
export interface Track {
  /** `video` (`tt` 0), `audio` (`tt` 1, background music), `text` (`tt` 7, titles), else `unknown`. */
  kind: TrackKind;
  /** The wire track type (`tt`); `undefined` when absent. */
  typeCode: number | undefined;
  /** Segments in wire order (`sg`). */
  segments: Segment[];
  /** The track exactly as the service sent it, unknown keys included. */
  raw: Record<string, unknown>;
}

/** Timeline metadata (`m`). */
export interface TimelineMetadata {
  title: string | undefined;
  /** Canvas width in px. */
  width: number | undefined;
  /** Canvas height in px. */
  height: number | undefined;
  fps: number | undefined;
  /** The metadata object as sent (`{}` when the draft has none). */
  raw: Record<string, unknown>;
}

/** The decoded draft: what the agent built so far. */
export interface Timeline {
  /** Total duration in ms (`d`); `undefined` when the draft does not say. See {@link timelineEndMs}. */
  durationMs: number | undefined;
  /** Tracks in display order (`t`). */
  tracks: Track[];
  metadata: TimelineMetadata;
  /** The draft exactly as the service sent it. {@link encodeDraft} starts from it. */
  raw: Record<string, unknown>;
}

type FieldType = 'string' | 'number' | 'id';

interface FieldSpec {
  /** Wire keys, canonical first; the first one present is read, and written back on edit. */
  keys: readonly string[];
  type: FieldType;
  /** Numbers must be ≥ 0. */
  nonNegative?: boolean;
}

/**
 * The wire keys of segment fields (emulator-documented, `docs/testing.md`).
 * A field is read from the first key present; an edit is written back to that
 * key, or to the first (canonical) key when the segment had none.
 */
export const SEGMENT_KEYS = {
  id: { keys: ['id'], type: 'id' },
  startMs: { keys: ['st'], type: 'number', nonNegative: true },
  durationMs: { keys: ['du', 'd'], type: 'number', nonNegative: true },
  name: { keys: ['nm'], type: 'string' },
  sourceUrl: { keys: ['src'], type: 'string' },
  sourceStartMs: { keys: ['ss'], type: 'number', nonNegative: true },
  width: { keys: ['w'], type: 'number', nonNegative: true },
  height: { keys: ['h'], type: 'number', nonNegative: true },
  text: { keys: ['txt'], type: 'string' },
  volume: { keys: ['vol'], type: 'number', nonNegative: true },
} as const satisfies Record<Exclude<keyof Segment, 'raw'>, FieldSpec>;

/** The wire keys of metadata fields (`m`). */
export const METADATA_KEYS = {
  title: { keys: ['title'], type: 'string' },
  width: { keys: ['width'], type: 'number', nonNegative: true },
  height: { keys: ['height'], type: 'number', nonNegative: true },
  fps: { keys: ['fps'], type: 'number', nonNegative: true },
} as const satisfies Record<Exclude<keyof TimelineMetadata, 'raw'>, FieldSpec>;

const DRAFT = { tracks: 't', duration: 'd', metadata: 'm' } as const;
const TRACK = { type: 'tt', segments: 'sg' } as const;

// ── helpers ──

function invalid(path: string, message: string, body: unknown): ResponseValidationError {
  return new ResponseValidationError(
    `Unexpected draft shape at ${path}: ${message}. The service may have changed; upgrade nemovideo or report this with the draft (session.state() → state.raw).`,
    { path, body },
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasOwn(object: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(object, key);
}

/** Set an own property, even `__proto__`, without touching the prototype. */
function define(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A deep copy of JSON data; anything that is not JSON is a validation error naming its path. */
function cloneJson(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(path, `${value} is not a JSON number`, value);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => cloneJson(item, `${path}[${i}]`));
  if (isPlainObject(value)) {
    const out = emptyLike(value);
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item === undefined) continue; // JSON has no undefined: drop it, as JSON.stringify would
      define(out, key, cloneJson(item, `${path}.${key}`));
    }
    return out;
  }
  throw invalid(path, `a ${typeof value} is not JSON`, undefined);
}

function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

type FieldValue = string | number | undefined;

/** The key a field is read from: the first of its keys present (and not null). */
function presentKey(raw: Record<string, unknown>, spec: FieldSpec): string | undefined {
  return spec.keys.find((key) => hasOwn(raw, key) && raw[key] !== null && raw[key] !== undefined);
}

function readField(raw: Record<string, unknown>, spec: FieldSpec, path: string): FieldValue {
  const key = presentKey(raw, spec);
  if (key === undefined) return undefined;
  const value = raw[key];
  const at = `${path}.${key}`;
  if (spec.type === 'string') {
    if (typeof value !== 'string')
      throw invalid(at, `expected a string, got ${describe(value)}`, raw);
    return value;
  }
  if (spec.type === 'id') {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw invalid(at, `expected an id (string), got ${describe(value)}`, raw);
  }
  const n = readNumber(value);
  if (n === undefined) throw invalid(at, `expected a number, got ${describe(value)}`, raw);
  if (spec.nonNegative && n < 0) throw invalid(at, `expected a number ≥ 0, got ${n}`, raw);
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

function readFields<S extends Record<string, FieldSpec>>(
  raw: Record<string, unknown>,
  specs: S,
  path: string,
): { [K in keyof S]: S[K]['type'] extends 'number' ? number | undefined : string | undefined } {
  const out: Record<string, FieldValue> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = readField(raw, spec, path);
  return out as {
    [K in keyof S]: S[K]['type'] extends 'number' ? number | undefined : string | undefined;
  };
}

/** Write the typed fields that differ from what `raw` decodes to; keep everything else as is. */
function writeFields(
  raw: Record<string, unknown>,
  specs: Record<string, FieldSpec>,
  typed: Record<string, unknown>,
  path: string,
): Record<string, unknown> {
  const out = shallowCopy(raw);
  for (const [name, spec] of Object.entries(specs)) {
    const value = typed[name];
    let original: FieldValue;
    try {
      original = readField(raw, spec, path);
    } catch {
      original = undefined; // an edited raw that no longer decodes: the typed value wins
    }
    if (value === original) continue;
    const key = presentKey(raw, spec) ?? spec.keys[0];
    if (key === undefined) continue;
    if (value === undefined) {
      for (const k of spec.keys) delete out[k];
    } else {
      if (spec.type === 'number' && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw invalid(
          path,
          `${name} must be a finite number to encode, got ${describe(value)}`,
          typed,
        );
      }
      if (spec.type !== 'number' && typeof value !== 'string') {
        throw invalid(path, `${name} must be a string to encode, got ${describe(value)}`, typed);
      }
      define(out, key, value);
    }
  }
  return out;
}

/** An empty object with the same prototype (`Object.prototype`, or none). */
function emptyLike(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.getPrototypeOf(raw) === null
    ? (Object.create(null) as Record<string, unknown>)
    : {};
}

function shallowCopy(raw: Record<string, unknown>): Record<string, unknown> {
  const out = emptyLike(raw);
  for (const key of Object.keys(raw)) define(out, key, raw[key]);
  return out;
}

function kindOf(typeCode: number | undefined): TrackKind {
  switch (typeCode) {
    case TRACK_TYPE_CODES.video:
      return 'video';
    case TRACK_TYPE_CODES.audio:
      return 'audio';
    case TRACK_TYPE_CODES.text:
      return 'text';
    default:
      return 'unknown';
  }
}

// ── decode ──

function decodeSegment(raw: unknown, path: string): Segment {
  if (!isPlainObject(raw))
    throw invalid(path, `expected a segment object, got ${describe(raw)}`, raw);
  return { ...readFields(raw, SEGMENT_KEYS, path), raw };
}

function decodeTrack(raw: unknown, path: string): Track {
  if (!isPlainObject(raw))
    throw invalid(path, `expected a track object, got ${describe(raw)}`, raw);
  let typeCode: number | undefined;
  const tt = raw[TRACK.type];
  if (tt !== undefined && tt !== null) {
    const n = readNumber(tt);
    if (n === undefined || !Number.isInteger(n)) {
      throw invalid(
        `${path}.${TRACK.type}`,
        `expected an integer track type, got ${describe(tt)}`,
        raw,
      );
    }
    typeCode = n;
  }
  const sg = raw[TRACK.segments];
  let segments: Segment[] = [];
  if (sg !== undefined && sg !== null) {
    if (!Array.isArray(sg)) {
      throw invalid(
        `${path}.${TRACK.segments}`,
        `expected an array of segments, got ${describe(sg)}`,
        raw,
      );
    }
    segments = sg.map((s, i) => decodeSegment(s, `${path}.${TRACK.segments}[${i}]`));
  }
  return { kind: kindOf(typeCode), typeCode, segments, raw };
}

function decodeMetadata(raw: unknown, path: string): TimelineMetadata {
  if (raw === undefined || raw === null) {
    return { title: undefined, width: undefined, height: undefined, fps: undefined, raw: {} };
  }
  if (!isPlainObject(raw))
    throw invalid(path, `expected a metadata object, got ${describe(raw)}`, raw);
  return { ...readFields(raw, METADATA_KEYS, path), raw };
}

/**
 * Decode a wire draft into a {@link Timeline}. Known keys become typed fields;
 * every key is also kept in `raw` (on the timeline, each track and each
 * segment) so nothing is lost. Unknown track types decode as kind `unknown`
 * with their `typeCode`. The input is copied: later changes to it do not
 * affect the timeline.
 *
 * `path` names the draft in error messages (`draft` by default).
 *
 * @throws {ResponseValidationError} when the draft is not an object or a
 * known key has the wrong type; `error.path` names it, e.g. `draft.t[1].sg[0].du`.
 *
 * @example
 * ```ts
 * import { decodeDraft, summarizeTimeline } from 'nemovideo/helpers';
 *
 * const timeline = decodeDraft({ t: [{ tt: 0, sg: [{ st: 0, du: 10000, nm: 'city timelapse' }] }], d: 10000 });
 * console.log(summarizeTimeline(timeline)); // Timeline (1 track): 1. Video: city timelapse (0-10s)
 * ```
 */
export function decodeDraft(raw: unknown, path = 'draft'): Timeline {
  if (!isPlainObject(raw))
    throw invalid(path, `expected a draft object, got ${describe(raw)}`, raw);
  const draft = cloneJson(raw, path) as Record<string, unknown>;
  let durationMs: number | undefined;
  const d = draft[DRAFT.duration];
  if (d !== undefined && d !== null) {
    const n = readNumber(d);
    if (n === undefined || n < 0) {
      throw invalid(
        `${path}.${DRAFT.duration}`,
        `expected a duration in ms, got ${describe(d)}`,
        raw,
      );
    }
    durationMs = n;
  }
  const t = draft[DRAFT.tracks];
  let tracks: Track[] = [];
  if (t !== undefined && t !== null) {
    if (!Array.isArray(t)) {
      throw invalid(
        `${path}.${DRAFT.tracks}`,
        `expected an array of tracks, got ${describe(t)}`,
        raw,
      );
    }
    tracks = t.map((track, i) => decodeTrack(track, `${path}.${DRAFT.tracks}[${i}]`));
  }
  const metadata = decodeMetadata(draft[DRAFT.metadata], `${path}.${DRAFT.metadata}`);
  return { durationMs, tracks, metadata, raw: draft };
}

// ── encode ──

function sameNumberField(
  raw: Record<string, unknown>,
  key: string,
  value: number | undefined,
): boolean {
  const current = raw[key];
  if (current === undefined || current === null) return value === undefined;
  return readNumber(current) === value;
}

function encodeSegment(segment: Segment, path: string): Record<string, unknown> {
  const raw = isPlainObject(segment.raw) ? segment.raw : {};
  return writeFields(raw, SEGMENT_KEYS, segment as unknown as Record<string, unknown>, path);
}

function encodeTrack(track: Track, path: string): Record<string, unknown> {
  const raw = isPlainObject(track.raw) ? track.raw : {};
  const out = shallowCopy(raw);
  // The type: a changed `typeCode` wins; else a changed `kind` sets its code.
  const rawCode = readNumber(raw[TRACK.type]);
  let code = rawCode;
  if (track.typeCode !== rawCode) code = track.typeCode;
  else if (track.kind !== kindOf(rawCode) && track.kind !== 'unknown') {
    code = TRACK_TYPE_CODES[track.kind];
  }
  if (code !== rawCode) {
    if (code === undefined) delete out[TRACK.type];
    else if (!Number.isInteger(code)) {
      throw invalid(`${path}.${TRACK.type}`, 'typeCode must be an integer', track);
    } else define(out, TRACK.type, code);
  }
  const segments = track.segments.map((s, i) =>
    encodeSegment(s, `${path}.${TRACK.segments}[${i}]`),
  );
  // An absent or null `sg` stays so while there are no segments.
  if (Array.isArray(raw[TRACK.segments]) || segments.length > 0) {
    define(out, TRACK.segments, segments);
  }
  return out;
}

/**
 * Encode a {@link Timeline} back into the wire draft, for rendering.
 *
 * The result starts from `timeline.raw` (and each track's and segment's `raw`),
 * so unknown keys survive and an unchanged timeline gives back the original
 * JSON exactly (same values, same key order). Typed fields that differ from
 * what their `raw` decodes to are written to their wire key; a field set to
 * `undefined` is removed. Tracks and segments are taken from the typed arrays,
 * so adding, removing and reordering them works: build new ones with
 * {@link createTrack} and {@link createSegment}. The result is a fresh copy.
 *
 * Edit immutably (spread and replace) or mutate a timeline you own; both work,
 * since the comparison is against `raw`, not against a hidden snapshot. Do not
 * edit `raw` and a typed field of the same object at once: the typed field wins.
 *
 * @example
 * ```ts
 * import { decodeDraft, encodeDraft } from 'nemovideo/helpers';
 *
 * const state = await session.state();
 * const t = state.draft!;
 * const quieter = {
 *   ...t,
 *   tracks: t.tracks.map((track) =>
 *     track.kind === 'audio'
 *       ? { ...track, segments: track.segments.map((s) => ({ ...s, volume: 0.2 })) }
 *       : track,
 *   ),
 * };
 * const job = await session.render({ draft: encodeDraft(quieter) });
 * ```
 */
export function encodeDraft(timeline: Timeline): Record<string, unknown> {
  const path = 'draft';
  const raw = isPlainObject(timeline.raw) ? timeline.raw : {};
  const out = shallowCopy(raw);
  if (!sameNumberField(raw, DRAFT.duration, timeline.durationMs)) {
    if (timeline.durationMs === undefined) delete out[DRAFT.duration];
    else if (!Number.isFinite(timeline.durationMs)) {
      throw invalid(`${path}.${DRAFT.duration}`, 'durationMs must be a finite number', timeline);
    } else define(out, DRAFT.duration, timeline.durationMs);
  }
  const tracks = timeline.tracks.map((track, i) =>
    encodeTrack(track, `${path}.${DRAFT.tracks}[${i}]`),
  );
  if (Array.isArray(raw[DRAFT.tracks]) || tracks.length > 0) define(out, DRAFT.tracks, tracks);
  const metaRaw = isPlainObject(timeline.metadata.raw) ? timeline.metadata.raw : {};
  const meta = writeFields(
    metaRaw,
    METADATA_KEYS,
    timeline.metadata as unknown as Record<string, unknown>,
    `${path}.${DRAFT.metadata}`,
  );
  // An absent or null `m` stays so while the metadata is empty.
  if (isPlainObject(raw[DRAFT.metadata]) || Object.keys(meta).length > 0) {
    define(out, DRAFT.metadata, meta);
  }
  return cloneJson(out, path) as Record<string, unknown>;
}

// ── builders ──

/**
 * A new, empty-by-default segment for {@link encodeDraft}.
 *
 * @example
 * ```ts
 * const title = createSegment({ startMs: 0, durationMs: 3000, name: 'Title', text: 'Urban Dreams' });
 * ```
 */
export function createSegment(fields: Partial<Omit<Segment, 'raw'>> = {}): Segment {
  return {
    id: undefined,
    startMs: undefined,
    durationMs: undefined,
    name: undefined,
    sourceUrl: undefined,
    sourceStartMs: undefined,
    width: undefined,
    height: undefined,
    text: undefined,
    volume: undefined,
    ...fields,
    raw: {},
  };
}

/**
 * A new track of `kind` for {@link encodeDraft}.
 *
 * @example
 * ```ts
 * const titles = createTrack('text', [createSegment({ startMs: 0, durationMs: 3000, text: 'Hello' })]);
 * const edited = { ...timeline, tracks: [...timeline.tracks, titles] };
 * ```
 */
export function createTrack(kind: Exclude<TrackKind, 'unknown'>, segments: Segment[] = []): Track {
  return { kind, typeCode: TRACK_TYPE_CODES[kind], segments, raw: {} };
}

/**
 * The end of the last segment in ms (start + duration), or `undefined` when no
 * segment has a known end. Useful when the draft carries no `d`.
 *
 * @example
 * ```ts
 * const ms = timeline.durationMs ?? timelineEndMs(timeline);
 * ```
 */
export function timelineEndMs(timeline: Timeline): number | undefined {
  let end: number | undefined;
  for (const track of timeline.tracks) {
    for (const s of track.segments) {
      if (s.durationMs === undefined) continue;
      const e = (s.startMs ?? 0) + s.durationMs;
      end = end === undefined ? e : Math.max(end, e);
    }
  }
  return end;
}

import * as z from 'zod/mini';
import { formatPath } from '../../core/schema.js';
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
/**
 * A deep copy of JSON data; anything that is not JSON is a validation error
 * naming its path. Nesting deeper than `MAX_DRAFT_DEPTH` (128) levels is refused here,
 * so the recursion stays shallow whatever the input.
 */
function cloneJson(value: unknown, path: string, depth = 1): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(path, `${value} is not a JSON number`, value);
    return value;
  }
  if (depth > MAX_DRAFT_DEPTH && typeof value === 'object') throw tooDeep(path);
  if (Array.isArray(value)) {
    return value.map((item, i) => cloneJson(item, `${path}[${i}]`, depth + 1));
  }
  if (isPlainObject(value)) {
    const out = emptyLike(value);
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item === undefined) continue; // JSON has no undefined: drop it, as JSON.stringify would
      define(out, key, cloneJson(item, `${path}.${key}`, depth + 1));
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
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
    // What `raw` decodes to; an edited raw that no longer decodes counts as absent (the typed value wins).
    const present = presentKey(raw, spec);
    const decoded = present === undefined ? undefined : fieldSchema(spec).safeParse(raw[present]);
    const original = decoded?.success ? (decoded.data ?? undefined) : undefined;
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
//
// Decoding runs zod schemas (below), built from the key tables above, so one
// table says both how a field is read and where an edit is written back. Two
// parts stay hand-written because the draft format needs them: `cloneJson`
// (a deep copy that keeps every unknown key, the key order and values such as
// numeric strings exactly as sent, so the draft renders as received; zod's
// output converts values) and the choice between alias keys (`du` or `d`: the
// first key present is the one read and written back).

/** Deepest nesting a draft may have (objects and arrays). A deeper one is refused before it is walked. */
export const MAX_DRAFT_DEPTH = 128;

/**
 * The path of the first place where `value` nests deeper than `max` levels
 * (objects and arrays), or `undefined`. Iterative, so a hostile depth cannot
 * overflow the stack; paths are built only for what is too deep.
 */
export function tooDeepAt(value: unknown, path: string, max = MAX_DRAFT_DEPTH): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const v = item.value;
    if (typeof v !== 'object' || v === null) continue;
    if (item.depth > max) return `${path}${pathTo(value, v)}`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return undefined;
}

/** The path from `root` to `target` (first found), for messages. Iterative, like the walk above. */
function pathTo(root: unknown, target: unknown): string {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.value === target) return item.path;
    const v = item.value;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const [i, child] of v.entries())
        stack.push({ value: child, path: `${item.path}[${i}]` });
    } else {
      for (const [key, child] of Object.entries(v)) {
        stack.push({ value: child, path: `${item.path}.${key}` });
      }
    }
  }
  return '';
}

/** The error for a draft nested too deep at `at` (shown shortened: it may be thousands of levels long). */
function tooDeep(at: string): ResponseValidationError {
  const shown = at.length > 160 ? `${at.slice(0, 160)}…` : at;
  return invalid(
    shown,
    `nested more than ${MAX_DRAFT_DEPTH} levels deep (objects and arrays), deeper than any timeline; refused before walking it`,
    undefined,
  );
}

const fieldSchemas = new WeakMap<FieldSpec, ReturnType<typeof buildFieldSchema>>();

/** A field read as `spec` says; `null` and absent decode to `undefined`. One schema per spec. */
function fieldSchema(spec: FieldSpec) {
  let schema = fieldSchemas.get(spec);
  if (!schema) {
    schema = buildFieldSchema(spec);
    fieldSchemas.set(spec, schema);
  }
  return schema;
}

function buildFieldSchema(spec: FieldSpec) {
  switch (spec.type) {
    case 'string':
      return z.optional(
        z.nullable(
          z.string({ error: (issue) => `expected a string, got ${describe(issue.input)}` }),
        ),
      );
    case 'id':
      return z.optional(
        z.nullable(
          z.pipe(
            z.union([z.string(), z.number().check(z.refine(Number.isFinite))], {
              error: (issue) => `expected an id (string), got ${describe(issue.input)}`,
            }),
            z.transform((v): string => String(v)),
          ),
        ),
      );
    case 'number':
      return z.optional(z.nullable(spec.nonNegative ? nonNegativeNumber : wireNumber));
  }
}

/** A number, or a numeric string (the backend sends both). */
const wireNumber = z.pipe(
  z.unknown().check(
    z.refine((v) => readNumber(v) !== undefined, {
      error: (issue) => `expected a number, got ${describe(issue.input)}`,
    }),
  ),
  z.transform((v): number => readNumber(v) ?? Number.NaN),
);

const nonNegativeNumber = z.pipe(
  wireNumber,
  z.number().check(z.gte(0, { error: (issue) => `expected a number ≥ 0, got ${issue.input}` })),
);

function objectOf(what: string) {
  return (issue: { input?: unknown }) => `expected ${what}, got ${describe(issue.input)}`;
}

/** A plain object whose known keys (every alias of every field in `specs`) are checked; other keys pass. */
function fieldsObject(specs: Record<string, FieldSpec>, what: string) {
  const shape: Record<string, ReturnType<typeof fieldSchema>> = {};
  for (const spec of Object.values(specs)) {
    for (const key of spec.keys) shape[key] = fieldSchema(spec);
  }
  return z.looseObject(shape, { error: objectOf(what) });
}

const segmentSchema = fieldsObject(SEGMENT_KEYS, 'a segment object');
const metadataSchema = fieldsObject(METADATA_KEYS, 'a metadata object');
const trackSchema = z.looseObject(
  {
    [TRACK.type]: z.optional(
      z.nullable(
        z.pipe(
          wireNumber,
          z
            .number()
            .check(
              z.int({ error: (issue) => `expected an integer track type, got ${issue.input}` }),
            ),
        ),
      ),
    ),
    [TRACK.segments]: z.optional(
      z.nullable(z.array(segmentSchema, { error: objectOf('an array of segments') })),
    ),
  },
  { error: objectOf('a track object') },
);
const draftSchema = z.looseObject(
  {
    [DRAFT.tracks]: z.optional(
      z.nullable(z.array(trackSchema, { error: objectOf('an array of tracks') })),
    ),
    [DRAFT.duration]: z.optional(
      z.nullable(
        z.pipe(
          wireNumber,
          z
            .number()
            .check(z.gte(0, { error: (issue) => `expected a duration in ms, got ${issue.input}` })),
        ),
      ),
    ),
    [DRAFT.metadata]: z.optional(z.nullable(metadataSchema)),
  },
  { error: objectOf('a draft object') },
);

type Decoded = Record<string, unknown>;

/** The typed fields of `raw`: each read from its first key present, as the schema decoded it. */
function typedFields<S extends Record<string, FieldSpec>>(
  raw: Record<string, unknown>,
  decoded: Decoded,
  specs: S,
): { [K in keyof S]: S[K]['type'] extends 'number' ? number | undefined : string | undefined } {
  const out: Record<string, FieldValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const key = presentKey(raw, spec);
    out[name] = key === undefined ? undefined : (decoded[key] as FieldValue);
  }
  return out as {
    [K in keyof S]: S[K]['type'] extends 'number' ? number | undefined : string | undefined;
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value as Record<string, unknown>;
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
 * @throws {ResponseValidationError} when the draft is not an object, a known
 * key has the wrong type, or it nests deeper than `MAX_DRAFT_DEPTH` (128) levels;
 * `error.path` names the place, e.g. `draft.t[1].sg[0].du`.
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
  const parsed = draftSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(formatPath(path, issue?.path ?? []), issue?.message ?? 'invalid', raw);
  }
  const wire = parsed.data as Decoded;
  const rawTracks = Array.isArray(draft[DRAFT.tracks]) ? (draft[DRAFT.tracks] as unknown[]) : [];
  const wireTracks = (wire[DRAFT.tracks] as Decoded[] | null | undefined) ?? [];
  const tracks = wireTracks.map((track, i): Track => {
    const trackRaw = asRecord(rawTracks[i]);
    const typeCode = (track[TRACK.type] as number | null | undefined) ?? undefined;
    const rawSegments = Array.isArray(trackRaw[TRACK.segments])
      ? (trackRaw[TRACK.segments] as unknown[])
      : [];
    const wireSegments = (track[TRACK.segments] as Decoded[] | null | undefined) ?? [];
    const segments = wireSegments.map((segment, j): Segment => {
      const segmentRaw = asRecord(rawSegments[j]);
      return { ...typedFields(segmentRaw, segment, SEGMENT_KEYS), raw: segmentRaw };
    });
    return { kind: kindOf(typeCode), typeCode, segments, raw: trackRaw };
  });
  const metaRaw = draft[DRAFT.metadata];
  const metaWire = wire[DRAFT.metadata] as Decoded | null | undefined;
  const metadata: TimelineMetadata =
    metaWire === undefined || metaWire === null || !isPlainObject(metaRaw)
      ? { title: undefined, width: undefined, height: undefined, fps: undefined, raw: {} }
      : { ...typedFields(metaRaw, metaWire, METADATA_KEYS), raw: metaRaw };
  const durationMs = (wire[DRAFT.duration] as number | null | undefined) ?? undefined;
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

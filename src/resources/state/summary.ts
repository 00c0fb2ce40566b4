import { encodeDraft, type Segment, type Timeline, type Track, timelineEndMs } from './draft.js';

/** What changed between two timelines (see {@link diffTimelines}). */
export interface TimelineChanges {
  /** True when the drafts differ in any way, unknown keys included. */
  changed: boolean;
  /** Tracks only in `after`. */
  tracksAdded: Track[];
  /** Tracks only in `before`. */
  tracksRemoved: Track[];
  /** Tracks in both whose content differs. */
  tracksChanged: { before: Track; after: Track }[];
  /** `durationMs` of `before`, else the end of its last segment. */
  durationBeforeMs: number | undefined;
  /** `durationMs` of `after`, else the end of its last segment. */
  durationAfterMs: number | undefined;
  /** One human line: `added Title: "Urban Dreams" (0-3s)`; `no changes` when nothing changed. */
  summary: string;
}

/** `10000` → `10`, `2500` → `2.5`, `1234` → `1.23` (seconds, trailing zeros dropped). */
function seconds(ms: number): string {
  return String(Math.round(ms / 10) / 100);
}

const LABELS: Record<Track['kind'], string> = {
  video: 'Video',
  audio: 'BGM',
  text: 'Title',
  unknown: 'Track',
};

function trackLabel(track: Track): string {
  if (track.kind === 'unknown') {
    return track.typeCode === undefined ? 'Track (no type)' : `Track type ${track.typeCode}`;
  }
  return LABELS[track.kind];
}

function segmentName(track: Track, segment: Segment): string | undefined {
  if (track.kind === 'text') {
    const text = segment.text ?? segment.name;
    return text === undefined ? undefined : JSON.stringify(text);
  }
  if (segment.name !== undefined && segment.name !== '') return segment.name;
  if (segment.sourceUrl !== undefined) {
    const last = segment.sourceUrl.split(/[?#]/)[0]?.split('/').pop();
    if (last) return decodeURIComponentSafe(last);
  }
  return undefined;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `Video: city timelapse (0-10s)` / `BGM: Lo-fi (0-10s, 35%)` / `Title: "Urban Dreams" (0-3s)`. */
export function describeTrack(track: Track): string {
  const label = trackLabel(track);
  if (track.segments.length === 0) return `${label}: (empty)`;
  const names = track.segments
    .map((s) => segmentName(track, s))
    .filter((n): n is string => n !== undefined);
  const shown = names.slice(0, 3).join(', ');
  const more = names.length > 3 ? ` +${names.length - 3} more` : '';
  const unnamed =
    names.length === 0 ? `${track.segments.length} segment${plural(track.segments.length)}` : '';
  const details: string[] = [];
  let start: number | undefined;
  let end: number | undefined;
  for (const s of track.segments) {
    const st = s.startMs ?? 0;
    start = start === undefined ? st : Math.min(start, st);
    if (s.durationMs !== undefined) end = Math.max(end ?? 0, st + s.durationMs);
  }
  if (start !== undefined && end !== undefined) details.push(`${seconds(start)}-${seconds(end)}s`);
  const volumes = track.segments.map((s) => s.volume).filter((v): v is number => v !== undefined);
  const first = volumes[0];
  if (track.kind === 'audio' && first !== undefined) {
    const pct = (v: number) => Math.round(v * 100);
    details.push(volumes.every((v) => pct(v) === pct(first)) ? `${pct(first)}%` : 'mixed volume');
  }
  return `${label}: ${shown || unnamed}${more}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

/**
 * The timeline in the contract's human format, on one line:
 * `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
 * Each track shows its segments' names (text tracks: the quoted text), the span
 * they cover in seconds and, for audio, the volume.
 *
 * @example
 * ```ts
 * const { draft } = await session.state();
 * console.log(summarizeTimeline(draft));
 * ```
 */
export function summarizeTimeline(timeline: Timeline | null): string {
  if (timeline === null) return 'Timeline: empty (no draft yet)';
  const n = timeline.tracks.length;
  const head = `Timeline (${n} track${plural(n)})`;
  if (n === 0) return head;
  return `${head}: ${timeline.tracks.map((t, i) => `${i + 1}. ${describeTrack(t)}`).join(' ')}`;
}

/**
 * True when the draft can be rendered: at least one track has a segment
 * (protocol §2.6).
 *
 * @example
 * ```ts
 * const { draft } = await session.state();
 * if (!isExportReady(draft)) await session.send('Use the uploaded video as the main clip');
 * ```
 */
export function isExportReady(timeline: Timeline | null): boolean {
  return timeline?.tracks.some((t) => t.segments.length > 0) ?? false;
}

/** A stable JSON text (sorted keys) for comparing drafts. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function trackKey(track: Track): string {
  return canonical(
    encodeDraft({
      durationMs: undefined,
      tracks: [track],
      metadata: { title: undefined, width: undefined, height: undefined, fps: undefined, raw: {} },
      raw: {},
    }).t,
  );
}

/**
 * Pair the tracks of two timelines: first identical tracks, then tracks of the
 * same kind in order (the k-th remaining video track with the k-th, …).
 */
function pairTracks(before: Track[], after: Track[]) {
  const beforeKeys = before.map(trackKey);
  const afterKeys = after.map(trackKey);
  const usedBefore = new Set<number>();
  const usedAfter = new Set<number>();
  const changed: { before: Track; after: Track }[] = [];
  after.forEach((_, j) => {
    const i = beforeKeys.findIndex((k, idx) => !usedBefore.has(idx) && k === afterKeys[j]);
    if (i >= 0) {
      usedBefore.add(i);
      usedAfter.add(j);
    }
  });
  after.forEach((a, j) => {
    if (usedAfter.has(j)) return;
    const i = before.findIndex(
      (b, idx) => !usedBefore.has(idx) && b.kind === a.kind && b.typeCode === a.typeCode,
    );
    if (i < 0) return;
    usedBefore.add(i);
    usedAfter.add(j);
    changed.push({ before: before[i] as Track, after: a });
  });
  return {
    changed,
    added: after.filter((_, j) => !usedAfter.has(j)),
    removed: before.filter((_, i) => !usedBefore.has(i)),
  };
}

function metadataOf(timeline: Timeline): unknown {
  return encodeDraft({ ...timeline, tracks: [], durationMs: undefined, raw: {} }).m ?? {};
}

function spanOf(timeline: Timeline | null): number | undefined {
  if (timeline === null) return undefined;
  return timeline.durationMs ?? timelineEndMs(timeline);
}

/**
 * What changed between two timelines: tracks added, removed and changed, and
 * the duration. Used to report what a silent agent turn did. `changed` is true
 * when the drafts differ in any way (unknown keys, metadata, track order
 * included); the one-line `summary` names what it can and says
 * `no changes` when nothing changed.
 *
 * @example
 * ```ts
 * const before = (await session.state()).draft;
 * await session.send('Add a title "Urban Dreams"');
 * const after = (await session.state()).draft;
 * console.log(diffTimelines(before, after).summary); // added Title: "Urban Dreams" (0-3s)
 * ```
 */
export function diffTimelines(before: Timeline | null, after: Timeline | null): TimelineChanges {
  const durationBeforeMs = spanOf(before);
  const durationAfterMs = spanOf(after);
  const changed =
    (before === null) !== (after === null) ||
    (before !== null &&
      after !== null &&
      canonical(encodeDraft(before)) !== canonical(encodeDraft(after)));
  const paired = pairTracks(before?.tracks ?? [], after?.tracks ?? []);
  const parts: string[] = [];
  if (before === null && after !== null) parts.push('draft created');
  if (before !== null && after === null) parts.push('draft removed');
  for (const t of paired.added) parts.push(`added ${describeTrack(t)}`);
  for (const t of paired.removed) parts.push(`removed ${describeTrack(t)}`);
  for (const { before: b, after: a } of paired.changed) {
    const was = describeTrack(b);
    const now = describeTrack(a);
    parts.push(
      was === now
        ? `changed ${now} (other fields)`
        : `changed ${was} → ${now.slice(now.indexOf(': ') + 2)}`,
    );
  }
  if (before !== null && after !== null) {
    if (durationBeforeMs !== durationAfterMs) {
      parts.push(`duration ${fmtDuration(durationBeforeMs)} → ${fmtDuration(durationAfterMs)}`);
    }
    if (canonical(metadataOf(before)) !== canonical(metadataOf(after))) {
      parts.push('metadata changed');
    }
    if (changed && parts.length === 0) {
      const sameSet =
        before.tracks.length === after.tracks.length &&
        before.tracks.map(trackKey).sort().join('\n') ===
          after.tracks.map(trackKey).sort().join('\n');
      parts.push(sameSet ? 'tracks reordered' : 'draft changed');
    }
  }
  return {
    changed,
    tracksAdded: paired.added,
    tracksRemoved: paired.removed,
    tracksChanged: paired.changed,
    durationBeforeMs,
    durationAfterMs,
    summary: changed ? parts.join('; ') : 'no changes',
  };
}

function fmtDuration(ms: number | undefined): string {
  return ms === undefined ? 'unknown' : `${seconds(ms)}s`;
}

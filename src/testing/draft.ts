/**
 * Draft building for the default agent, in the compact keys documented in docs/testing.md.
 *
 * @module
 */

import { BGM_VOLUME, DEFAULT_MEDIA, TITLE_DURATION_MS, TRACK_TYPES } from './protocol.js';
import type { Draft, DraftSegment, DraftTrack, MediaFile } from './types.js';
import { clone } from './util.js';

/** An empty draft with metadata. */
export function emptyDraft(title: string): Draft {
  return {
    t: [],
    d: 0,
    m: { title, width: DEFAULT_MEDIA.width, height: DEFAULT_MEDIA.height, fps: DEFAULT_MEDIA.fps },
  };
}

function nextSegmentId(draft: Draft, prefix: string): string {
  const used = new Set(draft.t.flatMap((t) => t.sg.map((s) => s.id)));
  for (let i = 1; ; i++) {
    const id = `seg_${prefix}${i}`;
    if (!used.has(id)) return id;
  }
}

function trackOf(draft: Draft, tt: number): DraftTrack {
  let track = draft.t.find((t) => t.tt === tt);
  if (!track) {
    track = { tt, sg: [] };
    draft.t.push(track);
  }
  return track;
}

function recomputeDuration(draft: Draft): void {
  let end = 0;
  for (const track of draft.t) {
    for (const s of track.sg) end = Math.max(end, s.st + s.du);
  }
  draft.d = end;
}

/** Put the session's uploaded videos on the video track, one after the other, at `width`x`height`. */
export function withVideos(
  base: Draft,
  videos: readonly MediaFile[],
  size: { width: number; height: number },
): Draft {
  const draft = clone(base);
  const track = trackOf(draft, TRACK_TYPES.video);
  const known = new Set(track.sg.map((s) => s.src));
  let st = track.sg.reduce((end, s) => Math.max(end, s.st + s.du), 0);
  for (const v of videos) {
    if (known.has(v.cdn_url)) continue;
    const du = Math.round((v.duration ?? DEFAULT_MEDIA.durationSec) * 1000);
    const seg: DraftSegment = {
      id: nextSegmentId(draft, 'v'),
      st,
      du,
      nm: v.filename,
      src: v.cdn_url,
      ss: 0,
      w: v.width ?? DEFAULT_MEDIA.width,
      h: v.height ?? DEFAULT_MEDIA.height,
      vol: 1,
    };
    track.sg.push(seg);
    st += du;
  }
  // Keep the video track first.
  draft.t.sort((a, b) => Number(b.tt === TRACK_TYPES.video) - Number(a.tt === TRACK_TYPES.video));
  draft.m = { ...draft.m, width: size.width, height: size.height };
  recomputeDuration(draft);
  return draft;
}

/** Add a title on the text track (0 to 3 s). */
export function withTitle(base: Draft, text: string): Draft {
  const draft = clone(base);
  const track = trackOf(draft, TRACK_TYPES.text);
  track.sg.push({
    id: nextSegmentId(draft, 't'),
    st: 0,
    du: Math.min(TITLE_DURATION_MS, draft.d > 0 ? draft.d : TITLE_DURATION_MS),
    nm: 'Title',
    txt: text,
  });
  recomputeDuration(draft);
  return draft;
}

/** Add background music on the audio track over the whole timeline at 35 %. */
export function withMusic(base: Draft, cdnUrl: string, name = 'Lo-fi'): Draft {
  const draft = clone(base);
  const track = trackOf(draft, TRACK_TYPES.audio);
  track.sg = [
    {
      id: nextSegmentId(draft, 'a'),
      st: 0,
      du: draft.d > 0 ? draft.d : DEFAULT_MEDIA.durationSec * 1000,
      nm: name,
      src: `${cdnUrl}/library/lofi.mp3`,
      ss: 0,
      vol: BGM_VOLUME,
    },
  ];
  recomputeDuration(draft);
  return draft;
}

/** True when the draft has at least one track with a segment (contract §2.6). */
export function isRenderable(draft: unknown): boolean {
  if (typeof draft !== 'object' || draft === null) return false;
  const tracks = (draft as { t?: unknown }).t;
  return (
    Array.isArray(tracks) &&
    tracks.some(
      (t) =>
        typeof t === 'object' &&
        t !== null &&
        Array.isArray((t as { sg?: unknown }).sg) &&
        ((t as { sg: unknown[] }).sg.length ?? 0) > 0,
    )
  );
}

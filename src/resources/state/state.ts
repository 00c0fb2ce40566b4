import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { decodeWith, idString, looseNumber } from '../../core/schema.js';
import type { RequestOptions } from '../../core/transport.js';
import { ResponseValidationError } from '../../errors/errors.js';
import { decodeDraft, type Timeline } from './draft.js';

/** A media file the session knows about (`video_infos[]`). Keys beyond these stay in `raw`. */
export interface VideoInfo {
  /** Media URL (`url`, `cdn_url`, `src`). */
  url: string | undefined;
  /** File name (`filename`, `name`). */
  filename: string | undefined;
  /** Duration in seconds (`duration`). */
  durationSec: number | undefined;
  width: number | undefined;
  height: number | undefined;
  fps: number | undefined;
  raw: unknown;
}

/** Canvas settings (`canvas_config`). Keys beyond these stay in `raw`. */
export interface CanvasConfig {
  width: number | undefined;
  height: number | undefined;
  /** Aspect ratio as sent (`aspect_ratio`, `ratio`), e.g. `"9:16"`. */
  aspectRatio: string | undefined;
  raw: Record<string, unknown>;
}

/** The session's current state (protocol §2.6). */
export interface SessionState {
  sessionId: string;
  taskId: string | undefined;
  taskName: string | undefined;
  /**
   * The timeline, or `null` when the session has no draft yet (`draft` absent
   * or `null`). An empty draft object `{}` decodes to a timeline with no
   * tracks (not export-ready).
   */
  draft: Timeline | null;
  videoInfos: VideoInfo[];
  generatedMedia: unknown[];
  canvas: CanvasConfig | undefined;
  /** `video_analyses` as sent, when present. */
  videoAnalyses: unknown;
  /** The response `data` exactly as received. */
  raw: unknown;
}

const optionalArray = z.optional(z.nullable(z.array(z.unknown())));

const stateData = z.looseObject({
  session_id: z.optional(z.nullable(idString)),
  task_id: z.optional(z.nullable(idString)),
  task_name: z.optional(z.nullable(z.string())),
  state: z.optional(
    z.nullable(
      z.looseObject({
        draft: z.optional(z.unknown()),
        video_infos: optionalArray,
        generated_media: optionalArray,
        canvas_config: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
        video_analyses: z.optional(z.unknown()),
      }),
    ),
  ),
});

// Tolerant on purpose: `video_infos` and `canvas_config` are undocumented in
// detail, so a field that is missing or of another type decodes to `undefined`
// (`z.catch`) instead of failing the whole state; `raw` keeps the entry as sent.
const lenientString = z.catch(z.optional(z.string()), undefined);
const lenientNumber = z.catch(z.optional(looseNumber), undefined);

const videoInfoWire = z.catch(
  z.looseObject({
    url: lenientString,
    cdn_url: lenientString,
    src: lenientString,
    filename: lenientString,
    name: lenientString,
    file_name: lenientString,
    duration: lenientNumber,
    duration_sec: lenientNumber,
    width: lenientNumber,
    height: lenientNumber,
    fps: lenientNumber,
  }),
  {},
);

const canvasWire = z.looseObject({
  width: lenientNumber,
  height: lenientNumber,
  aspect_ratio: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
  aspectRatio: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
  ratio: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
});

function decodeVideoInfo(raw: unknown): VideoInfo {
  const v = videoInfoWire.parse(raw);
  return {
    url: v.url ?? v.cdn_url ?? v.src,
    filename: v.filename ?? v.name ?? v.file_name,
    durationSec: v.duration ?? v.duration_sec,
    width: v.width,
    height: v.height,
    fps: v.fps,
    raw,
  };
}

function decodeCanvas(raw: Record<string, unknown>): CanvasConfig {
  const c = canvasWire.parse(raw);
  const ratio = c.aspect_ratio ?? c.aspectRatio ?? c.ratio;
  return {
    width: c.width,
    height: c.height,
    aspectRatio: ratio === undefined ? undefined : String(ratio),
    raw,
  };
}

/**
 * Decode the `data` of a state response. The draft is decoded by
 * {@link decodeDraft} with paths prefixed `data.state.draft`.
 */
export function decodeSessionState(data: unknown, fallbackSessionId: string): SessionState {
  const d = decodeWith(stateData, data, 'the state response');
  const state = d.state ?? {};
  let draft: Timeline | null = null;
  if (state.draft !== undefined && state.draft !== null) {
    draft = decodeDraft(state.draft, 'data.state.draft');
  }
  return {
    sessionId: d.session_id ?? fallbackSessionId,
    taskId: d.task_id ?? undefined,
    taskName: d.task_name ?? undefined,
    draft,
    videoInfos: (state.video_infos ?? []).map(decodeVideoInfo),
    generatedMedia: state.generated_media ?? [],
    canvas: state.canvas_config ? decodeCanvas(state.canvas_config) : undefined,
    videoAnalyses: state.video_analyses,
    raw: data,
  };
}

/** @internal `GET` the latest state of a session (replayed on transient failures: a read). */
export async function readState(
  ctx: ClientContext,
  sessionId: string,
  options: RequestOptions = {},
): Promise<SessionState> {
  const data = await ctx.transport.json<unknown>({
    ...options,
    method: 'GET',
    path: ctx.backend.paths.state(sessionId),
    replay: 'safe',
    what: 'the state response',
  });
  if (data === null || data === undefined) {
    throw new ResponseValidationError(
      'The state response carried no data. The service may have changed; upgrade nemovideo or report this.',
      { path: 'data', body: data },
    );
  }
  return decodeSessionState(data, sessionId);
}

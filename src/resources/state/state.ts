import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { decodeWith, idString } from '../../core/schema.js';
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

function pick(record: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Tolerant: any entry decodes; fields that are missing or odd stay `undefined`, `raw` keeps all. */
function decodeVideoInfo(raw: unknown): VideoInfo {
  const r = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    url: str(pick(r, ['url', 'cdn_url', 'src'])),
    filename: str(pick(r, ['filename', 'name', 'file_name'])),
    durationSec: num(pick(r, ['duration', 'duration_sec'])),
    width: num(r.width),
    height: num(r.height),
    fps: num(r.fps),
    raw,
  };
}

function decodeCanvas(raw: Record<string, unknown>): CanvasConfig {
  const ratio = pick(raw, ['aspect_ratio', 'aspectRatio', 'ratio']);
  return {
    width: num(raw.width),
    height: num(raw.height),
    aspectRatio: typeof ratio === 'number' ? String(ratio) : str(ratio),
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

import {
  describeTrack,
  encodeDraft,
  isExportReady,
  summarizeTimeline,
  type Track,
} from '../../helpers.js';
import { formatDuration } from '../format.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';

function trackJson(track: Track): Record<string, unknown> {
  return {
    kind: track.kind,
    typeCode: track.typeCode ?? null,
    segments: track.segments.length,
    description: describeTrack(track),
  };
}

async function state(rt: Runtime, sessionId: string): Promise<void> {
  const { out, signal } = rt;
  rt.context.sessionId = sessionId;
  const session = (await rt.client()).sessions.open(sessionId);
  const current = await session.state({ signal });
  const draft = current.draft;
  if (out.json) {
    out.emit({
      sessionId: current.sessionId,
      taskId: current.taskId ?? null,
      summary: summarizeTimeline(draft),
      exportReady: isExportReady(draft),
      durationMs: draft?.durationMs ?? null,
      tracks: draft ? draft.tracks.map(trackJson) : [],
      videoInfos: current.videoInfos,
      draft: draft ? encodeDraft(draft) : null,
    });
    return;
  }
  out.result(summarizeTimeline(draft));
  if (draft?.durationMs !== undefined)
    out.detail(`duration ${formatDuration(draft.durationMs / 1000)}`);
  if (current.videoInfos.length > 0) out.detail(`${current.videoInfos.length} uploaded file(s)`);
  out.detail(
    isExportReady(draft)
      ? `ready to export: nemovideo export ${sessionId} -o video.mp4`
      : `nothing to export yet: upload a video and ask the agent (nemovideo chat ${sessionId} "…")`,
  );
}

/** `nemovideo state <session-id>`. */
export const run: CommandRun = (rt, [sessionId]) => state(rt, sessionId as string);

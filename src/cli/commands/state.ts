import type { Command } from 'commander';
import {
  describeTrack,
  encodeDraft,
  isExportReady,
  summarizeTimeline,
  type Track,
} from '../../helpers.js';
import { formatDuration } from '../format.js';
import type { Runtime, RuntimeFactory } from '../runtime.js';
import { parseSessionId } from './common.js';

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
  const session = rt.client().sessions.open(sessionId);
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

/** Registers `nemovideo state <session-id>`. */
export function registerState(program: Command, runtime: RuntimeFactory): void {
  program
    .command('state')
    .description("show a session's timeline (tracks and clips)")
    .argument('<session-id>', 'the session', parseSessionId)
    .action(async (sessionId: string, _flags: unknown, cmd: Command) => {
      await state(runtime(cmd), sessionId);
    });
}

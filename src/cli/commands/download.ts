import { isExportReady, summarizeTimeline, translateReply } from '../../helpers.js';
import type { NemoClient, Session } from '../../index.js';
import { oneLine } from '../format.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import {
  type ExportFlags,
  exportCommandLine,
  exportToFile,
  parseVideoUrl,
  reportSaved,
} from './common.js';
import { describeUploadedFile } from './upload.js';

interface DownloadFlags extends ExportFlags {
  prompt?: string | undefined;
  language?: string | undefined;
}

/** The instruction sent when `--prompt` is not given. */
export function defaultPrompt(quality: string): string {
  const label = /^\d+p$/.test(quality) ? quality : '1080p';
  return `download this video in MP4 at ${label}`;
}

/** Describes where the token comes from, for the stage line. */
export function tokenLine(client: NemoClient): string {
  switch (client.tokenSource) {
    case 'anonymous':
      return 'Using a free anonymous token (cached for later runs)';
    case 'env':
      return 'Using the token from NEMO_TOKEN';
    default:
      return 'Using the token given with --token';
  }
}

/** Send `prompt` as a chat turn and report the reply (or, for a silent turn, what changed). */
export async function runInstruction(rt: Runtime, session: Session, prompt: string): Promise<void> {
  const { out, signal } = rt;
  out.stage(`Asking the agent: "${oneLine(prompt, 120)}"`);
  const turn = await session.send(prompt, {
    signal,
    onEvent: (event) => {
      if (event.type === 'tool_call') out.detail(`[${event.name}]`);
    },
  });
  if (turn.recovery) {
    out.warn('The connection dropped during the turn; the edit was confirmed from the timeline.');
  }
  if (!turn.silent && turn.text.trim() !== '') {
    // The agent writes as if a GUI were open ("click the Export button"): show it in API terms.
    out.done(`Agent: ${oneLine(translateReply(turn.text).text, 300)}`);
  } else {
    out.done(`The agent worked without replying. Changes: ${turn.summary ?? 'unknown'}`);
  }
}

async function download(rt: Runtime, videoUrl: string, flags: DownloadFlags): Promise<void> {
  const { out, signal } = rt;
  const url = parseVideoUrl(videoUrl);
  const client = await rt.client();

  out.stage(`Connecting to ${client.baseUrl}`);
  await client.getToken({ signal });
  out.done(tokenLine(client));

  const session = await client.sessions.create({ signal, language: flags.language });
  const sid = session.id;
  rt.context.sessionId = sid;
  const exportAgain = exportCommandLine(sid, flags);
  rt.context.afterAbort = `Session ${sid} is kept: run the same command again to start over in a new session, or continue this one with "nemovideo state ${sid}" and then "${exportAgain}".`;
  out.done(`Session ${sid}`);

  out.stage(`Uploading ${url}`);
  const upload = await session.uploadUrl(url, { signal });
  for (const file of upload.files) out.done(`Uploaded ${describeUploadedFile(file)}`);

  rt.context.afterAbort = `The agent may still finish the instruction in session ${sid} (it was sent once and is never re-sent): check with "nemovideo state ${sid}", then export with "${exportAgain}". Running the same command again starts over in a new session and costs credits again.`;
  await runInstruction(rt, session, flags.prompt ?? defaultPrompt(flags.quality));

  const state = await session.state({ signal });
  out.detail(summarizeTimeline(state.draft));
  if (!isExportReady(state.draft)) {
    out.warn('The timeline has no clip yet; the export below will say what to do.');
  }

  const saved = await exportToFile(rt, session, flags);
  reportSaved(rt, saved);
}

/** `nemovideo download <video-url>`. */
export const run: CommandRun = (rt, [videoUrl], flags) =>
  download(rt, videoUrl as string, flags as unknown as DownloadFlags);

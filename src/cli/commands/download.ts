import { type Command, Option } from 'commander';
import { isExportReady, summarizeTimeline, translateReply } from '../../helpers.js';
import type { NemoClient, Session } from '../../index.js';
import { oneLine } from '../format.js';
import type { Runtime, RuntimeFactory } from '../runtime.js';
import {
  type ExportFlags,
  exportToFile,
  parseQuality,
  parseSeconds,
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

/** Adds the export options shared by `download` and `export`. */
export function addExportOptions(command: Command): Command {
  return command
    .option('-o, --output <file>', 'where to write the MP4 (folders are created)')
    .addOption(
      new Option('--quality <quality>', 'output quality: 1080p, 720p or 480p')
        .default('1080p')
        .argParser(parseQuality),
    )
    .option('--cancel-on-abort', 'cancel the render on the server when interrupted (Ctrl-C)')
    .addOption(
      new Option(
        '--poll-interval <seconds>',
        'seconds between render status checks (default 10; 1 against a local emulator)',
      ).argParser(parseSeconds),
    )
    .addOption(
      new Option('--max-wait <seconds>', 'give up waiting for the render after this long')
        .default(900)
        .argParser(parseSeconds),
    );
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
  const client = rt.client();

  out.stage(`Connecting to ${client.baseUrl}`);
  await client.getToken({ signal });
  out.done(tokenLine(client));

  const session = await client.sessions.create({ signal, language: flags.language });
  rt.context.sessionId = session.id;
  out.done(`Session ${session.id}`);

  out.stage(`Uploading ${url}`);
  const upload = await session.uploadUrl(url, { signal });
  for (const file of upload.files) out.done(`Uploaded ${describeUploadedFile(file)}`);

  await runInstruction(rt, session, flags.prompt ?? defaultPrompt(flags.quality));

  const state = await session.state({ signal });
  out.detail(summarizeTimeline(state.draft));
  if (!isExportReady(state.draft)) {
    out.warn('The timeline has no clip yet; the export below will say what to do.');
  }

  const saved = await exportToFile(rt, session, flags);
  reportSaved(rt, saved);
}

/** Registers `nemovideo download <video-url>`. */
export function registerDownload(program: Command, runtime: RuntimeFactory): void {
  const command = program
    .command('download')
    .summary('turn a video link into an MP4 on disk (the whole workflow)')
    .description(
      'Upload a video link to a new session, ask the agent to prepare it, render it and download the MP4.\n' +
        'Stages are shown as they happen; progress bars on a terminal, plain lines otherwise.',
    )
    .argument('<video-url>', 'http(s) link to the video (YouTube, a CDN, …)')
    .option(
      '-p, --prompt <text>',
      'the instruction for the agent (default: "download this video in MP4 at <quality>")',
    )
    .option('--language <code>', 'language of the agent replies (e.g. en, zh-CN)');
  addExportOptions(command);
  command.addHelpText(
    'after',
    '\nExample:\n  nemovideo download "https://www.youtube.com/watch?v=dQw4w9WgXcQ" -o video.mp4 --quality 1080p',
  );
  command.action(async (videoUrl: string, flags: DownloadFlags, cmd: Command) => {
    await download(runtime(cmd), videoUrl, flags);
  });
}

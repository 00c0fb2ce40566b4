import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type ExportJob,
  type ExportJobOptions,
  type ExportJobProgress,
  type ExportJobResult,
  translateReply,
} from '../../helpers.js';
import type { NemoClient, TurnResult } from '../../index.js';
import { formatBytes, oneLine } from '../format.js';
import { probeMp4 } from '../mp4.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import {
  displayPath,
  type ExportFlags,
  parseVideoUrl,
  pollIntervalMs,
  renderOutputFor,
  reportSaved,
  shellWord,
} from './common.js';
import { describeUploadedFile } from './upload.js';

interface DownloadFlags extends ExportFlags {
  prompt?: string | undefined;
  language?: string | undefined;
  fresh?: boolean | undefined;
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

/** Report a finished chat turn: the reply in API terms, or what a silent turn changed. */
export function reportTurn(rt: Runtime, turn: TurnResult): void {
  const { out } = rt;
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

/**
 * Where the MP4 goes without `-o`: `nemovideo-<8 hex>.mp4` in the current folder, named after
 * the link and the instruction, so that the same command run again finds the same job.
 */
export function defaultOutput(url: string, prompt: string, quality: string, language?: string) {
  const key = createHash('sha256')
    .update(JSON.stringify([url, prompt, quality, language ?? null]))
    .digest('hex')
    .slice(0, 8);
  return `nemovideo-${key}.mp4`;
}

/**
 * The command line that runs this download again, and so resumes it: the link, the output
 * path and the options that make up the job (never `--token`: a secret stays out of messages).
 */
export function downloadCommandLine(rt: Runtime, job: ExportJob, flags: DownloadFlags): string {
  const words = ['nemovideo', 'download', shellWord(job.inputs[0] ?? '')];
  words.push('-o', shellWord(displayPath(job.to)));
  if (flags.quality !== '1080p') words.push('--quality', flags.quality);
  if (flags.prompt !== undefined) words.push('--prompt', shellWord(flags.prompt));
  if (flags.language !== undefined) words.push('--language', shellWord(flags.language));
  if (rt.globals.apiUrl !== undefined) words.push('--api-url', shellWord(rt.globals.apiUrl));
  if (rt.globals.token !== undefined) words.push('--token', '<your token>');
  return words.join(' ');
}

/** Render options of a job run: `--poll-interval`, `--max-wait`, `--cancel-on-abort`. */
export interface JobRunFlags {
  pollInterval?: number | undefined;
  maxWait: number;
  cancelOnAbort?: boolean | undefined;
  /** The `--quality` label shown in the render stage (`1080p`…). */
  quality?: string | undefined;
}

/**
 * Run a durable export job (`download`, `jobs resume`) with the CLI's stage lines and progress,
 * then check the MP4. `start` calls the SDK with the options built here.
 */
export async function runJob(
  rt: Runtime,
  flags: JobRunFlags,
  start: (options: ExportJobOptions) => Promise<ExportJobResult>,
): Promise<ExportJobResult> {
  const { out, signal } = rt;
  const client = await rt.client();
  const interval = pollIntervalMs(client.baseUrl, { ...flags, quality: flags.quality ?? '1080p' });
  const maxPolls = Math.max(1, Math.ceil((flags.maxWait * 1000) / interval));
  let render: ReturnType<typeof out.progress> | undefined;
  let download: ReturnType<typeof out.progress> | undefined;
  const onProgress = (p: ExportJobProgress): void => {
    switch (p.step) {
      case 'session':
        rt.context.sessionId = p.sessionId;
        out.done(
          p.resumed ? `Session ${p.sessionId} (resuming job ${p.jobId})` : `Session ${p.sessionId}`,
        );
        return;
      case 'upload':
        if (!p.done) {
          if (p.progress === undefined) out.stage(`Uploading ${p.input}`);
          return;
        }
        if (p.resumed) {
          out.done(`Already uploaded: ${p.input}`);
        } else if (p.uploaded) {
          for (const file of p.uploaded.files) out.done(`Uploaded ${describeUploadedFile(file)}`);
        }
        return;
      case 'message':
        if (!p.done) {
          out.stage(`Asking the agent: "${oneLine(p.prompt, 120)}"`);
          return;
        }
        if (p.turn) reportTurn(rt, p.turn);
        else out.done(`The instruction was sent by an earlier run: ${p.summary ?? 'done'}`);
        return;
      case 'render':
        if (!render) {
          const label = flags.quality ? `${flags.quality} MP4` : 'MP4';
          const earlier = p.resumed ? ` (render ${p.renderId}, started by an earlier run)` : '';
          out.stage(`Rendering ${label}${earlier}`);
          render = out.progress('render', 'percent');
        }
        render.update(p.percent);
        return;
      case 'download':
        if (!download) {
          if (render) {
            render.update(100);
            render.stop();
          }
          const from =
            p.resumed && p.loadedBytes > 0
              ? ` (resuming at ${formatBytes(p.loadedBytes)}${p.totalBytes !== undefined ? ` of ${formatBytes(p.totalBytes)}` : ''})`
              : '';
          out.stage(`Downloading${from}`);
          download = out.progress('download', 'bytes', p.totalBytes);
        }
        download.update(p.loadedBytes, p.totalBytes);
        return;
    }
  };
  let result: ExportJobResult;
  try {
    result = await start({
      signal,
      pollInterval: interval,
      maxPolls,
      maxWait: flags.maxWait * 1000,
      cancelOnAbort: flags.cancelOnAbort === true,
      onProgress,
      onEvent: (event) => {
        if (event.type === 'tool_call') out.detail(`[${event.name}]`);
      },
    });
  } catch (error) {
    out.stopProgress();
    if (signal.aborted && flags.cancelOnAbort) out.warn('Render cancellation requested.');
    throw error;
  }
  render?.stop();
  download?.stop();
  if (result.transferredBytes === 0 && result.resumedSteps.includes('download')) {
    out.done(`Already exported by job ${result.jobId} (run again with --fresh to redo it)`);
  }
  return result;
}

/** Print the result of a job run: the path, size and duration (and the job, with --json). */
export async function reportJob(rt: Runtime, result: ExportJobResult): Promise<void> {
  const probe = await probeMp4(result.path);
  if (!probe.valid) {
    rt.out.warn(`${displayPath(result.path)} does not look like a valid MP4 (${probe.problem}).`);
  }
  reportSaved(
    rt,
    {
      path: result.path,
      bytes: result.bytes,
      durationSec: probe.durationSec,
      renderId: result.renderId,
      url: result.url ?? null,
      sessionId: result.sessionId,
    },
    {
      jobId: result.jobId,
      resumedSteps: result.resumedSteps,
      transferredBytes: result.transferredBytes,
    },
  );
}

async function download(rt: Runtime, videoUrl: string, flags: DownloadFlags): Promise<void> {
  const { out, signal } = rt;
  const url = parseVideoUrl(videoUrl);
  const client = await rt.client();

  out.stage(`Connecting to ${client.baseUrl}`);
  await client.getToken({ signal });
  out.done(tokenLine(client));

  const prompt = flags.prompt ?? defaultPrompt(flags.quality);
  const to = resolve(flags.output ?? defaultOutput(url, prompt, flags.quality, flags.language));
  await mkdir(dirname(to), { recursive: true });
  const job: ExportJob = {
    inputs: [url],
    prompt,
    to,
    quality: renderOutputFor(flags.quality).quality,
    language: flags.language,
  };
  const jobId = await client.workflows.jobId(job);
  const again = downloadCommandLine(rt, job, flags);
  rt.context.jobId = jobId;
  rt.context.resumeCommand = again;
  rt.context.exportAgain = again;
  rt.context.afterAbort = `Job ${jobId} is saved: run the same command to resume it ("${again}", or "nemovideo jobs resume ${jobId}"); what is done is not done again and the instruction is never sent twice.${flags.cancelOnAbort ? ' The render was cancelled: the next run starts a new one (export costs no credits).' : ''}`;
  if (flags.fresh) out.detail(`--fresh: job ${jobId} starts over`);

  const result = await runJob(rt, flags, (options) =>
    client.workflows.export(job, { ...options, fresh: flags.fresh === true }),
  );
  await reportJob(rt, result);
}

/** `nemovideo download <video-url>`. */
export const run: CommandRun = (rt, [videoUrl], flags) =>
  download(rt, videoUrl as string, flags as unknown as DownloadFlags);

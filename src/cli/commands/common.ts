import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { RenderOutput } from '../../helpers.js';
import type { ExportResult, Session } from '../../index.js';
import { usageError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import { probeMp4 } from '../mp4.js';
import { QUALITIES } from '../parse.js';
import { isLoopback, type Runtime } from '../runtime.js';

/** Options shared by `download` and `export` (registry.ts declares them). */
export interface ExportFlags {
  output?: string | undefined;
  quality: string;
  cancelOnAbort?: boolean | undefined;
  pollInterval?: number | undefined;
  maxWait: number;
}

/**
 * Checks a video link given on the command line: an absolute http(s) URL.
 * Throws a usage error saying what is expected otherwise.
 */
export function parseVideoUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `"${value}" is not a valid video URL. Pass a full http(s) link, e.g. https://www.youtube.com/watch?v=dQw4w9WgXcQ (quote it in the shell).`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(
      `"${value}" is not an http(s) link. Pass a web link to the video; for a file on disk use "nemovideo upload <session-id> <file>".`,
    );
  }
  return url.href;
}

/** True when `value` looks like a web link rather than a path. */
export function isWebUrl(value: string): boolean {
  return /^https?:\/\//i.test(value.trim());
}

/** The render output for a `--quality` value. */
export function renderOutputFor(quality: string): Partial<RenderOutput> {
  return { format: 'mp4', quality: QUALITIES[quality] ?? 'high' };
}

/** Ms between render polls: `--poll-interval`, else 1 s against a loopback API (the emulator), else 10 s. */
export function pollIntervalMs(baseUrl: string, flags: ExportFlags): number {
  if (flags.pollInterval !== undefined) return Math.round(flags.pollInterval * 1000);
  return isLoopback(new URL(baseUrl).hostname) ? 1000 : 10_000;
}

/** Where the MP4 goes: `-o`, else `nemovideo-<session id>.mp4` in the current folder. */
export function outputPath(flags: ExportFlags, sessionId: string): string {
  return resolve(flags.output ?? `nemovideo-${sessionId}.mp4`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** What the `download` and `export` commands report at the end. */
export interface SavedVideo {
  path: string;
  bytes: number;
  durationSec: number | undefined;
  renderId: string;
  /** Where the file came from; null when nothing was fetched (a job already done). */
  url: string | null;
  sessionId: string;
}

/** `path` relative to the working directory when it is inside it, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

/** `word` as one shell word: as is when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The command line that exports `sessionId` again to the same file, at the same quality. */
export function exportCommandLine(sessionId: string, flags: ExportFlags): string {
  const quality = flags.quality !== '1080p' ? ` --quality ${flags.quality}` : '';
  return `nemovideo export ${sessionId} -o ${shellWord(displayPath(outputPath(flags, sessionId)))}${quality}`;
}

/**
 * Render the session and download the MP4 to `flags.output`, with render and
 * download progress, then check the file is an MP4. Removes the file if it
 * was not there before and the export did not finish.
 */
export async function exportToFile(
  rt: Runtime,
  session: Session,
  flags: ExportFlags,
): Promise<SavedVideo> {
  const { out, signal } = rt;
  const path = outputPath(flags, session.id);
  const again = exportCommandLine(session.id, flags);
  rt.context.exportAgain = again;
  rt.context.afterAbort = flags.cancelOnAbort
    ? `The render was cancelled and no file was written: export again with "${again}" (export costs no credits).`
    : `No file was written; the render may still finish on the server. Export again with "${again}" (export costs no credits).`;
  await mkdir(dirname(path), { recursive: true });
  const existed = await exists(path);
  const interval = pollIntervalMs((await rt.client()).baseUrl, flags);
  const maxPolls = Math.max(1, Math.ceil((flags.maxWait * 1000) / interval));

  out.stage(`Rendering ${flags.quality} MP4`);
  let render = out.progress('render', 'percent');
  let download: ReturnType<typeof out.progress> | undefined;
  let renderId: string | undefined;
  let result: ExportResult;
  try {
    result = await session.export({
      to: path,
      output: renderOutputFor(flags.quality),
      signal,
      pollInterval: interval,
      maxPolls,
      maxWait: flags.maxWait * 1000,
      cancelOnAbort: flags.cancelOnAbort === true,
      onProgress: (p) => {
        if (p.stage === 'render') {
          render.update(p.percent);
          return;
        }
        if (!download) {
          render.update(100);
          render.stop();
          render = { update() {}, stop() {} };
          out.stage('Downloading');
          rt.context.afterAbort = `The download was interrupted; the part received is kept in ${path}.part: run "${again}" to resume it (export costs no credits).`;
          download = out.progress('download', 'bytes', p.totalBytes);
        }
        download.update(p.loadedBytes, p.totalBytes);
      },
    });
    renderId = result.renderId;
  } catch (error) {
    out.stopProgress();
    if (!existed) {
      // The SDK writes to a temporary file and renames it at the end; make sure nothing is left.
      await rm(path, { force: true }).catch(() => {});
    }
    if (signal.aborted && flags.cancelOnAbort) out.warn('Render cancellation requested.');
    throw error;
  }
  render.stop();
  download?.stop();
  const written = result.path ?? path;
  const probe = await probeMp4(written);
  if (!probe.valid) {
    out.warn(`${displayPath(written)} does not look like a valid MP4 (${probe.problem}).`);
  }
  const durationSec = probe.durationSec ?? result.durationSec;
  const bytes = result.bytes ?? probe.sizeBytes;
  return {
    path: written,
    bytes,
    durationSec,
    renderId: renderId ?? '',
    url: result.url,
    sessionId: session.id,
  };
}

/** Print the end of a `download` or `export`: the path, size and duration (`extra` joins the JSON). */
export function reportSaved(
  rt: Runtime,
  saved: SavedVideo,
  extra: Record<string, unknown> = {},
): void {
  const { out } = rt;
  const duration = saved.durationSec !== undefined ? `, ${formatDuration(saved.durationSec)}` : '';
  if (out.json) {
    out.emit({
      path: saved.path,
      bytes: saved.bytes,
      durationSec: saved.durationSec ?? null,
      sessionId: saved.sessionId,
      renderId: saved.renderId,
      url: saved.url,
      ...extra,
    });
    return;
  }
  out.result(`Saved ${displayPath(saved.path)} (${formatBytes(saved.bytes)}${duration})`);
}

import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { UploadedFile } from '../../helpers.js';
import { usageError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import type { Runtime, RuntimeFactory } from '../runtime.js';
import { isWebUrl, parseSessionId, parseVideoUrl } from './common.js';

/** One line about an uploaded file: `city.mp4 (video, 0:30, 1920×1080)`. */
export function describeUploadedFile(file: UploadedFile): string {
  const facts: string[] = [file.fileType];
  if (file.durationSec !== undefined) facts.push(formatDuration(file.durationSec));
  if (file.width !== undefined && file.height !== undefined)
    facts.push(`${file.width}×${file.height}`);
  return `${file.filename} (${facts.join(', ')})`;
}

/** The JSON shape of an uploaded file in `--json` output (no raw wire body). */
export function uploadedFileJson(file: UploadedFile): Record<string, unknown> {
  return {
    filename: file.filename,
    fileType: file.fileType,
    url: file.url,
    durationSec: file.durationSec ?? null,
    width: file.width ?? null,
    height: file.height ?? null,
    fps: file.fps ?? null,
  };
}

async function checkFile(path: string, accepted: readonly string[]): Promise<number> {
  const ext = extname(path).slice(1).toLowerCase();
  if (!accepted.includes(ext)) {
    throw usageError(
      `Cannot upload ${path}: ${ext ? `.${ext} files are` : 'a file without an extension is'} not accepted. Accepted formats: ${accepted.join(', ')}. Convert it to one of them.`,
    );
  }
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw usageError(`${path} is not a file. Give a video, image or audio file.`);
    return info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw usageError(`File not found: ${path}. Check the path, or pass an http(s) link.`);
    }
    throw error;
  }
}

async function upload(rt: Runtime, sessionId: string, inputs: string[]): Promise<void> {
  const { out, signal } = rt;
  const urls = inputs.filter(isWebUrl).map(parseVideoUrl);
  const files = inputs.filter((input) => !isWebUrl(input));
  const client = rt.client();
  let totalBytes = 0;
  for (const file of files) totalBytes += await checkFile(file, client.backend.acceptedFormats);

  rt.context.sessionId = sessionId;
  const session = client.sessions.open(sessionId);
  const uploaded: UploadedFile[] = [];

  if (files.length > 0) {
    out.stage(
      `Uploading ${files.length === 1 ? files[0] : `${files.length} files`} (${formatBytes(totalBytes)})`,
    );
    const bar = out.progress('upload', 'bytes', totalBytes);
    try {
      const result = await session.upload(files, {
        signal,
        onProgress: (p) => bar.update(p.loadedBytes, p.totalBytes),
      });
      bar.stop();
      uploaded.push(...result.files);
    } finally {
      bar.stop();
    }
  }
  if (urls.length > 0) {
    out.stage(`Uploading ${urls.length === 1 ? urls[0] : `${urls.length} links`}`);
    const result = await session.uploadUrl(urls, { signal });
    uploaded.push(...result.files);
  }
  if (out.json) {
    out.emit({ sessionId, files: uploaded.map(uploadedFileJson) });
    return;
  }
  for (const file of uploaded) out.done(`Uploaded ${describeUploadedFile(file)}`);
  for (const file of uploaded) out.result(file.url);
}

/** Registers `nemovideo upload <session-id> <file|url>…`. */
export function registerUpload(program: Command, runtime: RuntimeFactory): void {
  program
    .command('upload')
    .summary('upload files or video links to a session')
    .description(
      'Upload local files (mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac) and/or http(s) links to a session.\nPrints the CDN URL of each uploaded file.',
    )
    .argument('<session-id>', 'the session (from "nemovideo session new")', parseSessionId)
    .argument('<file-or-url...>', 'files and/or http(s) links')
    .addHelpText('after', '\nExample:\n  nemovideo upload 5529798706024415232 intro.mp4 music.mp3')
    .action(async (sessionId: string, inputs: string[], _flags: unknown, cmd: Command) => {
      await upload(runtime(cmd), sessionId, inputs);
    });
}

import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { UploadedFile } from '../../helpers.js';
import { usageError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import { isWebUrl, parseVideoUrl } from './common.js';

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

/** What the CLI checks before an upload starts: the service's accepted formats and size limit. */
interface UploadLimits {
  acceptedFormats: readonly string[];
  maxUploadBytes: number;
}

/**
 * Checks a file before anything is sent, in the order a person fixes things: it exists, it is
 * a file, its format is accepted, it is not too large. Resolves with its size.
 */
export async function checkFile(path: string, limits: UploadLimits): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw usageError(`File not found: ${path}. Check the path, or pass an http(s) link.`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw usageError(`Cannot read ${path}: permission denied. Check the file's permissions.`);
    }
    throw error;
  }
  if (info.isDirectory()) {
    throw usageError(`${path} is a folder. Give a video, image or audio file.`);
  }
  if (!info.isFile()) {
    throw usageError(
      `${path} is not a regular file (a pipe or a device). Save it to a file, then upload that.`,
    );
  }
  const accepted = limits.acceptedFormats;
  const ext = extname(path).slice(1).toLowerCase();
  if (!accepted.includes(ext)) {
    throw usageError(
      `Cannot upload ${path}: ${ext ? `.${ext} files are` : 'a file without an extension is'} not accepted. Accepted formats: ${accepted.join(', ')}. Convert it to one of them (or rename it if the extension is wrong).`,
    );
  }
  if (info.size > limits.maxUploadBytes) {
    throw usageError(
      `Cannot upload ${path}: it is ${formatBytes(info.size)}, over the service's upload limit of ${formatBytes(limits.maxUploadBytes)}. Compress or trim it first.`,
    );
  }
  return info.size;
}

async function upload(rt: Runtime, sessionId: string, inputs: string[]): Promise<void> {
  const { out, signal } = rt;
  const urls = inputs.filter(isWebUrl).map(parseVideoUrl);
  const files = inputs.filter((input) => !isWebUrl(input));
  const client = await rt.client();
  let totalBytes = 0;
  for (const file of files) totalBytes += await checkFile(file, client.backend);

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

/** `nemovideo upload <session-id> <file-or-url...>`. */
export const run: CommandRun = (rt, [sessionId, inputs]) =>
  upload(rt, sessionId as string, inputs as string[]);

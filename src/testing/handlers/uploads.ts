/**
 * `POST /api/upload-video/nemo_agent/me/<sid>` (contract §2.4): multipart files (streamed,
 * counted and hashed, never stored) or JSON links. Files land in the session's `video_infos`.
 *
 * @module
 */

import { ApiCodeError, badRequest, HttpError } from '../errors.js';
import { type Authed, bearer } from '../middleware.js';
import { fileTypeOf, parseMultipart } from '../multipart.js';
import { ACCEPTED_LIST, CODES, DEFAULT_MEDIA, PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import type { SessionRecord } from '../store.js';
import type { BodySummary, MediaFile } from '../types.js';
import { clone, extensionOf, isRecord, ok } from '../util.js';

type FileType = 'video' | 'image' | 'audio';

function mediaFile(
  c: Context,
  session: SessionRecord,
  filename: string,
  fileType: FileType,
  hash: string | undefined,
): MediaFile {
  session.uploads++;
  const file: MediaFile = {
    filename,
    file_type: fileType,
    cdn_url: `${c.env.store.cdnUrl}/uploads/${session.sessionId}/${session.uploads}-${encodeURIComponent(filename)}`,
  };
  if (fileType === 'video' || fileType === 'audio') file.duration = DEFAULT_MEDIA.durationSec;
  if (fileType === 'video' || fileType === 'image') {
    file.width = DEFAULT_MEDIA.width;
    file.height = DEFAULT_MEDIA.height;
  }
  if (fileType === 'video') file.fps = DEFAULT_MEDIA.fps;
  if (hash !== undefined) file.hash = hash;
  return file;
}

async function uploadFiles(c: Context, session: SessionRecord): Promise<Response> {
  const parse = parseMultipart(c.request, c.env.store.settings.maxUploadBytes, 'files');
  const summarize = (parsed: {
    files: { field: string; filename: string; mimeType: string; size: number }[];
    fields: Record<string, string>;
  }) => {
    c.record.body = {
      type: 'multipart',
      files: parsed.files.map(({ field, filename, mimeType, size }) => ({
        field,
        filename,
        mimeType,
        size,
      })),
      fields: { ...parsed.fields },
    } satisfies BodySummary;
  };
  // Answer as soon as the verdict is known; the rest of the body is drained in the background.
  parse.done.then(summarize, () => undefined);
  const outcome = await Promise.race([
    parse.done.then((r) => ({ kind: 'done' as const, r })),
    parse.firstError.then((e) => ({ kind: 'error' as const, e })),
  ]);
  const verdict = outcome.kind === 'error' ? outcome.e : outcome.r.error;
  if (verdict) {
    if (verdict.httpStatus) {
      throw new HttpError(verdict.httpStatus, {
        code: verdict.code,
        message: verdict.message,
        data: null,
      });
    }
    throw new ApiCodeError(verdict.code, verdict.message);
  }
  if (outcome.kind !== 'done') throw new Error('unreachable: no verdict and no result');
  summarize(outcome.r);
  const files = outcome.r.files.map((f) =>
    mediaFile(c, session, f.filename, f.fileType ?? 'video', f.hash),
  );
  session.videoInfos.push(...clone(files));
  return ok({ files, session_state_applied: true });
}

/** The file name and type a link stands for (YouTube links are videos). */
function fileOfLink(raw: unknown): { filename: string; fileType: FileType | undefined } {
  let url: URL;
  try {
    if (typeof raw !== 'string') throw new Error('not a string');
    url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw badRequest(`not an http(s) URL: ${JSON.stringify(raw)}`);
  }
  const host = url.hostname.replace(/^www\.|^m\./, '');
  if (host === 'youtube.com' || host === 'youtu.be') {
    const vid =
      url.searchParams.get('v') ?? url.pathname.split('/').filter(Boolean).pop() ?? 'video';
    return { filename: `youtube_${vid}.mp4`, fileType: 'video' };
  }
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  const ext = extensionOf(last);
  return ext
    ? { filename: last, fileType: fileTypeOf(last, '') }
    : { filename: `${last || 'video'}.mp4`, fileType: 'video' };
}

async function uploadUrls(c: Context, session: SessionRecord): Promise<Response> {
  const value = await c.json();
  if (!isRecord(value) || !Array.isArray(value.urls) || value.urls.length === 0) {
    throw badRequest('body must be {"urls":["<url>"],"source_type":"url"}');
  }
  if (value.source_type !== 'url') throw badRequest('source_type must be "url"');
  // Check every link before any lands in the session.
  const links = value.urls.map(fileOfLink);
  for (const { filename, fileType } of links) {
    if (!fileType) {
      throw new ApiCodeError(
        CODES.unsupportedType,
        `Unsupported file type: ${filename}. Accepted formats: ${ACCEPTED_LIST}`,
      );
    }
  }
  const files = links.map(({ filename, fileType }) =>
    mediaFile(c, session, filename, fileType ?? 'video', undefined),
  );
  session.videoInfos.push(...clone(files));
  return ok({ files, session_state_applied: true });
}

async function upload(c: Context<Authed>): Promise<Response> {
  const session = c.env.store.sessionOf(c.vars.user, c.params.sid);
  const type = (c.request.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return uploadFiles(c, session);
  if (type.startsWith('application/json') || type === '') return uploadUrls(c, session);
  throw badRequest(
    `unsupported content type "${type}": send multipart/form-data (field "files") or JSON {"urls":[…],"source_type":"url"}`,
  );
}

export const uploadRoutes: Route[] = [route('POST', PATHS.upload, bearer, upload)];

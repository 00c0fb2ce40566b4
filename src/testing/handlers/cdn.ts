/**
 * The CDN origin: render results (`/renders/<id>.mp4`, expiring URLs, validators, ranges)
 * and uploaded videos (`/uploads/<sid>/<file>`, served as the sample MP4). No auth.
 *
 * @module
 */

import { PlainError } from '../errors.js';
import { serveFile } from '../files.js';
import { expiredStatusOf, resultFileOf } from '../jobs.js';
import { resultMp4 } from '../media.js';
import { fileTypeOf } from '../multipart.js';
import { CDN_PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { fnv1a } from '../util.js';

const EXPIRED_MESSAGE: Record<number, string> = {
  403: 'Request has expired: ask the API for the render again to get a fresh URL',
  404: 'Not Found',
  410: 'Gone: this URL has expired; ask the API for the render again',
};

function serveOptions(c: Context) {
  return {
    ignoreRange: c.fault?.options.ignoreRange,
    onBytes: (n: number) => c.env.log.sent(c.record, n),
  };
}

function renderResult(c: Context): Response {
  const { store } = c.env;
  const file = c.params.file ?? '';
  const id = file.endsWith('.mp4') ? file.slice(0, -4) : file;
  const job = store.renders.get(id);
  if (!job || store.renderView(job).status !== 'completed') throw new PlainError(404, 'Not Found');
  const expired = expiredStatusOf(
    job,
    c.url.searchParams,
    store.now(),
    store.settings.expiredUrlStatus,
  );
  if (expired !== undefined) {
    throw new PlainError(expired, EXPIRED_MESSAGE[expired] ?? 'Expired');
  }
  return serveFile(c.request, resultFileOf(job), serveOptions(c));
}

function uploadedFile(c: Context): Response {
  const file = c.params.file ?? '';
  if (fileTypeOf(file, '') !== 'video') throw new PlainError(404, 'Not Found');
  const mp4 = resultMp4();
  return serveFile(
    c.request,
    {
      size: mp4.length,
      etag: `"u${fnv1a(file)}-${mp4.length}"`,
      lastModified: c.env.store.createdAt,
      name: file,
      stream: (start, end, onBytes) => {
        const bytes = mp4.subarray(start, end);
        return new ReadableStream<Uint8Array>({
          start(controller) {
            onBytes?.(bytes.byteLength);
            controller.enqueue(bytes);
            controller.close();
          },
        });
      },
    },
    serveOptions(c),
  );
}

export const cdnRoutes: Route[] = [
  route('GET', CDN_PATHS.render, renderResult),
  route('HEAD', CDN_PATHS.render, renderResult),
  route('GET', CDN_PATHS.upload, uploadedFile),
  route('HEAD', CDN_PATHS.upload, uploadedFile),
];

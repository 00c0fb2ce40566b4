/**
 * Render endpoints (contract §2.7): start, poll, cancel, and the fallback download with the
 * bearer token. A job's state is computed from the clock (jobs.ts).
 *
 * @module
 */

import { isRenderable } from '../draft.js';
import { HttpError, RenderError } from '../errors.js';
import { serveFile } from '../files.js';
import {
  isTerminal,
  markFailure,
  markStall,
  newJob,
  type RenderJob,
  resultFileOf,
} from '../jobs.js';
import { resultSize } from '../media.js';
import { type Authed, bearer } from '../middleware.js';
import { HEADERS, PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { clone, isRecord, jsonResponse } from '../util.js';

/** The body in the configured render shape. */
function renderBody(c: Context, data: Record<string, unknown>): Response {
  return jsonResponse(
    c.env.store.settings.renderShape === 'wrapped' ? { success: true, data } : data,
  );
}

async function startRender(c: Context<Authed>): Promise<Response> {
  const { store } = c.env;
  const missing = HEADERS.attribution.filter((h) => !c.request.headers.get(h)?.trim());
  if (missing.length > 0) {
    throw new HttpError(402, {
      success: false,
      error: `Payment Required: export is blocked on the free plan for requests without attribution (missing ${missing.join(', ')})`,
    });
  }
  const value = await c.json();
  if (!isRecord(value)) throw new RenderError(400, 'body must be a JSON object');
  if (typeof value.id !== 'string' || value.id === '') {
    throw new RenderError(400, 'id is required (a unique string)');
  }
  if (typeof value.sessionId !== 'string') {
    throw new RenderError(400, 'sessionId is required (a string)');
  }
  const session = store.sessionOf(c.vars.user, value.sessionId);
  if (store.renders.has(value.id)) {
    throw new RenderError(409, `render id already exists: ${value.id}`);
  }
  if (!isRenderable(value.draft)) {
    throw new RenderError(
      400,
      'draft is not ready to export: it needs a track with at least one segment',
    );
  }
  const output = isRecord(value.output) ? value.output : { format: 'mp4', quality: 'high' };
  if (output.format !== undefined && output.format !== 'mp4') {
    throw new RenderError(400, `unsupported output format: ${String(output.format)} (mp4 only)`);
  }
  const job = newJob(
    {
      id: value.id,
      sessionId: session.sessionId,
      userId: c.vars.user.userId,
      draft: clone(value.draft),
      output: clone(output),
      durationMs: store.settings.renderDurationMs,
      sizeBytes: resultSize(store.settings.resultSizeBytes || undefined),
    },
    store.now(),
  );
  markFailure(job, store.renderFailure);
  markStall(job, store.renderStall);
  store.renders.set(job.id, job);
  const view = store.renderView(job);
  if (store.settings.renderShape === 'wrapped') {
    return renderBody(c, {
      id: job.id,
      status: view.status,
      progress: view.progress,
      createdAt: view.createdAt,
    });
  }
  return renderBody(c, { id: job.id, status: view.status, progress: view.progress });
}

/** The user's job of the path's id; 404 otherwise. */
function jobOf(c: Context<Authed>): RenderJob {
  const id = c.params.id;
  const job = id === undefined ? undefined : c.env.store.renders.get(id);
  if (!job || job.userId !== c.vars.user.userId) {
    throw new RenderError(404, `render not found: ${id ?? ''}`);
  }
  return job;
}

function pollRender(c: Context<Authed>): Response {
  const v = c.env.store.renderView(jobOf(c));
  if (c.env.store.settings.renderShape === 'wrapped') {
    const data: Record<string, unknown> = {
      id: v.id,
      status: v.status,
      progress: v.progress,
      outputUrl: v.url ?? null,
      createdAt: v.createdAt,
      completedAt: v.completedAt ?? null,
    };
    if (v.error !== undefined) data.error = v.error;
    return renderBody(c, data);
  }
  const body: Record<string, unknown> = { id: v.id, status: v.status, progress: v.progress };
  if (v.url !== undefined) body.output = { url: v.url, duration: v.durationSec, size: v.sizeBytes };
  if (v.error !== undefined) body.error = v.error;
  return jsonResponse(body);
}

function cancelRender(c: Context<Authed>): Response {
  const job = jobOf(c);
  const view = c.env.store.renderView(job);
  if (isTerminal(view)) throw new RenderError(409, `render ${job.id} is already ${view.status}`);
  job.cancelledAt = c.env.store.now();
  return renderBody(c, { id: job.id, status: 'cancelled' });
}

function downloadRender(c: Context<Authed>): Response {
  const job = jobOf(c);
  const view = c.env.store.renderView(job);
  if (view.status !== 'completed') {
    throw new RenderError(409, `render ${job.id} is ${view.status}, not completed`);
  }
  return serveFile(c.request, resultFileOf(job), {
    ignoreRange: c.fault?.options.ignoreRange,
    onBytes: (n) => c.env.log.sent(c.record, n),
  });
}

export const renderRoutes: Route[] = [
  route('POST', PATHS.renderStart, bearer, startRender),
  route('POST', PATHS.renderCancel, bearer, cancelRender),
  route('GET', PATHS.renderPoll, bearer, pollRender),
  route('GET', PATHS.renderDownload, bearer, downloadRender),
];

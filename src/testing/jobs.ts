/**
 * Render jobs as a function of clock time: a job stores when it started and what was done to
 * it (failure and stall marks, cancel, result replacements, URL generations); its status,
 * progress and result URL are computed when asked. So a render takes exactly its duration
 * of clock time, however many run at once, and a poll costs a few arithmetic operations.
 *
 * @module
 */

import type { ServedFile } from './files.js';
import { resultStream } from './media.js';
import { RENDER } from './protocol.js';
import type { ExpiredUrlStatus, RenderView } from './types.js';
import { fnv1a, isRecord } from './util.js';

/** Renders marked to fail or stall: the next `remaining` jobs (and running ones when set). */
export interface RenderMark {
  atProgress: number;
  remaining: number;
  reason: string;
}

/** A render job. */
export interface RenderJob {
  id: string;
  sessionId: string;
  userId: string;
  draft: unknown;
  output: Record<string, unknown>;
  createdAt: number;
  durationMs: number;
  sizeBytes: number;
  failAt: number | undefined;
  failReason: string | undefined;
  cancelledAt: number | undefined;
  /** Progress (%) where the job stands still until released. */
  stallAt: number | undefined;
  /** Clock time spent stalled (shifts the rest of the job). */
  pausedMs: number;
  /** Bumped by `changeResult()`: other bytes, a new validator. */
  version: number;
  /** Clock time of the last `changeResult()`. */
  changedAt: number | undefined;
  /** Bumped by `expireResultUrls()`: URLs of older generations are expired. */
  urlGeneration: number;
  /** What the CDN answers for a URL of an older generation. */
  expiredStatus: ExpiredUrlStatus;
}

/** A new job started at `now`. */
export function newJob(
  fields: Pick<
    RenderJob,
    'id' | 'sessionId' | 'userId' | 'draft' | 'output' | 'durationMs' | 'sizeBytes'
  >,
  now: number,
): RenderJob {
  return {
    ...fields,
    createdAt: now,
    failAt: undefined,
    failReason: undefined,
    cancelledAt: undefined,
    stallAt: undefined,
    pausedMs: 0,
    version: 0,
    changedAt: undefined,
    urlGeneration: 0,
    expiredStatus: 403,
  };
}

function progressAt(job: RenderJob, at: number): number {
  const elapsed = at - job.createdAt - job.pausedMs;
  if (job.stallAt !== undefined && elapsed >= (job.durationMs * job.stallAt) / 100) {
    return job.stallAt;
  }
  if (job.durationMs <= 0 || elapsed >= job.durationMs) return 100;
  if (elapsed < job.durationMs * RENDER.pendingFraction) return 0;
  return Math.min(99, Math.max(1, Math.floor((elapsed / job.durationMs) * 100)));
}

/** True once the job has completed, failed or been cancelled. */
export function isTerminal(view: { status: RenderView['status'] }): boolean {
  return view.status === 'completed' || view.status === 'failed' || view.status === 'cancelled';
}

/** The result's strong validator. */
export function etagOf(job: RenderJob): string {
  return `"r${fnv1a(job.id)}-${job.version}-${job.sizeBytes}"`;
}

/** Clock time the job completed (or will), stalls included. */
function completedAt(job: RenderJob): number {
  return job.createdAt + job.pausedMs + job.durationMs;
}

/** Clock time the result's bytes last changed (`Last-Modified`). */
export function lastModifiedOf(job: RenderJob): number {
  return Math.max(completedAt(job), job.changedAt ?? 0);
}

/** The CDN URL a poll hands out at `now`. */
export function resultUrlOf(job: RenderJob, cdnUrl: string, now: number, ttlMs: number): string {
  const params: string[] = [];
  if (job.urlGeneration > 0) params.push(`v=${job.urlGeneration}`);
  if (ttlMs > 0) params.push(`expires=${now + ttlMs}`);
  const url = `${cdnUrl}/renders/${encodeURIComponent(job.id)}.mp4`;
  return params.length > 0 ? `${url}?${params.join('&')}` : url;
}

/**
 * Why a CDN URL of this job no longer works (the status to answer), or undefined when it is
 * valid: an older URL generation, or an `expires` in the past.
 */
export function expiredStatusOf(
  job: RenderJob,
  query: URLSearchParams,
  now: number,
  ttlStatus: ExpiredUrlStatus,
): ExpiredUrlStatus | undefined {
  const generation = Number(query.get('v') ?? 0);
  if (generation !== job.urlGeneration) return job.expiredStatus;
  const expires = query.get('expires');
  if (expires !== null && !(now < Number(expires))) return ttlStatus;
  return undefined;
}

function draftDurationSec(draft: unknown): number {
  const d = isRecord(draft) ? draft.d : undefined;
  return typeof d === 'number' && d > 0 ? d / 1000 : 2;
}

/** The job's state at `now`. */
export function viewOf(job: RenderJob, now: number, cdnUrl: string, ttlMs: number): RenderView {
  const base = {
    id: job.id,
    sessionId: job.sessionId,
    createdAt: new Date(job.createdAt).toISOString(),
    durationSec: draftDurationSec(job.draft),
    sizeBytes: job.sizeBytes,
    etag: etagOf(job),
    resultVersion: job.version,
  };
  const at = job.cancelledAt ?? now;
  let progress = progressAt(job, at);
  if (job.failAt !== undefined && progress >= job.failAt) {
    progress = job.failAt;
    const failedAt = job.createdAt + job.pausedMs + (job.durationMs * job.failAt) / 100;
    return {
      ...base,
      status: 'failed',
      progress,
      url: undefined,
      error: job.failReason ?? 'Render failed',
      completedAt: new Date(failedAt).toISOString(),
    };
  }
  if (job.cancelledAt !== undefined) {
    return {
      ...base,
      status: 'cancelled',
      progress,
      url: undefined,
      error: undefined,
      completedAt: new Date(job.cancelledAt).toISOString(),
    };
  }
  if (progress >= 100) {
    return {
      ...base,
      status: 'completed',
      progress: 100,
      url: resultUrlOf(job, cdnUrl, now, ttlMs),
      error: undefined,
      completedAt: new Date(completedAt(job)).toISOString(),
    };
  }
  return {
    ...base,
    status: progress === 0 ? 'pending' : 'processing',
    progress,
    url: undefined,
    error: undefined,
    completedAt: undefined,
  };
}

/** Apply a failure mark to a job (one use of it). */
export function markFailure(job: RenderJob, mark: RenderMark | undefined): void {
  if (!mark || mark.remaining <= 0) return;
  mark.remaining--;
  job.failAt = mark.atProgress;
  job.failReason = mark.reason;
}

/** Apply a stall mark to a job (one use of it). */
export function markStall(job: RenderJob, mark: RenderMark | undefined): void {
  if (!mark || mark.remaining <= 0) return;
  mark.remaining--;
  job.stallAt = mark.atProgress;
}

/** Let a stalled job move on from `now`: the time it stood still shifts the rest. */
export function releaseStall(job: RenderJob, now: number): void {
  if (job.stallAt === undefined) return;
  const reached = job.createdAt + job.pausedMs + (job.durationMs * job.stallAt) / 100;
  const end = job.cancelledAt ?? now;
  if (end > reached) job.pausedMs += end - reached;
  job.stallAt = undefined;
}

/** The job's result as a file to serve (CDN and fallback download). */
export function resultFileOf(job: RenderJob): ServedFile {
  const { sizeBytes, version } = job;
  return {
    size: sizeBytes,
    etag: etagOf(job),
    lastModified: lastModifiedOf(job),
    name: `${job.id}.mp4`,
    stream: (start, end, onBytes) => resultStream(sizeBytes, start, end, version, onBytes),
  };
}

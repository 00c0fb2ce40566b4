import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { parseRetryAfter } from '../../core/retry.js';
import { looseNumber } from '../../core/schema.js';
import type { RequestOptions } from '../../core/transport.js';

/** Where a render job stands. Unknown `status` values are kept as sent (lower case) and are not terminal. */
export type RenderStatusValue =
  | 'pending'
  | 'processing'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | (string & {});

/** One poll of a render job. */
export interface RenderStatus {
  status: RenderStatusValue;
  /** 0–100, when the service says. */
  progress: number | undefined;
  /** The result URL, once completed (`outputUrl`, `output.url` or `url`). */
  url?: string | undefined;
  /** The server's reason, when failed. */
  error?: string | undefined;
  /** Result duration in seconds, when the service says. */
  durationSec?: number | undefined;
  /** Result size in bytes, when the service says. */
  sizeBytes?: number | undefined;
  /** The poll response (its `data` when enveloped). */
  raw: unknown;
}

// ── poll decoding ──

const optionalText = z.optional(z.nullable(z.unknown()));
const pollLevel = z.looseObject({
  status: z.optional(z.nullable(z.string())),
  progress: z.optional(z.nullable(looseNumber)),
  outputUrl: z.optional(z.nullable(z.string())),
  output_url: z.optional(z.nullable(z.string())),
  url: z.optional(z.nullable(z.string())),
  output: z.optional(
    z.nullable(
      z.looseObject({
        url: z.optional(z.nullable(z.string())),
        duration: z.optional(z.nullable(looseNumber)),
        size: z.optional(z.nullable(looseNumber)),
      }),
    ),
  ),
  duration: z.optional(z.nullable(looseNumber)),
  size: z.optional(z.nullable(looseNumber)),
  error: optionalText,
  message: optionalText,
});

type PollLevel = z.infer<typeof pollLevel>;

function reasonOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object') {
    const message = (value as { message?: unknown; reason?: unknown }).message;
    if (typeof message === 'string') return message;
    const reason = (value as { reason?: unknown }).reason;
    if (typeof reason === 'string') return reason;
    return JSON.stringify(value);
  }
  return undefined;
}

function normalizeStatus(value: string | null | undefined): RenderStatusValue {
  const s = (value ?? '').trim().toLowerCase();
  if (s === 'canceled') return 'cancelled';
  return s === '' ? 'unknown' : s;
}

/**
 * Decode a poll response from either documented shape: top level
 * `{status, progress, output: {url, duration, size}, error}` or wrapped
 * `{success, data: {status, progress, outputUrl, error}}` (the transport
 * unwraps the envelope; a bare `{data: {...}}` is read too).
 */
export function decodeRenderStatus(body: unknown): RenderStatus {
  const levels: PollLevel[] = [];
  const top = pollLevel.safeParse(body);
  if (top.success) levels.push(top.data);
  const nested = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  const inner = pollLevel.safeParse(nested);
  if (inner.success) levels.unshift(inner.data);
  const first = <T>(read: (level: PollLevel) => T | null | undefined): T | undefined => {
    for (const level of levels) {
      const value = read(level);
      if (value !== undefined && value !== null) return value;
    }
    return undefined;
  };
  const status = normalizeStatus(first((l) => l.status));
  const progress = first((l) => l.progress);
  const url = first((l) => l.outputUrl ?? l.output_url ?? l.output?.url ?? l.url);
  const error = first(
    (l) => reasonOf(l.error) ?? (status === 'failed' ? reasonOf(l.message) : undefined),
  );
  return {
    status,
    progress: progress === undefined ? undefined : Math.min(100, Math.max(0, progress)),
    url: url?.trim() ? url : undefined,
    error,
    durationSec: first((l) => l.output?.duration ?? l.duration),
    sizeBytes: first((l) => l.output?.size ?? l.size),
    raw: body,
  };
}

// ── one poll ──

/** One poll's answer and the wait its `Retry-After` asks for. */
export interface PollOutcome {
  status: RenderStatus;
  retryAfterMs: number | undefined;
}

/**
 * @internal `GET` the render's status once. A read: the transport retries it on
 * transient failures. Used by `RenderJob` and by downloads that renew an
 * expired result URL.
 */
export async function pollRender(
  ctx: ClientContext,
  renderId: string,
  options: RequestOptions = {},
): Promise<PollOutcome> {
  let retryAfterMs: number | undefined;
  const body = await ctx.transport.json<unknown>({
    ...options,
    method: 'GET',
    path: ctx.backend.paths.renderPoll(renderId),
    replay: 'safe',
    what: 'the render status response',
    onResponse: (response) => {
      retryAfterMs = parseRetryAfter((name) => response.headers.get(name), ctx.clock.now());
    },
  });
  return { status: decodeRenderStatus(body), retryAfterMs };
}

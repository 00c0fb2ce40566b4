import type { ClientContext } from '../../core/context.js';
import type { RequestOptions } from '../../core/transport.js';
import { ConfigError } from '../../errors/errors.js';
import { pollRender } from './poll.js';
import { RenderJob, type RenderJobJSON } from './render.js';

/** Options of `client.renders.retrieve()`. */
export interface RetrieveRenderOptions extends RequestOptions {
  /** The session the job rendered, when you know it and `job` does not say (kept in `toJSON()`). */
  sessionId?: string | undefined;
}

/** Render jobs by id: `client.renders`. */
export class RendersResource {
  readonly #ctx: ClientContext;

  /** @internal Use `client.renders`. */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /**
   * A render job by id, from any process: the one that started it or another
   * (after a crash, from a queue worker, from the CLI). Polls the job once (so
   * an unknown id fails here) and returns a {@link RenderJob} whose
   * `status()`, `wait()` and `cancel()` work as on the job `session.render()`
   * returned; `job.lastStatus` holds that first poll. Pass the id, or what `job.toJSON()` gave (then a later `wait()`
   * keeps the poll schedule's pace for the job's age).
   *
   * @throws {ApiError} the service does not know the id (for example HTTP 404).
   * @throws {ConfigError} `job` is neither an id nor a `toJSON()` object.
   *
   * @example
   * ```ts
   * // Process A saved JSON.stringify(job) before it died; process B:
   * const job = await client.renders.retrieve(JSON.parse(saved));
   * console.log(job.lastStatus.status);
   * const result = await job.wait();
   * await client.download(result.url, 'out.mp4', { renderId: job.renderId });
   * ```
   */
  async retrieve(
    job: string | RenderJobJSON,
    options: RetrieveRenderOptions = {},
  ): Promise<RenderJob> {
    const { sessionId, ...request } = options;
    const init = parseJobRef(job);
    const { status } = await pollRender(this.#ctx, init.renderId, request);
    return new RenderJob(this.#ctx, {
      ...init,
      sessionId: init.sessionId ?? sessionId ?? sessionIdIn(status.raw),
      lastStatus: status,
    });
  }
}

function parseJobRef(job: string | RenderJobJSON): {
  renderId: string;
  sessionId: string | undefined;
  startedAt: number | undefined;
} {
  if (typeof job === 'string') {
    if (job.trim() === '') throw new ConfigError('renders.retrieve() needs a render id.');
    return { renderId: job, sessionId: undefined, startedAt: undefined };
  }
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.renderId !== 'string' ||
    job.renderId.trim() === ''
  ) {
    throw new ConfigError(
      'renders.retrieve() needs a render id or what job.toJSON() gave ({ renderId, sessionId?, startedAt? }).',
    );
  }
  const started = typeof job.startedAt === 'string' ? Date.parse(job.startedAt) : Number.NaN;
  return {
    renderId: job.renderId,
    sessionId:
      typeof job.sessionId === 'string' && job.sessionId !== '' ? job.sessionId : undefined,
    startedAt: Number.isFinite(started) ? started : undefined,
  };
}

/** The session id a poll response names (`sessionId` / `session_id`, top level or in `data`), if any. */
function sessionIdIn(raw: unknown): string | undefined {
  const levels = [raw, (raw as { data?: unknown } | null)?.data];
  for (const level of levels) {
    if (!level || typeof level !== 'object') continue;
    const r = level as Record<string, unknown>;
    for (const value of [r.sessionId, r.session_id]) {
      if (typeof value === 'string' && value !== '') return value;
    }
  }
  return undefined;
}

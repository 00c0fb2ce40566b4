import type { ClientContext } from '../../core/context.js';
import type { TransferProgress } from '../../core/progress.js';
import { type DownloadTarget, download } from '../downloads/download.js';
import { encodeDraft } from '../state/draft.js';
import { readState } from '../state/state.js';
import { isExportReady } from '../state/summary.js';
import type { RenderStatus } from './poll.js';
import { notReady, type RenderOutput, type RenderResult, startRender } from './render.js';

/** Progress of `session.export()`: the render, then the download. `percent` never goes back within a stage. */
export type ExportProgress =
  | { stage: 'render'; percent: number; status: RenderStatus }
  | ({ stage: 'download' } & TransferProgress);

/** Options of `session.export()`. */
export interface ExportOptions {
  /** Output settings; default `{ format: 'mp4', quality: 'high' }`. */
  output?: Partial<RenderOutput> | undefined;
  /** Download the result here: a file path (Node) or a `WritableStream`. Default: no download. */
  to?: DownloadTarget | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: ExportProgress) => void) | undefined;
  /** Ms between render polls. Default `backend.render.pollIntervalMs`. */
  pollInterval?: number | undefined;
  /** Most render polls. Default `backend.render.maxPolls`. */
  maxPolls?: number | undefined;
  /** Most ms to wait for the render. */
  maxWait?: number | undefined;
  /** Cancel the render on the server when `signal` aborts. Default false. */
  cancelOnAbort?: boolean | undefined;
  /** Per-request timeout in ms; it also abandons a download that receives nothing for that long. */
  timeout?: number | undefined;
  /**
   * With `to` a path: keep an interrupted download and continue it on the next
   * export or download to the same path (see `client.download()`). Default `true`.
   */
  resume?: boolean | undefined;
}

/** A finished export. `path` and `bytes` are set when `to` was given. */
export interface ExportResult extends RenderResult {
  /** The absolute path written, when `to` was a path. */
  path?: string | undefined;
  /** Bytes downloaded, when `to` was given. */
  bytes?: number | undefined;
}

/** @internal `session.export()`: state → readiness → render → wait → download. */
export async function exportSession(
  ctx: ClientContext,
  sessionId: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const { signal, timeout, onProgress } = options;
  const request = { signal, timeout };
  const state = await readState(ctx, sessionId, request);
  if (!state.draft || !isExportReady(state.draft)) throw notReady(sessionId, state.draft);
  const job = await startRender(ctx, sessionId, {
    ...request,
    draft: encodeDraft(state.draft),
    output: options.output,
  });
  let renderPercent = 0;
  const result = await job.wait({
    signal,
    timeout,
    pollInterval: options.pollInterval,
    maxPolls: options.maxPolls,
    maxWait: options.maxWait,
    cancelOnAbort: options.cancelOnAbort,
    onProgress: (status) => {
      const done = status.status === 'completed';
      renderPercent = done ? 100 : Math.max(renderPercent, Math.min(99, status.progress ?? 0));
      onProgress?.({ stage: 'render', percent: renderPercent, status });
    },
  });
  if (options.to === undefined) return result;
  const downloaded = await download(ctx, result.url, options.to, {
    signal,
    renderId: job.renderId,
    // The per-call timeout also bounds a stalled download (no data for that long).
    idleTimeout: options.timeout,
    resume: options.resume,
    onProgress: (p) =>
      onProgress?.({
        stage: 'download',
        loadedBytes: p.loadedBytes,
        totalBytes: p.totalBytes,
        percent: p.percent,
      }),
  });
  return { ...result, path: downloaded.path, bytes: downloaded.bytes };
}

/**
 * Where a download's bytes go: a file path (Node; resumable, see
 * `path-target.ts`) or the caller's `WritableStream`.
 */
import type { FetchedResponse } from '../../core/transfer.js';

/** What to do with a response, once its status and headers are known. */
export type Begin =
  /** Write the body from `offset` (the bytes already held); the file has `total` bytes when known. */
  | { kind: 'write'; offset: number; total: number | undefined }
  /** The bytes held are the whole file (a 416 to a range starting at its end): commit them. */
  | { kind: 'complete'; total: number }
  /** The bytes held cannot be continued (changed file, odd range): ask again for the whole file. */
  | { kind: 'restart'; why: string };

/** What a failed download leaves to resume from. */
export interface PartialFile {
  path: string;
  bytes: number;
}

export interface Sink {
  /** Headers for the next request: `Range` and `If-Range` when there is something to resume. */
  requestHeaders(): Record<string, string>;
  /** Read the response's status and headers and say how its body is used. */
  begin(response: FetchedResponse): Promise<Begin>;
  /** Queue a chunk; a promise to wait on when too much is in flight. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Whether another attempt may follow this one (a stream that received bytes cannot). */
  canContinue(): boolean;
  /** The file is complete: put it in place. Resolves with its path (a file target). */
  commit(): Promise<string | undefined>;
  /** An attempt failed: keep the bytes known written, ready for another attempt. */
  pause(): Promise<void>;
  /**
   * The download is over without success. `keep`: leave what can be resumed
   * (a path target with resume on) and say where; else remove everything.
   */
  close(keep: boolean, reason: unknown): Promise<PartialFile | undefined>;
}

/** A web `WritableStream` target: written once, front to back; no resume. */
export function streamSink(target: WritableStream<Uint8Array>): Sink {
  const writer = target.getWriter();
  let written = false;
  return {
    requestHeaders: () => ({}),
    async begin(response) {
      if (response.status === 416 || response.status === 206) {
        // Never asked for a range: a server answering one is not sending the file.
        return { kind: 'restart', why: `HTTP ${response.status} to a request without Range` };
      }
      return { kind: 'write', offset: 0, total: undefined };
    },
    async write(chunk) {
      written = true;
      await writer.ready;
      await writer.write(chunk);
    },
    canContinue: () => !written,
    async commit() {
      await writer.close();
      return undefined;
    },
    async pause() {},
    async close(_keep, reason) {
      await writer.abort(reason).catch(() => {});
      return undefined;
    },
  };
}

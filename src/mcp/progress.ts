/**
 * MCP progress notifications for one tool call: sent only when the request carried a
 * `progressToken`, with `progress` strictly increasing as the protocol requires.
 *
 * @module
 */

import type { ServerContext } from '@modelcontextprotocol/server';

/** Reports progress of one request. `report` is a no-op when the client did not ask. */
export interface ProgressReporter {
  /** `progress` out of `total` (omit `total` when unknown); repeated or lower values are dropped. */
  report(progress: number, total: number | undefined, message: string): void;
  /** The next step of a count without total (chat events): progress + 1. */
  step(message: string): void;
  /** Send nothing more; resolves once the notifications already sent are written (before the result). */
  end(): Promise<void>;
}

/** The reporter of the request behind `ctx`. */
export function progressOf(ctx: ServerContext, scrub: (text: string) => string): ProgressReporter {
  const token = ctx.mcpReq._meta?.progressToken;
  let last = -1;
  let ended = false;
  let written: Promise<unknown> = Promise.resolve();
  const send = (progress: number, total: number | undefined, message: string): void => {
    if (token === undefined || ended || ctx.mcpReq.signal.aborted || !(progress > last)) return;
    last = progress;
    const params: Record<string, unknown> = {
      progressToken: token,
      progress,
      message: scrub(message),
    };
    if (total !== undefined) params.total = total;
    // A failed notification (client gone) must not fail the tool.
    written = ctx.mcpReq
      .notify({ method: 'notifications/progress', params })
      .catch(() => undefined);
  };
  return {
    report: send,
    step: (message) => send(last < 0 ? 1 : last + 1, undefined, message),
    end: async () => {
      ended = true;
      await written;
    },
  };
}

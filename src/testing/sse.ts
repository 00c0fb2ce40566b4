/**
 * The `/run_sse` stream: writes the frames of a turn with heartbeats, delays, cuts and stalls.
 * The turn runs to its end on the "server" even when the client goes away (effects apply),
 * except when stalled.
 *
 * @module
 */

import type { Frame, TurnEncoder } from './agent.js';
import type { AgentItem } from './types.js';
import { delay, utf8 } from './util.js';

/** Stream-level fault settings. */
export interface StreamFault {
  cutAfterEvents?: number | undefined;
  cutMode?: 'error' | 'close' | undefined;
  stallAfterEvents?: number | undefined;
  stallWith?: 'silence' | 'heartbeats' | undefined;
}

/** Settings of one SSE turn. */
export interface TurnStreamOptions {
  items: AsyncIterable<AgentItem>;
  encoder: TurnEncoder;
  heartbeatMs: number;
  eventDelayMs: number;
  fault: StreamFault | undefined;
  /** Called once the turn has finished on the server (not when stalled). */
  onDone: () => void;
  /** Maps an exception thrown by the agent to a final item. */
  onAgentError: (error: unknown) => AgentItem;
  /** Registry of open streams, so `reset()`/`close()` can end them. */
  open: Set<() => void>;
}

/** Error used to cut a stream. */
export class StreamCutError extends Error {
  constructor() {
    super('emulator: connection cut (fault injection)');
    this.name = 'StreamCutError';
  }
}

/** Build the SSE body of a turn. */
export function turnStream(opts: TurnStreamOptions): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let clientGone = false;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = new AbortController();

  const write = (frame: Frame) => {
    if (clientGone) return;
    try {
      controller.enqueue(utf8(frame.text));
    } catch {
      clientGone = true;
    }
  };
  const stopHeartbeats = () => {
    if (heartbeatTimer !== undefined) clearTimeout(heartbeatTimer);
    heartbeatTimer = undefined;
  };
  const scheduleHeartbeat = () => {
    if (opts.heartbeatMs <= 0 || clientGone) return;
    heartbeatTimer = setTimeout(() => {
      write(opts.encoder.heartbeat());
      scheduleHeartbeat();
    }, opts.heartbeatMs);
  };
  let cutPending = false;
  const endClient = (how: 'close' | 'error') => {
    stopHeartbeats();
    if (clientGone) return;
    clientGone = true;
    if (how === 'error') {
      // Error only once the client has read what was sent (erroring drops queued chunks).
      cutPending = true;
      maybeCut();
      return;
    }
    try {
      controller.close();
    } catch {
      // already closed
    }
  };
  const maybeCut = () => {
    if (!cutPending || (controller.desiredSize ?? 0) < 1) return;
    cutPending = false;
    try {
      controller.error(new StreamCutError());
    } catch {
      // already closed
    }
  };
  const closeFromOutside = () => {
    stop.abort();
    endClient('close');
  };

  const run = async () => {
    opts.open.add(closeFromOutside);
    scheduleHeartbeat();
    let events = 0;
    let first = true;
    const fault = opts.fault;
    const iterator = opts.items[Symbol.asyncIterator]();
    if (fault?.cutAfterEvents === 0) endClient(fault.cutMode === 'close' ? 'close' : 'error');
    if (fault?.stallAfterEvents === 0) {
      if (fault.stallWith !== 'heartbeats') stopHeartbeats();
      return;
    }
    for (;;) {
      let item: AgentItem;
      try {
        const next = await iterator.next();
        if (next.done || stop.signal.aborted) break;
        item = next.value;
        if ('effect' in item) {
          item.effect();
          continue;
        }
      } catch (error) {
        item = opts.onAgentError(error);
      }
      if ('delayMs' in item) {
        await delay(item.delayMs, stop.signal);
        continue;
      }
      if (!first && opts.eventDelayMs > 0) await delay(opts.eventDelayMs, stop.signal);
      first = false;
      for (const frame of opts.encoder.encode(item)) {
        write(frame);
        if (!frame.counted) continue;
        events++;
        if (fault?.cutAfterEvents !== undefined && events >= fault.cutAfterEvents) {
          endClient(fault.cutMode === 'close' ? 'close' : 'error');
        }
        if (fault?.stallAfterEvents !== undefined && events >= fault.stallAfterEvents) {
          // The turn hangs: nothing more is consumed; heartbeats continue if asked.
          if (fault.stallWith !== 'heartbeats') stopHeartbeats();
          return;
        }
      }
      if ('error' in item) break;
    }
    opts.onDone();
    opts.open.delete(closeFromOutside);
    endClient('close');
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        void run();
      },
      pull() {
        maybeCut();
      },
      cancel() {
        clientGone = true;
        stopHeartbeats();
        opts.open.delete(closeFromOutside);
      },
    },
    new CountQueuingStrategy({ highWaterMark: 1 }),
  );
}

/** Normalise an agent result into an async iterable. */
export async function* toAsync(
  items: Iterable<AgentItem> | AsyncIterable<AgentItem>,
): AsyncGenerator<AgentItem> {
  yield* items;
}

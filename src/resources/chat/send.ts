import type { SessionRef } from '../../core/context.js';
import { sleep } from '../../core/timers.js';
import { neverDelivered } from '../../errors/delivery.js';
import {
  AbortError,
  ApiError,
  ConfigError,
  ConnectionError,
  isNemoError,
  StreamError,
  TimeoutError,
  TurnLostError,
  TurnTimeoutError,
} from '../../errors/errors.js';
import { readState, type SessionState } from '../state/state.js';
import { diffTimelines, type TimelineChanges } from '../state/summary.js';
import type { ChatEvent } from './events.js';
import type { TurnResult } from './reply.js';
import { type ChatOptions, startChat, turnSoFar } from './stream.js';

/** Options of `session.send()`. */
export interface SendOptions extends ChatOptions {
  /** Called with every event as it arrives (to show progress while `send()` waits). */
  onEvent?: ((event: ChatEvent) => void) | undefined;
  /**
   * When to read the session state around the turn:
   * - `silent` (default): before the turn, and after it when it produced no text;
   * - `always`: before and after every turn (`changes` is always set);
   * - `never`: no state reads, hence no recovery either.
   */
  stateCheck?: 'silent' | 'always' | 'never' | undefined;
  /**
   * Follow the documented recovery when the connection drops (default true):
   * never re-send; wait, read the state, and succeed as soon as it changed.
   */
  recover?: boolean | undefined;
}

/**
 * Did the turn end because the connection dropped after the server may have
 * received the message (so the outcome is unknown and the state tells)?
 */
function droppedConnection(error: unknown, last: ChatEvent | undefined): boolean {
  if (error instanceof StreamError) return last?.type !== 'error';
  if (error instanceof TurnTimeoutError) return false;
  if (error instanceof TimeoutError)
    return error.kind === 'stream-idle' || error.kind === 'request';
  if (error instanceof ConnectionError) return !neverDelivered(error);
  if (error instanceof ApiError) return error.httpStatus === 502 || error.httpStatus === 504;
  return false;
}

/** A failed state read during recovery that may succeed later. */
function transientRead(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  if (error instanceof TimeoutError) return error.kind === 'request';
  if (error instanceof ApiError) return error.httpStatus >= 500 || error.httpStatus === 429;
  return false;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One line saying what changed between two states, or `undefined` when
 * nothing did: the timeline diff, else media generated or added.
 */
export function describeStateChange(
  before: SessionState,
  after: SessionState,
  changes: TimelineChanges = diffTimelines(before.draft, after.draft),
): string | undefined {
  const parts: string[] = [];
  if (changes.changed) parts.push(changes.summary);
  if (!sameJson(before.generatedMedia, after.generatedMedia)) {
    const n = after.generatedMedia.length - before.generatedMedia.length;
    parts.push(n > 0 ? `${n} generated media added` : 'generated media changed');
  }
  if (
    !sameJson(
      before.videoInfos.map((v) => v.raw),
      after.videoInfos.map((v) => v.raw),
    )
  ) {
    const n = after.videoInfos.length - before.videoInfos.length;
    parts.push(n > 0 ? `${n} media files added` : 'media files changed');
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function describeMs(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

/** @internal `session.send()`. */
export async function sendMessage(
  session: SessionRef,
  message: string,
  options: SendOptions = {},
): Promise<TurnResult> {
  const { onEvent, stateCheck = 'silent', recover = true, ...chatOptions } = options;
  if (stateCheck !== 'silent' && stateCheck !== 'always' && stateCheck !== 'never') {
    throw new ConfigError(
      `stateCheck must be 'silent', 'always' or 'never' (got ${JSON.stringify(stateCheck)}).`,
    );
  }
  if (typeof message !== 'string' || message.trim() === '') {
    throw new ConfigError(
      `session.send() needs a non-empty message string (got ${JSON.stringify(message)}).`,
    );
  }
  const signal = options.signal ?? undefined;
  const readOptions = { signal };
  const { ctx } = session;
  const readSession = (options: { signal: AbortSignal | undefined }) =>
    readState(ctx, session.id, options);
  const before = stateCheck === 'never' ? undefined : await readSession(readOptions);

  const stream = startChat(ctx, session.id, message, chatOptions);
  try {
    for await (const event of stream) onEvent?.(event);
  } catch (error) {
    const soFar = turnSoFar(stream);
    if (!recover || !before || !droppedConnection(error, soFar.events.at(-1))) throw error;
    return recoverTurn(session, before, soFar, error as Error, signal);
  }
  const result = turnSoFar(stream);
  if (!before || (stateCheck === 'silent' && !result.silent)) return result;
  let after: SessionState;
  try {
    after = await readSession(readOptions);
  } catch (error) {
    // The message went out: say so, or a caller would send it (and pay for it) again.
    if (isNemoError(error)) {
      error.message = `The message was sent and the turn ended, but reading the session state after it failed: ${error.message} Do not send the message again; read session.state() to see what the turn changed.`;
    }
    throw error;
  }
  const changes = diffTimelines(before.draft, after.draft);
  return {
    ...result,
    changes,
    summary: describeStateChange(before, after, changes) ?? 'no changes',
    stateAfter: after,
  };
}

/**
 * The documented disconnect recovery (protocol §2.3): never re-send; wait
 * `recoveryFirstWaitMs`, read the state; changed → done; else read again
 * every `recoveryIntervalMs`; `recoveryMaxUnchangedReads` unchanged reads →
 * `TurnLostError`. All waits on the client's clock, abortable.
 */
async function recoverTurn(
  session: SessionRef,
  before: SessionState,
  soFar: TurnResult,
  cause: Error,
  signal: AbortSignal | undefined,
): Promise<TurnResult> {
  const { ctx } = session;
  const { recoveryFirstWaitMs, recoveryIntervalMs, recoveryMaxUnchangedReads } = ctx.backend.turn;
  const { clock, logger } = ctx;
  const started = clock.now();
  logger.warn(
    `Chat turn on session ${session.id} lost its connection (${cause.name}). Not re-sending the message; checking the session state in ${describeMs(recoveryFirstWaitMs)}.`,
  );
  let lastReadError: unknown;
  for (let read = 1; read <= recoveryMaxUnchangedReads; read++) {
    await sleep(clock, read === 1 ? recoveryFirstWaitMs : recoveryIntervalMs, signal);
    let after: SessionState;
    try {
      after = await readState(ctx, session.id, { signal });
    } catch (error) {
      if (error instanceof AbortError || !transientRead(error)) throw error;
      lastReadError = error;
      logger.info(`Recovery read ${read} of session ${session.id} failed: ${String(error)}`);
      continue;
    }
    const changes = diffTimelines(before.draft, after.draft);
    const summary = describeStateChange(before, after, changes);
    if (summary !== undefined) {
      logger.info(`Recovered the chat turn on session ${session.id}: ${summary}`);
      return {
        ...soFar,
        changes,
        summary,
        stateAfter: after,
        recovery: { error: cause, reads: read, waitedMs: clock.now() - started },
      };
    }
  }
  const waited = clock.now() - started;
  const readFailure =
    lastReadError instanceof Error ? ` (last read failed: ${lastReadError.message})` : '';
  throw new TurnLostError(
    `The connection dropped during the chat turn (${cause.message}) and the session state did not change in ${recoveryMaxUnchangedReads} reads over ${describeMs(waited)}${readFailure}. ` +
      'The message was not re-sent and the turn most likely failed. Send it again yourself if you still want it (it may be charged again).',
    { cause },
  );
}

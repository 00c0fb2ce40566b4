/**
 * `POST /run_sse` (contract §2.3): runs the agent's turn and streams it as Server-Sent Events.
 * Credits a turn needs are reserved (frozen) while it runs and spent when it ends.
 *
 * @module
 */

import { type DefaultAgentEnv, defaultAgentItems, TurnEncoder } from '../agent.js';
import { ApiCodeError, badRequest, HttpError } from '../errors.js';
import { type Authed, bearer } from '../middleware.js';
import { APP_NAME, CODES, COSTS, PATHS, USER_ME } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { toAsync, turnStream } from '../sse.js';
import type { AgentContext, AgentItem, AgentResult } from '../types.js';
import { clone, isRecord } from '../util.js';

/** Thrown by `charge()` when the balance is too low. */
class CreditsError extends Error {
  constructor(needed: number, available: number) {
    super(`Insufficient credits: this needs ${needed}, ${available} available`);
  }
}

/** The user message of a valid `/run_sse` body, or a 400. */
function messageOf(value: unknown): { sessionId: string | undefined; message: string } {
  if (!isRecord(value)) throw badRequest('body must be a JSON object');
  if (value.app_name !== APP_NAME) throw badRequest(`app_name must be "${APP_NAME}"`);
  if (value.user_id !== USER_ME) throw badRequest(`user_id must be "${USER_ME}"`);
  const sessionId = typeof value.session_id === 'string' ? value.session_id : undefined;
  if (sessionId === undefined && value.session_id !== undefined) {
    throw badRequest('session_id must be a string');
  }
  const parts = isRecord(value.new_message) ? value.new_message.parts : undefined;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw badRequest('new_message.parts must be a non-empty array');
  }
  const message = parts
    .map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : ''))
    .join('');
  return { sessionId, message };
}

async function runSse(c: Context<Authed>): Promise<Response> {
  const { store, streams } = c.env;
  const { user } = c.vars;
  const { sessionId, message } = messageOf(await c.json());
  const session = store.sessionOf(user, sessionId);

  session.turns++;
  let reserved = 0;
  const charge = (credits: number) => {
    if (credits <= 0) return;
    if (user.available < credits) throw new CreditsError(credits, user.available);
    user.available -= credits;
    user.frozen += credits;
    reserved += credits;
  };
  const env: DefaultAgentEnv = { cdnUrl: store.cdnUrl, taskName: session.taskName };
  const ctx: AgentContext = {
    sessionId: session.sessionId,
    userId: user.userId,
    turn: session.turns,
    get draft() {
      return clone(session.draft);
    },
    videoInfos: clone(session.videoInfos),
    setDraft: (draft) => {
      session.draft = clone(draft);
    },
    addGeneratedMedia: (item) => {
      session.generatedMedia.push(clone(item));
    },
    charge,
    chargeEdit: () => {
      if (session.editCharged) return;
      charge(COSTS.editSession);
      session.editCharged = true;
    },
    defaultAgent: () => defaultAgentItems(message, ctx, env),
  };
  const release = () => {
    user.frozen -= reserved;
    reserved = 0;
  };

  let result: AgentResult;
  try {
    result = await (store.agent ? store.agent(message, ctx) : ctx.defaultAgent());
  } catch (error) {
    // Nothing was streamed yet: answer with a JSON error, refunding what was reserved.
    user.available += reserved;
    release();
    if (error instanceof CreditsError) throw new ApiCodeError(CODES.outOfCredits, error.message);
    const detail = error instanceof Error ? error.message : String(error);
    throw new HttpError(500, { code: 500, message: `agent error: ${detail}` });
  }

  const settings = store.settings;
  const o = c.fault?.options;
  const stream = turnStream({
    items: toAsync(result),
    encoder: new TurnEncoder({
      style: settings.eventStyle,
      partial: settings.partial,
      heartbeatStyle: settings.heartbeatStyle,
      now: () => store.now(),
    }),
    heartbeatMs: settings.heartbeatMs,
    eventDelayMs: settings.eventDelayMs,
    fault: o && {
      cutAfterEvents: o.cutAfterEvents,
      cutMode: o.cutMode,
      stallAfterEvents: o.stallAfterEvents,
      stallWith: o.stallWith,
    },
    onDone: release,
    onAgentError: (error): AgentItem =>
      error instanceof CreditsError
        ? { error: error.message, code: CODES.outOfCredits, as: 'event' }
        : { error: error instanceof Error ? error.message : String(error) },
    open: streams,
  });
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    },
  });
}

export const chatRoutes: Route[] = [route('POST', PATHS.runSse, bearer, runSse)];

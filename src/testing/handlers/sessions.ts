/**
 * `POST /api/tasks/me/with-session/nemo_agent` (contract §2.2).
 *
 * @module
 */

import { badRequest } from '../errors.js';
import { type Authed, bearer } from '../middleware.js';
import { PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import type { SessionRecord } from '../store.js';
import { isRecord, numericId, ok } from '../util.js';

async function createSession(c: Context<Authed>): Promise<Response> {
  const { user } = c.vars;
  const value = (await c.json()) ?? {};
  if (!isRecord(value)) throw badRequest('body must be a JSON object');
  const taskName = value.task_name ?? 'project';
  const language = value.language ?? 'en';
  if (typeof taskName !== 'string' || typeof language !== 'string') {
    throw badRequest('task_name and language must be strings');
  }
  const session: SessionRecord = {
    sessionId: numericId(),
    taskId: numericId(),
    userId: user.userId,
    taskName,
    language,
    draft: null,
    videoInfos: [],
    generatedMedia: [],
    editCharged: false,
    turns: 0,
    uploads: 0,
  };
  c.env.store.sessions.set(session.sessionId, session);
  return ok({ session_id: session.sessionId, task_id: session.taskId, user_id: user.userId });
}

export const sessionRoutes: Route[] = [route('POST', PATHS.createSession, bearer, createSession)];

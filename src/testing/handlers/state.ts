/**
 * `GET /api/state/nemo_agent/me/<sid>/latest` (contract §2.6).
 *
 * @module
 */

import { type Authed, bearer } from '../middleware.js';
import { PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { clone, ok } from '../util.js';

function ratioOf(w: number, h: number): string {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(w, h) || 1;
  return `${w / g}:${h / g}`;
}

function latestState(c: Context<Authed>): Response {
  const session = c.env.store.sessionOf(c.vars.user, c.params.sid);
  const state: Record<string, unknown> = {
    draft: clone(session.draft),
    video_infos: clone(session.videoInfos),
    generated_media: clone(session.generatedMedia),
  };
  const m = session.draft?.m;
  if (m && typeof m.width === 'number' && typeof m.height === 'number') {
    state.canvas_config = { width: m.width, height: m.height, ratio: ratioOf(m.width, m.height) };
  }
  return ok({
    session_id: session.sessionId,
    task_id: session.taskId,
    task_name: session.taskName,
    state,
  });
}

export const stateRoutes: Route[] = [route('GET', PATHS.state, bearer, latestState)];

/**
 * `GET /api/credits/balance/simple` (contract §2.5).
 *
 * @module
 */

import { type Authed, bearer } from '../middleware.js';
import { PATHS } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { ok } from '../util.js';

function balance(c: Context<Authed>): Response {
  const { available, frozen } = c.vars.user;
  return ok({ available, frozen, total: available + frozen });
}

export const creditRoutes: Route[] = [route('GET', PATHS.credits, bearer, balance)];

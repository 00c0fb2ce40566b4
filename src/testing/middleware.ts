/**
 * Route middleware.
 *
 * @module
 */

import { HEADERS } from './protocol.js';
import type { Context, Middleware } from './router.js';
import type { UserRecord } from './store.js';

/** What `bearer` gives the handler. */
export interface Authed {
  user: UserRecord;
}

/** `Authorization: Bearer <token>` of a valid token; else JSON code 1001. */
export const bearer: Middleware<Authed> = (c: Context) => ({
  user: c.env.store.userOfBearer(c.request.headers.get(HEADERS.authorization)),
});

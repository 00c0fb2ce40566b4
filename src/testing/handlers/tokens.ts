/**
 * `POST /api/auth/anonymous-token` (contract §2.1): one valid token per client id.
 *
 * @module
 */

import { statusError } from '../errors.js';
import { HEADERS, PATHS, TOKEN_RETRY_AFTER_S } from '../protocol.js';
import { type Context, type Route, route } from '../router.js';
import { ok } from '../util.js';

function anonymousToken(c: Context): Response {
  const store = c.env.store;
  const clientId = c.request.headers.get(HEADERS.clientId)?.trim();
  if (!clientId) throw statusError(400, 'Missing X-Client-Id header');
  if (clientId.length > 64) {
    throw statusError(400, 'X-Client-Id is too long (at most 64 characters)');
  }
  const existing = store.clients.get(clientId);
  if (existing && store.now() < existing.expiresAt) {
    throw statusError(429, 'Too many requests: this client already has a valid anonymous token', {
      'retry-after': String(TOKEN_RETRY_AFTER_S),
    });
  }
  const t = store.issueToken(clientId);
  return ok({
    token: t.token,
    credits: store.users.get(t.userId)?.available ?? 0,
    user_id: t.userId,
    expires_at: new Date(t.expiresAt).toISOString(),
  });
}

export const tokenRoutes: Route[] = [route('POST', PATHS.anonymousToken, anonymousToken)];

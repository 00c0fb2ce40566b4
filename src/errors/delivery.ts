/**
 * Error codes of a connection that never reached the server (DNS, refused, unreachable, TLS):
 * whatever the request carried was not delivered.
 */
const NOT_DELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/**
 * True when an error (or one of its causes) says the connection never reached the server, so
 * the request was certainly not delivered: a chat message in it was not sent and may be sent
 * again. `false` means "maybe delivered", never "not delivered".
 *
 * @example
 * ```ts
 * import { ConnectionError } from 'nemovideo';
 * import { neverDelivered } from 'nemovideo/helpers';
 *
 * try {
 *   await session.send('Trim the first clip');
 * } catch (error) {
 *   if (error instanceof ConnectionError && neverDelivered(error)) {
 *     // safe to send the message again
 *   }
 * }
 * ```
 */
export function neverDelivered(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_DELIVERED_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

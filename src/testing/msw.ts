/**
 * `nemovideo/testing/msw`: msw request handlers that serve an emulator. The only part of
 * `nemovideo/testing` that needs msw (an optional peer dependency: `npm i -D msw`).
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node';
 * import { createEmulator } from 'nemovideo/testing';
 * import { mswHandlers } from 'nemovideo/testing/msw';
 *
 * const emulator = createEmulator();
 * const server = setupServer(...mswHandlers(emulator));
 * server.listen({ onUnhandledRequest: 'error' });
 * ```
 *
 * @module
 */

import { type HttpHandler, http } from 'msw';
import type { Emulator } from './emulator.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * msw handlers for the emulator's API base URL (`emulator.baseUrl`: the `baseUrl` option,
 * else `NEMO_API_URL`, else production) and its CDN origin. Pass them to `setupServer(...)`
 * (Node) or `setupWorker(...)` (browser).
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node';
 * import { createEmulator } from 'nemovideo/testing';
 * import { mswHandlers } from 'nemovideo/testing/msw';
 *
 * const emulator = createEmulator({ renderDurationMs: 0 });
 * const server = setupServer(...mswHandlers(emulator));
 * ```
 */
export function mswHandlers(
  emulator: Pick<Emulator, 'baseUrl' | 'cdnUrl' | 'handle'>,
): HttpHandler[] {
  const serve = ({ request }: { request: Request }) => emulator.handle(request);
  const cdnOrigin = new URL(emulator.cdnUrl).origin;
  return [
    http.all(new RegExp(`^${escapeRegExp(emulator.baseUrl)}/`), serve),
    http.all(new RegExp(`^${escapeRegExp(cdnOrigin)}/`), serve),
  ];
}

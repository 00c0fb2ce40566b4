/**
 * `nemovideo/testing`: a faithful, stateful emulator of the NemoVideo API for tests, with msw
 * handlers, a loopback HTTP server and fault injection. See docs/testing.md.
 *
 * msw is an optional peer dependency: install it (`npm i -D msw`) to use this entry point.
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node';
 * import { createEmulator } from 'nemovideo/testing';
 *
 * const emulator = createEmulator();
 * const server = setupServer(...emulator.handlers);
 * beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
 * afterEach(() => emulator.reset());
 * afterAll(() => server.close());
 * ```
 *
 * @module
 */

import { type HttpHandler, http } from 'msw';
import { Emulator } from './emulator.js';
import type { EmulatorOptions } from './types.js';

export type {
  IssuedToken,
  RenderView,
  SessionSnapshot,
} from './emulator.js';
export { Emulator } from './emulator.js';
export { resultMp4 } from './media.js';
export {
  ACCEPTED_TYPES,
  CODES,
  COSTS,
  DEFAULT_API_URL,
  DEFAULT_CDN_URL,
  PATHS,
  TRACK_TYPES,
} from './protocol.js';
export type * from './types.js';

/** An emulator with msw request handlers for its API and CDN origins. */
export class NemoEmulator extends Emulator {
  /**
   * msw handlers for `baseUrl` (default the production API) and `cdnUrl`: pass them to
   * `setupServer(...)` (Node) or `setupWorker(...)` (browser).
   */
  readonly handlers: HttpHandler[];

  constructor(options: EmulatorOptions = {}) {
    super(options);
    const serve = ({ request }: { request: Request }) => this.handle(request);
    const cdnOrigin = new URL(this.cdnUrl).origin;
    this.handlers = [http.all(`${this.baseUrl}/*`, serve), http.all(`${cdnOrigin}/*`, serve)];
  }
}

/**
 * Create an emulator of the NemoVideo API: stateful, in memory, answering the exact wire
 * shapes of the contract. Use `emulator.handlers` with msw, `emulator.listen()` for a real
 * HTTP server, or `emulator.handle(request)` directly.
 *
 * @example
 * ```ts
 * const emulator = createEmulator({ renderDurationMs: 0 });
 * const server = setupServer(...emulator.handlers);
 * server.listen({ onUnhandledRequest: 'error' });
 * const client = new NemoClient({ clientId: 'test' }); // talks to the emulator
 * ```
 */
export function createEmulator(options: EmulatorOptions = {}): NemoEmulator {
  return new NemoEmulator(options);
}

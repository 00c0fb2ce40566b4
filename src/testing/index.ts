/**
 * `nemovideo/testing`: a faithful, stateful emulator of the NemoVideo API for tests, served
 * in process (`emulator.handle(request)`), over loopback HTTP (`emulator.listen()`), or
 * through msw (`mswHandlers(emulator)` from `nemovideo/testing/msw`, the only part that needs
 * msw). Test controls: faults, a scripted agent, render and CDN controls, a request log and
 * counters, also over HTTP (`connectEmulator(url)`). See docs/testing.md.
 *
 * @example
 * ```ts
 * import { createEmulator } from 'nemovideo/testing';
 *
 * const emulator = createEmulator({ renderDurationMs: 0 });
 * const server = await emulator.listen({ port: 0 });
 * console.log(`export NEMO_API_URL=${server.url}`);
 * await emulator.close();
 * ```
 *
 * @module
 */

export type { Emulator } from './emulator.js';
export { createEmulator } from './emulator.js';
export type { FaultInfo } from './faults.js';
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
export type { RemoteEmulator, RemoteFault, RequestFilter } from './remote.js';
export { connectEmulator } from './remote.js';
export type * from './types.js';

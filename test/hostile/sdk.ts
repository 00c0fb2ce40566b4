/**
 * The only door from test/hostile/ into the SDK. Public names are being
 * renamed (#14: error classes lose their `Nemo` prefix); when they move, this
 * file is the one to change. Everything here comes from the public surface.
 */
import { join } from 'node:path';
import type { DownloadOptions, NemoClientOptions } from '../../src/index.js';

export type { Clock } from '../../src/helpers.js';
export {
  DownloadError,
  type DownloadOptions,
  isNemoError,
  NemoClient,
  type NemoClientOptions,
  NemoError,
  RenderTimeoutError,
  type Session,
  toUpload,
} from '../../src/index.js';

/**
 * Client options that keep the client id in `dir` (file `client_id`).
 * Today the option is `clientIdFile`; the config folder of PLAN.md
 * (`configDir`) may replace it: change it here only.
 */
export function clientIdIn(dir: string): Partial<NemoClientOptions> {
  return { clientIdFile: join(dir, 'client_id') };
}

/** The path of the client id file inside `dir`, as {@link clientIdIn} sets it. */
export function clientIdFileIn(dir: string): string {
  return join(dir, 'client_id');
}

/**
 * Download options that bound a whole download to `ms` (#13 item 11: an
 * overall deadline, beside the idle timeout): `totalTimeout`.
 */
export function downloadDeadline(ms: number): DownloadOptions {
  return { totalTimeout: ms };
}

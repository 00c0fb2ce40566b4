import type { Credentials } from './auth/credentials.js';
import type { BackendProfile } from './backend.js';
import type { LevelLogger } from './logger.js';
import type { Clock } from './timers.js';
import type { Transport } from './transport.js';

/**
 * What every layer (sessions, chat, upload, state, render) receives from the
 * client. Internal: not part of the public surface.
 */
export interface ClientContext {
  readonly transport: Transport;
  readonly credentials: Credentials;
  readonly backend: BackendProfile;
  readonly clock: Clock;
  readonly logger: LevelLogger;
  readonly allowInsecureHttp: boolean;
  /** Attribution headers (sent to the API origin only). */
  readonly attributionHeaders: Readonly<Record<string, string>>;
}

/**
 * What a resource needs to act on one session: the client context and the
 * session id. Resources take this, never the `Session` class (which sits above
 * them and wires them together).
 */
export interface SessionRef {
  readonly ctx: ClientContext;
  readonly id: string;
}

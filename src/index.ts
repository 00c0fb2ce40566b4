/**
 * nemovideo: the TypeScript SDK for the NemoVideo agent API.
 * This file is the whole public surface; nothing else is importable.
 * @packageDocumentation
 */

// ── auth ──
export type { AnonymousGrant, TokenOption, TokenSourceKind } from './auth/credentials.js';
export {
  FileTokenStore,
  MemoryTokenStore,
  type StoredToken,
  type TokenStore,
} from './auth/token-store.js';
// ── client and transport ──
export { type Attribution, NemoClient, type NemoClientOptions } from './client.js';
export {
  type BackendOverrides,
  type BackendPaths,
  type BackendProfile,
  DEFAULT_BACKEND,
} from './core/backend.js';
export { type Clock, systemClock } from './core/clock.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { RetryTiming } from './core/retry.js';
export type { RequestOptions } from './core/transport.js';
// ── credits ──
export type { CreditBalance, CreditsResource } from './credits/credits.js';
// ── errors ──
export * from './errors/errors.js';
export { ErrorCode } from './errors/from-response.js';
export { Session, type SessionInfo } from './session/session.js';
// ── sessions ──
export type { CreateSessionOptions, SessionsResource } from './session/sessions.js';
export { VERSION } from './version.js';
// ── chat (src/chat) ──
// ── upload (src/upload) ──
// ── state (src/state) ──
// ── render (src/render) ──

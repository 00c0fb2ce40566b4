/**
 * nemovideo: the TypeScript SDK for the NemoVideo agent API.
 *
 * This file is the root public surface, kept small (48 names): the client, the
 * errors, and the types you name in everyday code. Building blocks and the
 * remaining types (intent routing, reply translation, timeline helpers, backend
 * defaults, token stores, clocks, event member types) are in `nemovideo/helpers`;
 * the emulator is in `nemovideo/testing`. Nothing else is importable.
 * @packageDocumentation
 */

// ── the client ──
export { NemoClient, type NemoClientOptions } from './client.js';
export type { TransferProgress } from './core/progress.js';
export type { RequestOptions } from './core/transport.js';
export { VERSION } from './core/version.js';

// ── errors (one class per failure a caller acts on; see docs/errors-and-retries.md) ──
export {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigError,
  ConnectionError,
  DownloadError,
  DraftNotReadyError,
  ExportNotAllowedError,
  FileTooLargeError,
  InsufficientCreditsError,
  isNemoError,
  JobLockedError,
  JournalError,
  NemoError,
  RateLimitError,
  RenderFailedError,
  RenderTimeoutError,
  ResponseValidationError,
  SessionNotFoundError,
  StreamError,
  TimeoutError,
  TurnLostError,
  TurnTimeoutError,
  UnsupportedFileTypeError,
  UploadError,
} from './errors/errors.js';

// ── sessions, chat, state ──
export type { ChatEvent } from './resources/chat/events.js';
export type { TurnResult } from './resources/chat/reply.js';
export type { SendOptions } from './resources/chat/send.js';
export type { ChatOptions, ChatStream } from './resources/chat/stream.js';
// ── renders and downloads ──
export type {
  DownloadOptions,
  DownloadResult,
} from './resources/downloads/download.js';
export type { ExportOptions, ExportResult } from './resources/renders/export.js';
export type { RenderJob, RenderResult } from './resources/renders/render.js';
export type { Session } from './resources/sessions/session.js';
export type { Timeline } from './resources/state/draft.js';
export type { SessionState } from './resources/state/state.js';
// ── uploads ──
export { toUpload, type UploadInput } from './resources/uploads/sources.js';
export type { UploadOptions, UploadResult } from './resources/uploads/upload.js';

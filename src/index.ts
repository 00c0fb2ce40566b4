/**
 * nemovideo: the TypeScript SDK for the NemoVideo agent API.
 * This file is the whole public surface; nothing else is importable.
 * @packageDocumentation
 */

// ── client and transport ──
export { type Attribution, NemoClient, type NemoClientOptions } from './client.js';
// ── auth ──
export type { AnonymousGrant, TokenOption, TokenSourceKind } from './core/auth/credentials.js';
export {
  FileTokenStore,
  MemoryTokenStore,
  type StoredToken,
  type TokenStore,
} from './core/auth/token-store.js';
export {
  type BackendOverrides,
  type BackendPaths,
  type BackendProfile,
  DEFAULT_BACKEND,
} from './core/backend.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { RetryTiming } from './core/retry.js';
export { type Clock, systemClock } from './core/timers.js';
export type { RequestOptions } from './core/transport.js';
export { VERSION } from './core/version.js';
// ── errors ──
export * from './errors/errors.js';
export { ErrorCode } from './errors/from-response.js';
// ── chat (src/chat) ──
export {
  type ChatEvent,
  type ChatEventType,
  type ChatOptions,
  type ChatReadableOptions,
  ChatStream,
  DEFAULT_CHAT_IDLE_TIMEOUT_MS,
  DEFAULT_KEPT_EVENTS,
  type ErrorEvent,
  type HeartbeatEvent,
  type Intent,
  type ReplyAction,
  type ReplyActionKind,
  type RouteIntentOptions,
  routeIntent,
  type SendOptions,
  type TextEvent,
  type ThoughtEvent,
  type ToolCallEvent,
  type ToolResultEvent,
  type TranslatedReply,
  type TurnRecovery,
  type TurnResult,
  translateReply,
  type UnknownEvent,
} from './resources/chat/index.js';
// ── credits ──
export type { CreditBalance, CreditsResource } from './resources/credits/credits.js';
// ── render (src/render) ──
export {
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadTarget,
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
  RenderJob,
  type RenderOptions,
  type RenderOutput,
  type RenderResult,
  type RenderStatus,
  type RenderStatusValue,
  type RenderWaitOptions,
} from './resources/renders/index.js';
export { Session, type SessionInfo } from './resources/sessions/session.js';
// ── sessions ──
export type { CreateSessionOptions, SessionsResource } from './resources/sessions/sessions.js';
// ── state (src/state) ──
export {
  type CanvasConfig,
  createSegment,
  createTrack,
  decodeDraft,
  describeTrack,
  diffTimelines,
  encodeDraft,
  isExportReady,
  METADATA_KEYS,
  SEGMENT_KEYS,
  type Segment,
  type SessionState,
  summarizeTimeline,
  type Timeline,
  type TimelineChanges,
  type TimelineMetadata,
  TRACK_TYPE_CODES,
  type Track,
  type TrackKind,
  timelineEndMs,
  type VideoInfo,
} from './resources/state/index.js';
// ── upload (src/upload) ──
export {
  type ByteStream,
  type ToUploadOptions,
  toUpload,
  UPLOAD_TIMEOUT_MS,
  type UploadData,
  type UploadedFile,
  type UploadFileProgress,
  type UploadFileType,
  type UploadInput,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
  type UploadSource,
} from './resources/uploads/index.js';

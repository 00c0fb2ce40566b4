/**
 * `nemovideo/helpers`: building blocks beside the client.
 *
 * - intent routing and GUI-reply translation (`routeIntent`, `translateReply`);
 * - timeline helpers and the draft's wire tables (`decodeDraft`, `encodeDraft`,
 *   `summarizeTimeline`, `diffTimelines`, `createTrack`, `createSegment`,
 *   `isExportReady`, …);
 * - the backend profile and its defaults (`DEFAULT_BACKEND`, `ErrorCode`, the
 *   `DEFAULT_*` limits);
 * - token stores, the clock and logger interfaces, and the types that complete
 *   the root's (chat event members, render status, upload progress, …).
 *
 * @example
 * ```ts
 * import { NemoClient } from 'nemovideo';
 * import { routeIntent, summarizeTimeline } from 'nemovideo/helpers';
 *
 * const client = new NemoClient();
 * const session = await client.sessions.create();
 * if (routeIntent('show tracks') === 'state') {
 *   console.log(summarizeTimeline((await session.state()).draft));
 * }
 * ```
 * @packageDocumentation
 */

// ── client options ──
export type { Attribution } from './client.js';
export type { AnonymousGrant, TokenOption, TokenSourceKind } from './core/auth/credentials.js';
export {
  FileTokenStore,
  MemoryTokenStore,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
} from './core/auth/token-store.js';
export {
  type BackendOverrides,
  type BackendPaths,
  type BackendProfile,
  DEFAULT_BACKEND,
} from './core/backend.js';
export type { Logger, LogLevel } from './core/logger.js';
export { MemoryRateBudget, type RateBudget } from './core/rate-budget.js';
export type { RetryTiming } from './core/retry.js';
export { type Clock, systemClock } from './core/timers.js';

// ── errors ──
export { neverDelivered } from './errors/delivery.js';
export type {
  ApiErrorDetails,
  DownloadErrorDetails,
  JournalErrorDetails,
  JournalProblem,
  NemoErrorOptions,
  TimeoutKind,
} from './errors/errors.js';
export { ErrorCode } from './errors/from-response.js';
// ── batches (client.batch) ──
export {
  type BatchExportOptions,
  type BatchExportResult,
  type BatchItem,
  type BatchProgress,
  BatchResource,
  DEFAULT_BATCH_CONCURRENCY,
} from './resources/batch/batch.js';
// ── chat: event members, intent routing, reply translation ──
export type {
  ChatEventType,
  ErrorEvent,
  HeartbeatEvent,
  MessageEvent,
  TextEvent,
  ThoughtEvent,
  ToolCallEvent,
  ToolResultEvent,
  UnknownEvent,
} from './resources/chat/events.js';
export {
  type Intent,
  type ReplyAction,
  type ReplyActionKind,
  type RouteIntentOptions,
  routeIntent,
  type TranslatedReply,
  translateReply,
} from './resources/chat/intent.js';
export type { TurnRecovery } from './resources/chat/reply.js';
export {
  type ChatReadableOptions,
  DEFAULT_CHAT_IDLE_TIMEOUT_MS,
  DEFAULT_KEPT_EVENTS,
} from './resources/chat/stream.js';
// ── sessions, credits ──
export { type CreditBalance, CreditsResource } from './resources/credits/credits.js';
// ── renders and downloads ──
export type { DownloadTarget } from './resources/downloads/download.js';
export type { ExportProgress } from './resources/renders/export.js';
export type { RenderStatus, RenderStatusValue } from './resources/renders/poll.js';
export type {
  RenderJobJSON,
  RenderOptions,
  RenderOutput,
  RenderWaitOptions,
} from './resources/renders/render.js';
export type { RendersResource, RetrieveRenderOptions } from './resources/renders/renders.js';
export type { SessionInfo } from './resources/sessions/session.js';
export { type CreateSessionOptions, SessionsResource } from './resources/sessions/sessions.js';
// ── timeline ──
export {
  createSegment,
  createTrack,
  decodeDraft,
  encodeDraft,
  METADATA_KEYS,
  SEGMENT_KEYS,
  type Segment,
  type Timeline,
  type TimelineMetadata,
  TRACK_TYPE_CODES,
  type Track,
  type TrackKind,
  timelineEndMs,
} from './resources/state/draft.js';
export type { CanvasConfig, VideoInfo } from './resources/state/state.js';
export {
  describeTrack,
  diffTimelines,
  isExportReady,
  summarizeTimeline,
  type TimelineChanges,
} from './resources/state/summary.js';
// ── uploads ──
export type { UploadFileProgress, UploadProgress } from './resources/uploads/progress.js';
export type {
  ByteStream,
  ToUploadOptions,
  UploadData,
  UploadSource,
} from './resources/uploads/sources.js';
export {
  DEFAULT_UPLOAD_TIMEOUT_MS,
  type UploadedFile,
  type UploadFileType,
} from './resources/uploads/upload.js';
// ── durable workflows (client.workflows) ──
export {
  DEFAULT_EXPORT_PROMPT,
  type ExportJob,
  type ExportJobOptions,
  type ExportJobProgress,
  type ExportJobResult,
  type ExportJobStep,
} from './resources/workflows/export-job.js';
export { FileJournal } from './resources/workflows/file-journal.js';
export {
  type DownloadStepRecord,
  type ExportJobInput,
  JOURNAL_VERSION,
  type JobHolder,
  type JobJournal,
  type JobListEntry,
  type JobLock,
  type JobRecord,
  MemoryJournal,
  type MessageStepRecord,
  parseJobRecord,
  type RenderStepRecord,
  type UploadStepRecord,
} from './resources/workflows/journal.js';
export type {
  JournalOption,
  RemoveJobOptions,
  WorkflowsResource,
} from './resources/workflows/workflows.js';

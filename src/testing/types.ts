/**
 * Public types of the emulator (`nemovideo/testing`).
 *
 * @module
 */

/** A source of time. Drives token expiry and render progress. Default: `Date.now`. */
export interface EmulatorClock {
  now(): number;
}

/** Shape of `/run_sse` payloads: ADK events (default) or the older type-tagged events. */
export type EventStyle = 'adk' | 'typed';
/** How heartbeats are written: `: heartbeat` comment lines, empty `data:` payloads, or `{"type":"heartbeat"}`. */
export type HeartbeatStyle = 'comment' | 'empty-data' | 'typed';
/** Shape of the render poll answer (contract §2.7): `top-level` [doc] or `wrapped` [old]. */
export type RenderShape = 'top-level' | 'wrapped';
/**
 * HTTP status sent with JSON error codes (1001, 1002, 2001, 4001, 4002).
 * `always-200` (default): HTTP 200 with `{"code":N,"message"}`, the contract's "JSON code".
 * `semantic`: the same body with 401 / 404 / 403 / 415 / 413, to test that the SDK lets
 * the JSON code win over the status.
 */
export type ErrorStatusMode = 'always-200' | 'semantic';

/** Options of {@link createEmulator}. Every option is optional. */
export interface EmulatorOptions {
  /**
   * API base URL served by the msw handlers (`mswHandlers()`), as the SDK sees it: an origin,
   * optionally with a path prefix. Default: `NEMO_API_URL` when it is set (the SDK follows it
   * too), else `https://mega-api-prod.nemovideo.ai`.
   */
  baseUrl?: string;
  /** CDN origin (result and upload URLs). Default `https://cdn.emulator.nemovideo.test`; `listen()` replaces it with its own CDN server while listening. */
  cdnUrl?: string;
  /** Time source for token expiry and render progress. Default `{ now: Date.now }`. */
  clock?: EmulatorClock;
  /** `/run_sse` payload style. Default `'adk'`. */
  eventStyle?: EventStyle;
  /** ADK style only: stream text as `partial:true` deltas followed by the whole text in a `partial:false` event. Default `true`. */
  partial?: boolean;
  /** Heartbeat interval during an open SSE stream, in ms (real `setTimeout`, so fake timers drive it). `0` disables. Default `15000`. */
  heartbeatMs?: number;
  /** Heartbeat format. Default `'comment'`. */
  heartbeatStyle?: HeartbeatStyle;
  /** Delay between two SSE events of a turn, in ms (`setTimeout`). Default `0`. */
  eventDelayMs?: number;
  /** Render poll answer shape. Default `'top-level'`. */
  renderShape?: RenderShape;
  /** Clock time a render takes from start to `completed`. Default `3000`. */
  renderDurationMs?: number;
  /** When set, every render fails with this reason (see also `failRenders`). */
  renderFailure?: string;
  /**
   * Size of the result served by the CDN. Default: the shipped 2 s MP4 (about 20 KB). A larger
   * value serves that MP4 followed by an MP4 `free` box of padding, generated on the fly (never
   * held in memory), so the body stays a valid MP4 of exactly this many bytes.
   */
  resultSizeBytes?: number;
  /** Upload size limit per file (4002 above it). Default 500 MB. */
  maxUploadBytes?: number;
  /** Credits of a new anonymous user. Default `100`. */
  initialCredits?: number;
  /** Lifetime of an anonymous token. Default 7 days. */
  tokenTtlMs?: number;
  /** HTTP status sent with JSON error codes. Default `'always-200'`. */
  errorStatus?: ErrorStatusMode;
  /** A custom agent for `/run_sse` (same as calling `emulator.agent(fn)`). */
  agent?: AgentFn;
  /**
   * Result URLs handed out by render polls expire this long (clock time) after they were
   * handed out: the CDN then answers `expiredUrlStatus`, and the next poll hands out a fresh
   * URL. Default `0`: they never expire (see also `expireResultUrls()`).
   */
  resultUrlTtlMs?: number;
  /** HTTP status of an expired result URL on the CDN: 403 (default, like S3), 404 or 410. */
  expiredUrlStatus?: ExpiredUrlStatus;
  /**
   * Most requests kept in `emulator.requests` (the oldest are dropped). `stats()` counts every
   * request regardless. Default: no limit.
   */
  requestLogLimit?: number;
}

/** HTTP status a CDN answers for an expired result URL. */
export type ExpiredUrlStatus = 403 | 404 | 410;

/** Options that can be changed at run time with `emulator.configure()`. */
export type RuntimeOptions = Pick<
  EmulatorOptions,
  | 'eventStyle'
  | 'partial'
  | 'heartbeatMs'
  | 'heartbeatStyle'
  | 'eventDelayMs'
  | 'renderShape'
  | 'renderDurationMs'
  | 'resultSizeBytes'
  | 'maxUploadBytes'
  | 'errorStatus'
  | 'resultUrlTtlMs'
  | 'expiredUrlStatus'
>;

/** The draft (compact keys, see docs/testing.md). Unknown keys are allowed everywhere. */
export interface Draft {
  t: DraftTrack[];
  d: number;
  m: { title?: string; width?: number; height?: number; fps?: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** A draft track: `tt` type (0 video, 1 audio, 7 text), `sg` segments. */
export interface DraftTrack {
  tt: number;
  sg: DraftSegment[];
  [key: string]: unknown;
}

/** A draft segment (keys documented in docs/testing.md). */
export interface DraftSegment {
  id: string;
  st: number;
  du: number;
  nm?: string;
  src?: string;
  ss?: number;
  w?: number;
  h?: number;
  txt?: string;
  vol?: number;
  [key: string]: unknown;
}

/** A file entry as returned by the upload endpoint and kept in `video_infos`. */
export interface MediaFile {
  filename: string;
  file_type: 'video' | 'image' | 'audio';
  cdn_url: string;
  duration?: number;
  width?: number;
  height?: number;
  fps?: number;
  hash?: string;
}

/** A high-level tool call. `id` defaults to a generated one. */
export interface ToolCallSpec {
  name: string;
  args?: Record<string, unknown>;
  id?: string;
}

/** A high-level tool result. `id` defaults to the id of the last call with the same name. */
export interface ToolResultSpec {
  name: string;
  response?: unknown;
  id?: string;
}

/**
 * One step of a scripted turn. The emulator maps each item to the configured event style.
 *
 * - `{ text }`: reply text (ADK: a model event, streamed as partial deltas when `partial`;
 *   typed: `{"type":"text","content"}`); `thought: true` marks reasoning; `toolCall` puts a
 *   `functionCall` part in the same ADK event.
 * - `{ toolCall }` / `{ toolResult }`: tool activity (ADK `functionCall` / `functionResponse`;
 *   typed `tool_call` / `tool_result`).
 * - `{ heartbeat: true }`: one heartbeat in the configured heartbeat style.
 * - `{ delayMs }`: wait (setTimeout) before the next item; heartbeats keep flowing meanwhile.
 * - `{ data }`: one `data:` payload with this value as JSON (any custom payload).
 * - `{ raw }`: written to the stream verbatim (exact SSE bytes: split events, comments, CRLF…).
 * - `{ error }`: an error, then the stream closes. ADK: `{"error":"…"}` (the exception
 *   path), or with `as: 'event'` an event carrying `errorCode`/`errorMessage`; typed:
 *   `{"code":code??500,"message"}`.
 * - `{ effect }`: a function run when the item is reached (e.g. change the draft); it runs
 *   even if the client has disconnected, as the backend keeps working.
 */
export type AgentItem =
  | { text: string; thought?: boolean; toolCall?: ToolCallSpec }
  | { toolCall: ToolCallSpec }
  | { toolResult: ToolResultSpec }
  | { heartbeat: true }
  | { delayMs: number }
  | { data: unknown }
  | { raw: string }
  | { error: string; code?: number | string; as?: 'exception' | 'event' }
  | { effect: () => void };

/** What an agent function returns. */
export type AgentResult = Iterable<AgentItem> | AsyncIterable<AgentItem>;

/** A custom agent: receives the user message, returns the items of the turn. */
export type AgentFn = (message: string, ctx: AgentContext) => AgentResult | Promise<AgentResult>;

/** What a custom agent can see and do. */
export interface AgentContext {
  readonly sessionId: string;
  readonly userId: string;
  /** 1 for the first turn of the session. */
  readonly turn: number;
  /** The session's current draft (a copy; change it with `setDraft`). */
  readonly draft: Draft | null;
  /** Files uploaded to the session. */
  readonly videoInfos: readonly MediaFile[];
  /** Replace the session's draft. */
  setDraft(draft: Draft | null): void;
  /** Append to the session's `generated_media`. */
  addGeneratedMedia(item: Record<string, unknown>): void;
  /** Reserve credits for this turn (frozen until the turn ends). Throws when the balance is too low: the turn is answered with code 2001. */
  charge(credits: number): void;
  /** Charge the per-session edit cost (50) unless this session was already charged. */
  chargeEdit(): void;
  /** The default scripted agent's items for this message. */
  defaultAgent(): AgentItem[];
}

/** Body of a recorded request, summarised. Multipart bodies keep only names and sizes. */
export type BodySummary =
  | { type: 'none' }
  | { type: 'json'; value: unknown }
  | { type: 'text'; length: number; text: string }
  | {
      type: 'multipart';
      files: { field: string; filename: string; mimeType: string; size: number }[];
      fields: Record<string, string>;
    }
  | { type: 'unread' };

/**
 * One request received by the emulator (API or CDN). `headers` are lower-cased and complete,
 * `authorization` included, so tests can assert on it: it is a test log, never print it.
 */
export interface RecordedRequest {
  origin: 'api' | 'cdn';
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: BodySummary;
  /** Clock time when received. */
  at: number;
  /** The route that served it, as in `stats()` (`'POST /run_sse'`, `'GET /renders/:file'`…). */
  route: string;
  /** HTTP status answered (set once the response is ready). */
  status?: number;
  /** Bytes of a file body (CDN and fallback download) handed to the connection so far. */
  bytesSent?: number;
}

/** Counters of one route (see `stats()`). */
export interface RouteStats {
  /** Requests received (faulted ones included). */
  count: number;
  /** Requests per HTTP status answered, e.g. `{ "200": 3, "503": 1 }`. */
  statuses: Record<string, number>;
  /** Bytes of file bodies sent (CDN and fallback download; 0 elsewhere). */
  bytesSent: number;
}

/**
 * Counters per route since the start or the last `reset()`. Keys are `'METHOD /pattern'` as
 * in the route table (`'POST /api/auth/anonymous-token'`, `'POST /run_sse'`,
 * `'POST /api/render/proxy/lambda'`, `'GET /renders/:file'`…); requests that match no route
 * count under `'METHOD (unmatched)'`. Control API requests are not counted.
 */
export type EmulatorStats = Record<string, RouteStats>;

/** Options of `emulator.fail()`. */
export interface FaultOptions {
  /** HTTP status to answer with. */
  status?: number;
  /** JSON `code` to answer with (envelope `{"code","message"}`; HTTP 200 unless `status`). */
  code?: number;
  /** Message in the error body. */
  message?: string;
  /** A body to answer with instead (JSON-encoded unless a string). */
  body?: unknown;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  /** How many matching requests this fault applies to. Default 1; `Infinity` for all. */
  times?: number;
  /** Delay before answering (setTimeout). Alone, it only adds latency. */
  delayMs?: number;
  /** `/run_sse`: cut the stream after N events (heartbeats not counted). */
  cutAfterEvents?: number;
  /** Streamed bodies (CDN downloads…): cut after N bytes. */
  cutAfterBytes?: number;
  /** How a cut ends: `'error'` (default; a network error for the client) or `'close'` (a clean end). */
  cutMode?: 'error' | 'close';
  /** `/run_sse`: stop after N events and keep the connection open (the turn hangs). */
  stallAfterEvents?: number;
  /** While stalled: send nothing (default) or keep sending heartbeats. */
  stallWith?: 'silence' | 'heartbeats';
  /**
   * Streamed bodies (CDN downloads…): send N bytes, then nothing more while keeping the
   * connection open, until the client aborts, `reset()` or `close()` (for kill -9 tests).
   */
  stallAfterBytes?: number;
  /** CDN and fallback download: ignore `Range` (and `If-Range`) and answer the whole file with 200, without `Accept-Ranges`. */
  ignoreRange?: boolean;
}

/** Handle returned by `emulator.fail()`. */
export interface FaultHandle {
  /** Applications left. */
  readonly remaining: number;
  /** Remove the fault. */
  remove(): void;
}

/** Options of `failRenders()`. */
export interface FailRendersOptions {
  /** How many renders fail (running and future ones). Default `Infinity`. */
  times?: number;
  /** Progress (%) at which they fail. Default 40. */
  atProgress?: number;
}

/** Options of `stallRenders()`. */
export interface StallRendersOptions {
  /** Progress (%) at which renders stop moving, `processing`. Default 50. */
  atProgress?: number;
  /** How many renders stall (running and future ones). Default `Infinity`. */
  times?: number;
}

/** Options of `expireResultUrls()`. */
export interface ExpireResultUrlsOptions {
  /** What the CDN answers for the expired URLs. Default `expiredUrlStatus` (403). */
  status?: ExpiredUrlStatus;
  /** Only this render's URLs. Default: every render's. */
  renderId?: string;
}

/** Options of `changeResult()`. */
export interface ChangeResultOptions {
  /** Only this render. Default: every completed render. */
  renderId?: string;
  /** The new result's size in bytes. Default: unchanged. */
  sizeBytes?: number;
}

/** A render's state as computed at a point in time (`emulator.render(id)`). */
export interface RenderView {
  id: string;
  sessionId: string;
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
  progress: number;
  /** The result URL a poll would hand out now (completed only). */
  url: string | undefined;
  error: string | undefined;
  createdAt: string;
  completedAt: string | undefined;
  durationSec: number;
  sizeBytes: number;
  /** The result's strong validator, as the CDN sends it (`ETag`). */
  etag: string;
  /** How many times the result was replaced by `changeResult()` (0 at first). */
  resultVersion: number;
}

/** A read-only snapshot of an emulated session. */
export interface SessionSnapshot {
  sessionId: string;
  taskId: string;
  userId: string;
  taskName: string;
  language: string;
  draft: Draft | null;
  videoInfos: MediaFile[];
  generatedMedia: Record<string, unknown>[];
  turns: number;
}

/** An anonymous token issued by `issueToken()`. */
export interface IssuedToken {
  token: string;
  userId: string;
  clientId: string;
  expiresAt: string;
}

/** A running loopback server (`emulator.listen()`). */
export interface EmulatorServer {
  /** API origin, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** CDN origin (second port). */
  cdnUrl: string;
  port: number;
  cdnPort: number;
  /** Stop both servers, dropping open connections. */
  close(): Promise<void>;
}

/** Options of `emulator.listen()`. */
export interface ListenOptions {
  /** API port. Default 0 (any free port). */
  port?: number;
  /** CDN port. Default 0. */
  cdnPort?: number;
  /** Interface. Default `127.0.0.1`. */
  host?: string;
}

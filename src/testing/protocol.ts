/**
 * Everything the emulator knows about the wire, in one place. Written from the contract
 * (`shared/protocol.md`), deliberately NOT imported from the SDK so that the SDK and its
 * emulator cannot share a misreading of the contract.
 *
 * @module
 */

/** Default API origin (the production base URL of the contract §1). */
export const DEFAULT_API_URL = 'https://mega-api-prod.nemovideo.ai';
/** Default origin of the emulated CDN (result and upload URLs live there). */
export const DEFAULT_CDN_URL = 'https://cdn.emulator.nemovideo.test';

/** Path patterns of the contract §2 (`:sid`, `:id` are path parameters). */
export const PATHS = {
  anonymousToken: '/api/auth/anonymous-token',
  createSession: '/api/tasks/me/with-session/nemo_agent',
  runSse: '/run_sse',
  upload: '/api/upload-video/nemo_agent/me/:sid',
  credits: '/api/credits/balance/simple',
  state: '/api/state/nemo_agent/me/:sid/latest',
  renderStart: '/api/render/proxy/lambda',
  renderPoll: '/api/render/proxy/lambda/:id',
  renderCancel: '/api/render/proxy/lambda/:id/cancel',
  renderDownload: '/api/render/proxy/:id/download',
} as const;

/** CDN paths served by the emulator. */
export const CDN_PATHS = {
  render: '/renders/:file',
  upload: '/uploads/:sid/:file',
} as const;

/** JSON `code` values of the contract §1.2. */
export const CODES = {
  ok: 0,
  tokenInvalid: 1001,
  sessionNotFound: 1002,
  outOfCredits: 2001,
  unsupportedType: 4001,
  fileTooLarge: 4002,
  /** Emulator-specific [gap]: malformed request body (sent with HTTP 400). */
  badRequest: 4000,
} as const;

/** Header names (lower-case). */
export const HEADERS = {
  clientId: 'x-client-id',
  authorization: 'authorization',
  attribution: ['x-skill-source', 'x-skill-version', 'x-skill-platform'] as const,
} as const;

/** The only `app_name` / `user_id` accepted by `/run_sse` and the `me` path segment. */
export const APP_NAME = 'nemo_agent';
export const USER_ME = 'me';

/** Token prefix of anonymous tokens. */
export const TOKEN_PREFIX = 'nmv_usr_';
/** Anonymous user id prefix. */
export const USER_PREFIX = 'anon_';
/** Anonymous tokens are valid 7 days. */
export const TOKEN_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Free credits granted to a new anonymous user. */
export const INITIAL_CREDITS = 100;
/** `Retry-After` (seconds) sent with the anonymous-token 429. */
export const TOKEN_RETRY_AFTER_S = 60;

/** Credit costs (contract §2.5: "generation about 100 a clip, editing about 50 a session"). */
export const COSTS = {
  /** Charged once per session, on its first turn that edits the draft. */
  editSession: 50,
  /** Charged per generated clip. */
  generation: 100,
  /** Export (render) is free. */
  render: 0,
} as const;

/** Default upload size limit per file (500 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 500 * 1024 * 1024;

/** Accepted upload extensions (contract §2.4) and their `file_type`. */
export const ACCEPTED_TYPES: Readonly<Record<string, 'video' | 'image' | 'audio'>> = {
  mp4: 'video',
  mov: 'video',
  avi: 'video',
  webm: 'video',
  mkv: 'video',
  jpg: 'image',
  png: 'image',
  gif: 'image',
  webp: 'image',
  mp3: 'audio',
  wav: 'audio',
  m4a: 'audio',
  aac: 'audio',
};

/** Extensions the contract lists, for error messages. */
export const ACCEPTED_LIST = Object.keys(ACCEPTED_TYPES).join(', ');

/** MIME types mapped to an accepted extension (used when a file name has no extension). */
export const MIME_TO_EXT: Readonly<Record<string, string>> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/x-msvideo': 'avi',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'aac',
};

/** Draft track types (contract §2.6). */
export const TRACK_TYPES = { video: 0, audio: 1, text: 7 } as const;

/** Render defaults. */
export const RENDER = {
  /** Clock time from start to completion. */
  durationMs: 3000,
  /** Fraction of the duration spent `pending` before `processing`. */
  pendingFraction: 0.1,
  /** Progress at which a job marked to fail fails. */
  failAtProgress: 40,
} as const;

/** Volume of background music added by the default agent (35 %). */
export const BGM_VOLUME = 0.35;
/** Default title duration (ms). */
export const TITLE_DURATION_MS = 3000;
/** Metadata assumed for media whose real properties are unknown. */
export const DEFAULT_MEDIA = { width: 1920, height: 1080, fps: 30, durationSec: 30 } as const;

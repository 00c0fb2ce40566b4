/**
 * Every assumption the SDK makes about the NemoVideo backend, in one place.
 *
 * The wire contract (`protocol.md`) is partly undocumented: paths, limits,
 * cadences and header names live here so a user can override any of them with
 * `new NemoClient({ backend: { … } })` instead of forking the SDK.
 */

/**
 * Paths of every endpoint, relative to the base URL. Those that name the ADK app
 * are built from `appName` unless overridden.
 */
export interface BackendPaths {
  anonymousToken: string;
  createSession: string;
  runSse: string;
  upload: (sessionId: string) => string;
  creditsBalance: string;
  state: (sessionId: string) => string;
  renderStart: string;
  renderPoll: (renderId: string) => string;
  renderCancel: (renderId: string) => string;
  renderDownload: (renderId: string) => string;
}

/** The documented and assumed behaviour of the NemoVideo service. */
export interface BackendProfile {
  /** Production API origin. */
  baseUrl: string;
  /** Web app origin, used for the registration link of anonymous users. */
  webUrl: string;
  /**
   * ADK app name, sent in the `/run_sse` body and part of the session, upload
   * and state paths (overriding it changes those paths too, unless `paths` says otherwise).
   */
  appName: string;
  paths: BackendPaths;
  /** Attribution header names (a render without them gets HTTP 402). */
  attributionHeaders: { source: string; version: string; platform: string };
  /** Response headers that may carry a request id. */
  requestIdHeaders: readonly string[];
  /** Upload extensions the service accepts (lower case, no dot). */
  acceptedFormats: readonly string[];
  /** Largest upload the service accepts, in bytes. */
  maxUploadBytes: number;
  /** Wait applied to a 429 without `Retry-After` (protocol 1.2: 30 s). */
  rateLimitDefaultWaitMs: number;
  /** An anonymous token lives this long when the server gives no expiry. */
  anonymousTokenTtlMs: number;
  /** Renew a token this long before its known expiry. */
  tokenRenewMarginMs: number;
  /** Defaults for a new session. */
  sessionDefaults: { language: string; taskName: string };
  /** Chat turn limits and the documented disconnect recovery. */
  turn: {
    hardTimeoutMs: number;
    heartbeatOnlyTimeoutMs: number;
    recoveryFirstWaitMs: number;
    recoveryIntervalMs: number;
    recoveryMaxUnchangedReads: number;
  };
  /**
   * What work costs, in credits (protocol: editing about 50 a session, generating
   * about 100 a clip; exports are free). Used to tell before a batch whether the
   * balance covers it.
   */
  costs: { editSession: number; generateClip: number };
  /**
   * Render output defaults and the poll schedule. A wait polls first after
   * `firstPollDelayMs`, then waits `pollBackoff` times longer each time, up to
   * the documented cadence `pollIntervalMs`; it gives up after `maxPolls` polls
   * (the documented budget). With the defaults the polls come at 1, 3, 7, 15,
   * 31 s, then every 30 s: a 90 s render costs 7 polls, 10 polls cover 181 s
   * (docs/rendering-and-downloads.md shows the arithmetic).
   */
  render: {
    output: { format: string; quality: string };
    /** Wait before the first poll of a job (1 000 ms). */
    firstPollDelayMs: number;
    /** Each wait is the previous one times this (2), up to `pollIntervalMs`. */
    pollBackoff: number;
    /** The documented cadence, the longest wait between two polls (30 000 ms; alternative 10 000). */
    pollIntervalMs: number;
    /** The documented poll budget of one wait (10; alternative 30). */
    maxPolls: number;
  };
  /** Registration link for an anonymous user who ran out of credits. */
  registerUrl: (userId: string, webUrl: string) => string;
}

/** The documented paths, with `appName` (`nemo_agent` by default) where the contract puts it. */
export function defaultPaths(appName: string): BackendPaths {
  const app = encodeURIComponent(appName);
  return {
    anonymousToken: '/api/auth/anonymous-token',
    createSession: `/api/tasks/me/with-session/${app}`,
    runSse: '/run_sse',
    upload: (sid) => `/api/upload-video/${app}/me/${encodeURIComponent(sid)}`,
    creditsBalance: '/api/credits/balance/simple',
    state: (sid) => `/api/state/${app}/me/${encodeURIComponent(sid)}/latest`,
    renderStart: '/api/render/proxy/lambda',
    renderPoll: (id) => `/api/render/proxy/lambda/${encodeURIComponent(id)}`,
    renderCancel: (id) => `/api/render/proxy/lambda/${encodeURIComponent(id)}/cancel`,
    renderDownload: (id) => `/api/render/proxy/${encodeURIComponent(id)}/download`,
  };
}

/** The contract as documented in `protocol.md`. */
export const DEFAULT_BACKEND: BackendProfile = {
  baseUrl: 'https://mega-api-prod.nemovideo.ai',
  webUrl: 'https://nemovideo.com',
  appName: 'nemo_agent',
  paths: defaultPaths('nemo_agent'),
  attributionHeaders: {
    source: 'X-Skill-Source',
    version: 'X-Skill-Version',
    platform: 'X-Skill-Platform',
  },
  requestIdHeaders: ['x-request-id', 'x-nemo-request-id', 'x-trace-id'],
  acceptedFormats: [
    'mp4',
    'mov',
    'avi',
    'webm',
    'mkv',
    'jpg',
    'png',
    'gif',
    'webp',
    'mp3',
    'wav',
    'm4a',
    'aac',
  ],
  maxUploadBytes: 500 * 1024 * 1024,
  rateLimitDefaultWaitMs: 30_000,
  anonymousTokenTtlMs: 7 * 24 * 60 * 60 * 1000,
  tokenRenewMarginMs: 60_000,
  sessionDefaults: { language: 'en', taskName: 'project' },
  turn: {
    hardTimeoutMs: 15 * 60_000,
    heartbeatOnlyTimeoutMs: 10 * 60_000,
    recoveryFirstWaitMs: 30_000,
    recoveryIntervalMs: 60_000,
    recoveryMaxUnchangedReads: 5,
  },
  costs: { editSession: 50, generateClip: 100 },
  render: {
    output: { format: 'mp4', quality: 'high' },
    firstPollDelayMs: 1_000,
    pollBackoff: 2,
    pollIntervalMs: 30_000,
    maxPolls: 10,
  },
  registerUrl: (userId, webUrl) => `${webUrl}/register?bind=${encodeURIComponent(userId)}`,
};

/** A partial override of the profile; nested sections merge field by field. */
export type BackendOverrides = {
  [K in keyof BackendProfile]?: BackendProfile[K] extends (...args: never[]) => unknown
    ? BackendProfile[K]
    : BackendProfile[K] extends readonly unknown[]
      ? BackendProfile[K]
      : BackendProfile[K] extends object
        ? Partial<BackendProfile[K]>
        : BackendProfile[K];
};

/**
 * Merge user overrides into the documented profile. Every field can be
 * overridden; the paths that contain the app name follow an overridden
 * `appName` unless `paths` overrides them too.
 */
export function resolveBackend(overrides: BackendOverrides = {}): BackendProfile {
  const appName = overrides.appName ?? DEFAULT_BACKEND.appName;
  return {
    ...DEFAULT_BACKEND,
    ...(overrides as Partial<BackendProfile>),
    appName,
    paths: { ...defaultPaths(appName), ...overrides.paths },
    attributionHeaders: { ...DEFAULT_BACKEND.attributionHeaders, ...overrides.attributionHeaders },
    sessionDefaults: { ...DEFAULT_BACKEND.sessionDefaults, ...overrides.sessionDefaults },
    turn: { ...DEFAULT_BACKEND.turn, ...overrides.turn },
    costs: { ...DEFAULT_BACKEND.costs, ...overrides.costs },
    render: {
      ...DEFAULT_BACKEND.render,
      ...overrides.render,
      output: { ...DEFAULT_BACKEND.render.output, ...overrides.render?.output },
    },
  };
}

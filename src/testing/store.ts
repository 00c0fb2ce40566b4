/**
 * The emulator's state, in memory: tokens, users and their credits, sessions, render jobs,
 * and the settings that can change at run time. Handlers read and change it through the
 * methods here; nothing else holds state (faults and the request log have their own modules).
 *
 * @module
 */

import { ApiCodeError } from './errors.js';
import { type RenderJob, type RenderMark, viewOf } from './jobs.js';
import {
  CODES,
  DEFAULT_API_URL,
  DEFAULT_CDN_URL,
  DEFAULT_MAX_UPLOAD_BYTES,
  INITIAL_CREDITS,
  RENDER,
  TOKEN_PREFIX,
  TOKEN_TTL_MS,
  USER_PREFIX,
} from './protocol.js';
import type {
  AgentFn,
  EmulatorClock,
  EmulatorOptions,
  RenderView,
  RuntimeOptions,
  SessionSnapshot,
} from './types.js';
import { randomId } from './util.js';

/** An issued anonymous token. */
export interface TokenRecord {
  token: string;
  userId: string;
  clientId: string | undefined;
  issuedAt: number;
  expiresAt: number;
}

/** An anonymous user and their credits. */
export interface UserRecord {
  userId: string;
  clientId: string | undefined;
  available: number;
  frozen: number;
}

/** What the emulator keeps per session: the public snapshot plus its bookkeeping. */
export interface SessionRecord extends SessionSnapshot {
  editCharged: boolean;
  uploads: number;
}

/** Settings in force (`configure()` changes them). */
export type Settings = Required<RuntimeOptions>;

function resolveSettings(options: EmulatorOptions): Settings {
  return {
    eventStyle: options.eventStyle ?? 'adk',
    partial: options.partial ?? true,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    heartbeatStyle: options.heartbeatStyle ?? 'comment',
    eventDelayMs: options.eventDelayMs ?? 0,
    renderShape: options.renderShape ?? 'top-level',
    renderDurationMs: options.renderDurationMs ?? RENDER.durationMs,
    resultSizeBytes: options.resultSizeBytes ?? 0,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    errorStatus: options.errorStatus ?? 'always-200',
    resultUrlTtlMs: options.resultUrlTtlMs ?? 0,
    expiredUrlStatus: options.expiredUrlStatus ?? 403,
  };
}

/** The API base URL: the option, else `NEMO_API_URL` (as the SDK), else production. No trailing slash. */
function resolveBaseUrl(option: string | undefined): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.NEMO_API_URL;
  const fromEnv = option === undefined && env !== undefined && env !== '';
  const raw = option ?? (fromEnv ? env : DEFAULT_API_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(
      `createEmulator: ${fromEnv ? 'NEMO_API_URL' : 'baseUrl'} is not a valid URL: "${raw}"`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The emulator's state. */
export class Store {
  readonly clock: EmulatorClock;
  /** API base URL (origin + optional path prefix, no trailing slash). */
  readonly baseUrl: string;
  /** The path prefix of `baseUrl` ('' when none). */
  readonly basePath: string;
  readonly defaultCdnUrl: string;
  /** The CDN origin result URLs point to (the CDN server's while listening). */
  cdnUrl: string;
  /** Clock time the emulator was created (Last-Modified of uploaded files). */
  readonly createdAt: number;
  settings!: Settings;
  initialCredits!: number;
  agent: AgentFn | undefined;
  renderFailure: RenderMark | undefined;
  renderStall: RenderMark | undefined;
  readonly clients = new Map<string, TokenRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly renders = new Map<string, RenderJob>();

  constructor(readonly options: EmulatorOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.baseUrl = resolveBaseUrl(options.baseUrl);
    this.basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    this.defaultCdnUrl = new URL(options.cdnUrl ?? DEFAULT_CDN_URL).origin;
    this.cdnUrl = this.defaultCdnUrl;
    this.createdAt = this.clock.now();
    this.reset();
  }

  /** Forget every token, user, session and render; settings back to the options. */
  reset(): void {
    this.clients.clear();
    this.tokens.clear();
    this.users.clear();
    this.sessions.clear();
    this.renders.clear();
    this.settings = resolveSettings(this.options);
    this.initialCredits = this.options.initialCredits ?? INITIAL_CREDITS;
    this.agent = this.options.agent;
    this.renderFailure = this.options.renderFailure
      ? {
          reason: this.options.renderFailure,
          remaining: Infinity,
          atProgress: RENDER.failAtProgress,
        }
      : undefined;
    this.renderStall = undefined;
  }

  now(): number {
    return this.clock.now();
  }

  /** Issue a token for `clientId`: the same user when the client id had one before. */
  issueToken(clientId: string | undefined): TokenRecord {
    const now = this.now();
    const previous = clientId === undefined ? undefined : this.clients.get(clientId);
    let user = previous ? this.users.get(previous.userId) : undefined;
    if (!user) {
      user = {
        userId: `${USER_PREFIX}${randomId(16)}`,
        clientId,
        available: this.initialCredits,
        frozen: 0,
      };
      this.users.set(user.userId, user);
    }
    const record: TokenRecord = {
      token: `${TOKEN_PREFIX}${randomId(32)}`,
      userId: user.userId,
      clientId,
      issuedAt: now,
      expiresAt: now + (this.options.tokenTtlMs ?? TOKEN_TTL_MS),
    };
    this.tokens.set(record.token, record);
    if (clientId !== undefined) this.clients.set(clientId, record);
    return record;
  }

  /** The user of a bearer header; throws 1001 when missing, unknown or expired. */
  userOfBearer(header: string | null): UserRecord {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const token = m?.[1] ? this.tokens.get(m[1]) : undefined;
    if (!token) {
      throw new ApiCodeError(
        CODES.tokenInvalid,
        header ? 'Token invalid: request a new anonymous token' : 'Missing bearer token',
      );
    }
    if (this.now() >= token.expiresAt) {
      throw new ApiCodeError(CODES.tokenInvalid, 'Token expired: request a new anonymous token');
    }
    const user = this.users.get(token.userId);
    if (!user) throw new ApiCodeError(CODES.tokenInvalid, 'Token invalid');
    return user;
  }

  /** A render job's state now, with the result URL a poll would hand out. */
  renderView(job: RenderJob): RenderView {
    return viewOf(job, this.now(), this.cdnUrl, this.settings.resultUrlTtlMs);
  }

  /** The user's session; throws 1002 when unknown or another user's. */
  sessionOf(user: UserRecord, sessionId: string | undefined): SessionRecord {
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (!session || session.userId !== user.userId) {
      throw new ApiCodeError(CODES.sessionNotFound, `Session not found: ${sessionId ?? '(none)'}`);
    }
    return session;
  }
}

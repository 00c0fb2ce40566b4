/**
 * Everything the MCP server takes from the nemovideo SDK, through its public surface only.
 * Every other file of src/mcp imports the SDK from here, so a rename in the SDK's public
 * names touches this file alone.
 *
 * @module
 */

import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Logger, type LogLevel, neverDelivered } from '../helpers.js';
import {
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
  NemoClient,
  RateLimitError,
  RenderFailedError,
  RenderTimeoutError,
  SessionNotFoundError,
  StreamError,
  TimeoutError,
  TurnLostError,
  TurnTimeoutError,
  UnsupportedFileTypeError,
  UploadError,
  VERSION,
} from '../index.js';

export type { RenderStatus, Track, UploadedFile } from '../helpers.js';
export {
  describeTrack,
  isExportReady,
  routeIntent,
  summarizeTimeline,
  timelineEndMs,
  translateReply,
} from '../helpers.js';
export type {
  ChatEvent,
  RenderJob,
  Session,
  SessionState,
  Timeline,
  TransferProgress,
  TurnResult,
} from '../index.js';
export { NemoClient, VERSION } from '../index.js';

/** Where the server's client finds its API, token and config folder. */
export interface ClientSettings {
  /** `--api-url`; default `NEMO_API_URL`, else production (read by the SDK). */
  apiUrl?: string | undefined;
  /** `--token`; default `NEMO_TOKEN`, else a free anonymous token cached in the config folder. */
  token?: string | undefined;
  /** The environment (`NEMO_CONFIG_DIR`). */
  env: Record<string, string | undefined>;
  logger: Logger;
  logLevel?: LogLevel | undefined;
}

/** `NEMO_CONFIG_DIR`, else `~/.config/nemovideo`: the folder the CLI uses too. */
export function configDir(env: Record<string, string | undefined>): string {
  const dir = env.NEMO_CONFIG_DIR;
  return dir !== undefined && dir !== '' ? dir : join(homedir(), '.config', 'nemovideo');
}

/**
 * The client behind every tool. Same credentials as the CLI: `--token` / `NEMO_TOKEN`, else the
 * anonymous token cached (0600) in the config folder, shared with `nemovideo` commands.
 */
export function createClient(settings: ClientSettings): NemoClient {
  const dir = configDir(settings.env);
  return new NemoClient({
    baseUrl: settings.apiUrl,
    token: settings.token,
    // The SDK's own config folder: client id and token store shared with the CLI and other SDK users.
    configDir: dir,
    logger: settings.logger,
    logLevel: settings.logLevel,
    attribution: { source: 'nemovideo', version: VERSION, platform: 'mcp' },
  });
}

/** Upload formats and size limit of the backend profile the client uses. */
export function uploadLimits(client: NemoClient): { formats: string[]; maxBytes: number } {
  return { formats: [...client.backend.acceptedFormats], maxBytes: client.backend.maxUploadBytes };
}

/** Where an anonymous user registers for more credits, once the user id is known. */
export function registerUrlOf(client: NemoClient): string | undefined {
  const userId = client.tokenSource === 'anonymous' ? client.anonymousGrant?.userId : undefined;
  return userId ? client.backend.registerUrl(userId, client.backend.webUrl) : undefined;
}

/** A failure as the tools report it: its class, its message, and what the agent should do. */
export interface Failure {
  kind: string;
  message: string;
  next: string;
}

/** True when `error` is the SDK's abort error (a cancelled call). */
export function isAbort(error: unknown): boolean {
  return error instanceof AbortError;
}

/** True for the errors that mean a chat turn's message never reached the agent. */
export function turnNeverStarted(error: unknown): boolean {
  if (error instanceof AbortError) return false;
  if (error instanceof StreamError || error instanceof TurnLostError) return false;
  if (error instanceof TimeoutError) return false;
  // Refused or unresolvable: the request never left. Anything else may have reached the server.
  if (error instanceof ConnectionError) return neverDelivered(error);
  // A 5xx or 408 may come from a gateway in front of an agent that has the message.
  if (error instanceof ApiError) return error.httpStatus < 500 && error.httpStatus !== 408;
  // A refusal by JSON code (unknown session, no credits, bad token) or bad input: nothing ran.
  return error instanceof ConfigError;
}

/** True when the turn ended by losing its connection and the timeline never showed a change. */
export function isTurnLost(error: unknown): boolean {
  return error instanceof TurnLostError;
}

/** True when the agent itself answered with an error event (the turn ran and failed). */
export function isAgentError(error: unknown): boolean {
  return error instanceof StreamError && error.code !== undefined;
}

/** True when the service answered that it does not know a resource (HTTP 404). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.httpStatus === 404;
}

/** True when a render outlasted the wait (it may still finish). */
export function isRenderTimeout(error: unknown): boolean {
  return error instanceof RenderTimeoutError;
}

/** The render id carried by a render or download failure, when any. */
export function renderIdOf(error: unknown): string | undefined {
  if (error instanceof RenderFailedError || error instanceof RenderTimeoutError)
    return error.renderId;
  return undefined;
}

/**
 * The typed error's message and the next step for an agent. Messages come from the SDK,
 * which already strips credentials from them.
 */
export function describeFailure(error: unknown): Failure {
  if (!isNemoError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: 'InternalError',
      message: `Unexpected error in the nemovideo MCP server: ${message}`,
      next: 'Try again; if it keeps happening, report it with the server log (start it with --verbose).',
    };
  }
  const kind = error.name;
  const { message } = error;
  const next = nextStep(error);
  return { kind, message, next };
}

function nextStep(error: Error): string {
  if (error instanceof SessionNotFoundError)
    return 'Check the session_id (it is a string of digits from create_session), or call create_session to start a new session.';
  if (error instanceof InsufficientCreditsError)
    return error.registerUrl
      ? `Call get_credits to see the balance. The user can get more credits by registering at ${error.registerUrl}, or by configuring the server with a token that has credits (NEMO_TOKEN).`
      : 'Call get_credits to see the balance. The user needs a token with credits (NEMO_TOKEN in the server configuration).';
  if (error instanceof ExportNotAllowedError)
    return 'This is a subscription limit, not a lack of credits: the user must upgrade the plan at https://nemovideo.com or configure a token whose plan allows exports.';
  if (error instanceof UnsupportedFileTypeError)
    return `Use a file in one of the accepted formats (${error.acceptedFormats.join(', ')}); see the nemovideo://formats resource.`;
  if (error instanceof FileTooLargeError)
    return `Use a file under ${Math.floor(error.maxBytes / (1024 * 1024))} MB (trim or compress it first).`;
  if (error instanceof RateLimitError)
    return `The service is rate limiting: wait${error.retryAfterMs ? ` ${Math.ceil(error.retryAfterMs / 1000)} s` : ' a minute'} and call the tool again.`;
  if (error instanceof AuthenticationError)
    return 'The token was rejected: fix NEMO_TOKEN in the server configuration, or remove it to use a free anonymous token.';
  if (error instanceof DraftNotReadyError)
    return 'Upload a video (upload_media), ask the agent to put it on the timeline (send_message), check get_timeline, then call export_video again.';
  if (error instanceof RenderTimeoutError)
    return `The render may still finish: check it with get_render_status (render_id "${error.renderId}"), then call export_video with that render_id to download it.`;
  if (error instanceof RenderFailedError)
    return 'Call export_video again to start a new render (export costs no credits); if it fails again, check the timeline with get_timeline.';
  if (error instanceof DownloadError)
    return 'The render is done but the download failed: call export_video again with the same render_id to download it without rendering again.';
  if (error instanceof UploadError)
    return 'Check the file (it must exist and be readable) and call upload_media again.';
  if (error instanceof TurnTimeoutError)
    return 'The agent stopped answering. Call get_timeline to see whether the edit happened before sending anything again.';
  if (error instanceof TimeoutError)
    return 'A time limit ran out: the service is slow or unreachable. Try again in a moment.';
  if (error instanceof ConnectionError)
    return 'The NemoVideo service could not be reached: check the network (and NEMO_API_URL), then try again.';
  if (error instanceof AbortError) return 'The call was cancelled.';
  if (error instanceof ConfigError) return 'Fix the input described above and call the tool again.';
  if (error instanceof ApiError)
    return 'The service refused the request. Try again later; if it persists, check the session with get_timeline.';
  return 'Try again; if it keeps failing, check the session with get_timeline.';
}

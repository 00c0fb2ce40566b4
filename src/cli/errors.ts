import { CommanderError } from 'commander';
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
  RateLimitError,
  RenderFailedError,
  SessionNotFoundError,
  TimeoutError,
  UnsupportedFileTypeError,
} from '../index.js';
import { oneLine } from './format.js';

/**
 * Exit codes of the `nemovideo` command (documented in docs/cli.md).
 */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** An unexpected failure (a bug: please report it with `--verbose` output). */
  Internal: 1,
  /** Wrong usage: unknown option, missing argument, bad URL, missing or unsupported file. */
  Usage: 2,
  /** The service refused or failed: no credits, plan limit, unknown session, failed render. */
  Api: 3,
  /** The service could not be reached, the connection broke, or a time limit ran out. */
  Network: 4,
  /** Interrupted (Ctrl-C / SIGINT, SIGTERM). */
  Aborted: 130,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error raised by the CLI itself, carrying its exit code and a message that
 * says what to do.
 */
export class CliError extends Error {
  override name = 'CliError';
  /** The process exit code this error maps to. */
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** A usage error (exit code 2). */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage);
}

/** How an error is reported: one line for people, a code for the shell, a kind for `--json`. */
export interface ErrorReport {
  exitCode: ExitCodeValue;
  /** One line, saying what happened and what to do. */
  message: string;
  /** A stable identifier: the error class name, e.g. `SessionNotFoundError`. */
  kind: string;
}

/** Context for clearer messages. */
export interface DescribeContext {
  /** The API origin in use. */
  apiUrl?: string | undefined;
  /** The session id the command was working on. */
  sessionId?: string | undefined;
  /** The token came from `--token` or `NEMO_TOKEN` (not an anonymous token). */
  explicitToken?: boolean | undefined;
}

function isAbort(error: unknown): boolean {
  // Ours (from any copy of the package) or a platform AbortError (DOMException).
  return error instanceof AbortError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Maps any thrown value to its exit code and a single line telling the user what to do.
 *
 * @example
 * ```ts
 * const { exitCode, message } = describeError(err, { apiUrl });
 * process.stderr.write(`error: ${message}\n`);
 * process.exitCode = exitCode;
 * ```
 */
export function describeError(error: unknown, ctx: DescribeContext = {}): ErrorReport {
  const kind =
    error instanceof Error ? error.name : typeof error === 'string' ? 'Error' : 'Unknown';
  const say = (exitCode: ExitCodeValue, message: string): ErrorReport => ({
    exitCode,
    message: oneLine(message, 600),
    kind,
  });
  const sdkSays = error instanceof Error ? error.message : String(error);

  if (error instanceof CliError) return say(error.exitCode, error.message);
  if (error instanceof CommanderError) return say(ExitCode.Usage, error.message);
  if (isAbort(error)) return say(ExitCode.Aborted, 'Aborted.');

  if (error instanceof SessionNotFoundError) {
    const which = ctx.sessionId ? `Session ${ctx.sessionId}` : 'The session';
    return say(
      ExitCode.Api,
      `${which} was not found: it may have expired or belong to another token. Check the id, or start a new one with "nemovideo session new".`,
    );
  }
  if (error instanceof InsufficientCreditsError) {
    const next = error.registerUrl
      ? `Register at ${error.registerUrl} to get more credits,`
      : 'Top up your account at https://nemovideo.com,';
    return say(
      ExitCode.Api,
      `Out of credits. ${next} or pass a token that has credits with --token / NEMO_TOKEN. See your balance with "nemovideo credits".`,
    );
  }
  if (error instanceof ExportNotAllowedError) {
    return say(
      ExitCode.Api,
      'Your plan does not allow this export (HTTP 402). This is a subscription limit, not a lack of credits: upgrade your plan at https://nemovideo.com, or use a token whose plan allows exports.',
    );
  }
  if (error instanceof UnsupportedFileTypeError) {
    return say(
      ExitCode.Usage,
      `The service does not accept this file type. Accepted formats: ${error.acceptedFormats.join(', ')}. Convert the file to one of them and try again.`,
    );
  }
  if (error instanceof FileTooLargeError) return say(ExitCode.Usage, sdkSays);
  if (error instanceof AuthenticationError) {
    return say(
      ExitCode.Api,
      ctx.explicitToken
        ? 'The token was rejected as expired or invalid. Pass a fresh one with --token / NEMO_TOKEN, or leave both unset to use a free anonymous token.'
        : 'The token was rejected as expired or invalid. Try again; if it persists, delete ~/.config/nemovideo/token.json.',
    );
  }
  if (error instanceof RateLimitError) {
    const wait = error.retryAfterMs
      ? ` about ${Math.ceil(error.retryAfterMs / 1000)} s`
      : ' a minute';
    return say(
      ExitCode.Api,
      `The service is rate limiting this client. Wait${wait} and try again.`,
    );
  }
  if (error instanceof ApiError) {
    const status =
      error.httpStatus >= 500 ? ' The service may be having trouble: try again later.' : '';
    return say(ExitCode.Api, `${sdkSays}${status}`);
  }
  if (error instanceof RenderFailedError || error instanceof DraftNotReadyError) {
    return say(ExitCode.Api, sdkSays);
  }
  if (error instanceof ConnectionError) {
    const where = ctx.apiUrl ? ` at ${ctx.apiUrl}` : '';
    const reason = /\(([^()]+)\)/.exec(sdkSays)?.[1];
    return say(
      ExitCode.Network,
      `Could not reach the NemoVideo API${where}${reason ? ` (${reason})` : ''}: the service may be down or the network unavailable. Check your connection and --api-url / NEMO_API_URL, then try again.`,
    );
  }
  if (error instanceof TimeoutError || error instanceof DownloadError) {
    return say(ExitCode.Network, sdkSays);
  }
  const insecure =
    error instanceof ConfigError ? /over plain http to (\S+)\. /.exec(error.message) : null;
  if (insecure) {
    return say(
      ExitCode.Usage,
      `Refusing to send the token over plain http to ${insecure[1]}: use an https:// API URL (plain http is accepted only for localhost, e.g. the emulator).`,
    );
  }
  if (error instanceof ConfigError) return say(ExitCode.Usage, sdkSays);
  if (isNemoError(error)) return say(ExitCode.Api, sdkSays);
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR' || errno === 'ENOTDIR') {
    return say(ExitCode.Usage, sdkSays);
  }
  return say(
    ExitCode.Internal,
    `Unexpected error: ${sdkSays}. Run again with --verbose for details and report it.`,
  );
}

/**
 * Exit codes and the CLI's own errors. Free of the SDK: the messages of SDK errors are written
 * by describe.ts, which is loaded only when a command fails.
 *
 * @module
 */

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

/** What the command was doing, for messages that name the next step. */
export interface DescribeContext {
  /** The API origin in use. */
  apiUrl?: string | undefined;
  /** The session id the command was working on. */
  sessionId?: string | undefined;
  /** The token came from `--token` or `NEMO_TOKEN` (not an anonymous token). */
  explicitToken?: boolean | undefined;
  /** No token was obtained yet: a failure came from the anonymous-token request. */
  awaitingToken?: boolean | undefined;
  /** The folder of the client id and the token cache. */
  configDir?: string | undefined;
  /** The command line that exports the session again (`nemovideo export <sid> -o …`). */
  exportAgain?: string | undefined;
  /** What to do after an interruption (Ctrl-C) at this point; a rerun when unset. */
  afterAbort?: string | undefined;
  /** The durable job the command runs (`download`, `jobs resume`). */
  jobId?: string | undefined;
  /** The command line that resumes that job. */
  resumeCommand?: string | undefined;
}

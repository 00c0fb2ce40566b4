/**
 * What the CLI says when a command fails: one line in the CLI's own terms (flags, env vars and
 * commands, never SDK option or method names), and the exit code. The SDK's messages name SDK
 * options ("raise maxWait", "pass clientIdFile: false"), so they are not passed through: each
 * error is described from its class and fields, keeping at most the SDK's first sentence (the
 * fact) and adding the CLI's own next step. Loaded only when a command fails.
 *
 * @module
 */
import { hostname } from 'node:os';
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
  JobLockedError,
  JournalError,
  RateLimitError,
  RenderFailedError,
  RenderTimeoutError,
  ResponseValidationError,
  SessionNotFoundError,
  StreamError,
  TimeoutError,
  TurnLostError,
  UnsupportedFileTypeError,
  UploadError,
} from '../index.js';
import {
  CliError,
  type DescribeContext,
  type ErrorReport,
  ExitCode,
  type ExitCodeValue,
} from './errors.js';
import { formatBytes, oneLine } from './format.js';

/** The chat message was not re-sent (never is, automatically): how to find out what happened. */
function notResent(ctx: DescribeContext): string {
  const state = ctx.sessionId
    ? `"nemovideo state ${ctx.sessionId}"`
    : '"nemovideo state <session-id>"';
  return `The message was not re-sent, and the agent may still finish the edit: check with ${state} before sending it again.`;
}

function isAbort(error: unknown): boolean {
  // Ours (from any copy of the package) or a platform AbortError (DOMException).
  return error instanceof AbortError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * The first sentence of an SDK message: what happened, without the SDK's advice (which names
 * SDK options). A sentence ends with `.`, `!` or `?` followed by a space and a capital letter.
 */
export function firstSentence(message: string): string {
  const end = /[.!?](?=\s+["(]?[A-Z])/.exec(message);
  const sentence = end ? message.slice(0, end.index + 1) : message;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** `90 s`, `15 min`, `1.5 h`. */
function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

/** The service's own words about a failure, when its body carried a message. */
function serverSaid(body: unknown): string {
  if (body === null || typeof body !== 'object') return '';
  const { message, error } = body as { message?: unknown; error?: unknown };
  const said = typeof message === 'string' ? message : typeof error === 'string' ? error : '';
  return said.trim() === '' ? '' : ` The service said: "${oneLine(said, 200)}".`;
}

function configDirOf(ctx: DescribeContext): string {
  return ctx.configDir ?? '~/.config/nemovideo';
}

/**
 * Maps any thrown value to its exit code and a single line telling the user what to do.
 *
 * @example
 * ```ts
 * const { exitCode, message } = describeError(err, { apiUrl, sessionId });
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
  const sid = ctx.sessionId ?? '<session-id>';
  const exportAgain = ctx.exportAgain ?? `nemovideo export ${sid}`;

  if (error instanceof CliError) return say(error.exitCode, error.message);
  if (isAbort(error)) {
    return say(
      ExitCode.Aborted,
      `Aborted. ${ctx.afterAbort ?? 'Nothing is left half-done here: run the same command again to start over.'}`,
    );
  }

  if (error instanceof JobLockedError) {
    // The lock names the holder's host: only another host is worth saying (and rules out kill).
    const elsewhere = error.hostname !== undefined && error.hostname !== hostname();
    const where = elsewhere ? ` on host ${error.hostname}` : '';
    const holder = error.pid !== undefined ? `process ${error.pid}${where}` : 'another process';
    return say(
      ExitCode.Usage,
      `Job ${error.jobId} is already running in ${holder}. Wait for it to finish${error.pid !== undefined && !elsewhere ? `, or stop it ("kill ${error.pid}")` : ''}; a job left by a process that died is picked up by the next run.`,
    );
  }
  if (error instanceof JournalError) {
    const job = error.jobId;
    const rerun = ctx.resumeCommand ? `"${ctx.resumeCommand} --fresh"` : '--fresh';
    switch (error.problem) {
      case 'corrupt':
        return say(
          ExitCode.Usage,
          `The saved job ${job} (${error.location ?? 'journal'}) is damaged; it was left untouched. Remove it with "nemovideo jobs rm ${job}", or start over with ${rerun}.`,
        );
      case 'newer-version':
        return say(
          ExitCode.Usage,
          `The saved job ${job} was written by a newer version of nemovideo; it was left untouched. Update (npm install -g nemovideo@latest) to resume it, or start over with ${rerun}.`,
        );
      case 'input-changed':
        return say(
          ExitCode.Usage,
          `${error.location ?? 'An input file'} changed since it was uploaded for job ${job}, and the session holds the earlier file. Start over with ${rerun} to upload the new one in a new session (costs credits again).`,
        );
      case 'io':
        return say(
          ExitCode.Usage,
          `${firstSentence(sdkSays)} Point NEMO_CONFIG_DIR at a folder nemovideo can write to (now ${configDirOf(ctx)}).`,
        );
      default:
        return say(ExitCode.Usage, `${firstSentence(sdkSays)} Start over with ${rerun}.`);
    }
  }
  if (error instanceof TurnLostError && error.jobId !== undefined) {
    const rerun = ctx.resumeCommand ? `"${ctx.resumeCommand} --fresh"` : '--fresh';
    return say(
      ExitCode.Api,
      `The instruction of job ${error.jobId} was sent by an earlier run, but session ${sid} has not changed since: the turn was lost. It is not sent again automatically (that could charge twice). Check with "nemovideo state ${sid}"; to start over in a new session (costs credits again), run ${rerun}.`,
    );
  }
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
  if (error instanceof FileTooLargeError) {
    return say(
      ExitCode.Usage,
      `The file is over the service's upload limit of ${formatBytes(error.maxBytes)}. Compress or trim it, then upload it again.`,
    );
  }
  if (error instanceof AuthenticationError) {
    return say(
      ExitCode.Api,
      ctx.explicitToken
        ? 'The token was rejected as expired or invalid. Pass a fresh one with --token / NEMO_TOKEN, or leave both unset to use a free anonymous token.'
        : `The token was rejected as expired or invalid. Run the command again; if it keeps happening, delete ${configDirOf(ctx)}/token.json.`,
    );
  }
  if (error instanceof RateLimitError) {
    if (ctx.awaitingToken && !ctx.explicitToken) {
      return say(
        ExitCode.Api,
        `The service refused a new anonymous token (HTTP 429): it grants one per client id while the last one is valid, and this client id's token is not in ${configDirOf(ctx)}/token.json (another program may hold it). Set NEMO_TOKEN to a token you have, or set NEMO_CLIENT_ID to a new id to get a new anonymous token.`,
      );
    }
    const wait = error.retryAfterMs
      ? ` about ${Math.ceil(error.retryAfterMs / 1000)} s`
      : ' a minute';
    return say(
      ExitCode.Api,
      `The service is rate limiting this client (HTTP 429). Wait${wait} and try again.`,
    );
  }
  if (error instanceof RenderFailedError) {
    return say(
      ExitCode.Api,
      `Render ${error.renderId} failed${error.reason ? `: ${error.reason}` : ''}. Check the timeline with "nemovideo state ${sid}", then export again ("${exportAgain}").`,
    );
  }
  if (error instanceof DraftNotReadyError) {
    return say(
      ExitCode.Api,
      `The timeline of session ${sid} has no clip yet, so there is nothing to export. Upload a video ("nemovideo upload ${sid} <file-or-url>") and ask the agent to edit it ("nemovideo chat ${sid} <message>"), then export.`,
    );
  }
  if (error instanceof ApiError) {
    if (/X-Client-Id/i.test(sdkSays)) {
      return say(
        ExitCode.Api,
        `The service asked for a client id (HTTP 400). Set NEMO_CLIENT_ID, or make sure ${configDirOf(ctx)} is a folder nemovideo can write to.`,
      );
    }
    const code =
      error.code !== undefined && error.code !== error.httpStatus ? ` (code ${error.code})` : '';
    const status = error.httpStatus > 0 ? `HTTP ${error.httpStatus}${code}` : `code ${error.code}`;
    const next =
      error.httpStatus >= 500
        ? 'The service may be having trouble: try again later.'
        : 'Check the command line; if it looks right, report this with the output of --verbose.';
    const requestId = error.requestId ? ` (request id ${error.requestId})` : '';
    return say(
      ExitCode.Api,
      `The service refused the request: ${status}${requestId}.${serverSaid(error.body)} ${next}`,
    );
  }
  if (error instanceof StreamError || error instanceof TurnLostError) {
    return say(ExitCode.Api, `${firstSentence(sdkSays)} ${notResent(ctx)}`);
  }
  if (error instanceof ConnectionError) {
    const where = ctx.apiUrl ? ` at ${ctx.apiUrl}` : '';
    const reason = /\(([^()]+)\)/.exec(sdkSays)?.[1];
    return say(
      ExitCode.Network,
      `Could not reach the NemoVideo API${where}${reason ? ` (${reason})` : ''}: the service may be down or the network unavailable. Check your connection and --api-url / NEMO_API_URL, then try again.`,
    );
  }
  if (error instanceof RenderTimeoutError) {
    return say(
      ExitCode.Network,
      `Render ${error.renderId} did not finish within ${duration(error.timeoutMs)} (--max-wait). It may still complete on the server: export again with a longer wait ("${exportAgain} --max-wait ${Math.max(1800, Math.ceil((error.timeoutMs * 2) / 1000))}"); export costs no credits.`,
    );
  }
  if (error instanceof TimeoutError) {
    switch (error.kind) {
      case 'turn-hard-limit':
      case 'turn-heartbeats-only':
      case 'stream-idle':
        return say(ExitCode.Network, `${firstSentence(sdkSays)} ${notResent(ctx)}`);
      case 'download':
        return say(
          ExitCode.Network,
          `The download stopped: no data for ${duration(error.timeoutMs)}. Check your connection and export again ("${exportAgain}"); export costs no credits.`,
        );
      case 'render':
        return say(
          ExitCode.Network,
          `The render did not finish in time (--max-wait). It may still complete: export again with a longer --max-wait ("${exportAgain}").`,
        );
      default: {
        const where = ctx.apiUrl ? ` at ${ctx.apiUrl}` : '';
        return say(
          ExitCode.Network,
          `The NemoVideo API${where} did not answer within ${duration(error.timeoutMs)}. Check your connection and --api-url / NEMO_API_URL, then try again.`,
        );
      }
    }
  }
  if (error instanceof DownloadError) {
    if (error.partialPath !== undefined) {
      return say(
        ExitCode.Network,
        `${firstSentence(sdkSays)} The partial file is kept: run "${ctx.resumeCommand ?? exportAgain}" to continue the download from where it stopped.`,
      );
    }
    return say(
      ExitCode.Network,
      `${firstSentence(sdkSays)} No partial file was kept: export again ("${exportAgain}"); export costs no credits.`,
    );
  }
  if (error instanceof UploadError) {
    return say(
      ExitCode.Usage,
      `${firstSentence(sdkSays)} Check the file (it must be complete and readable), then upload it again.`,
    );
  }
  if (error instanceof ResponseValidationError) {
    const at = error.path ? ` (at ${error.path})` : '';
    return say(
      ExitCode.Api,
      `The service sent an answer this version of nemovideo does not understand${at}. Update it (npm install -g nemovideo@latest); if that does not help, report it with the output of --verbose.`,
    );
  }
  if (error instanceof ConfigError) {
    // The CLI checks what it passes (--api-url, --token) itself; what is left is the config folder.
    return say(
      ExitCode.Usage,
      `${firstSentence(sdkSays)} Fix or delete that file, point NEMO_CONFIG_DIR at a folder nemovideo can write to (now ${configDirOf(ctx)}), or set NEMO_CLIENT_ID.`,
    );
  }
  if (isNemoError(error)) {
    return say(
      ExitCode.Api,
      `${firstSentence(sdkSays)} Run again with --verbose for details; report it if it keeps happening.`,
    );
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR' || errno === 'ENOTDIR') {
    return say(ExitCode.Usage, sdkSays);
  }
  return say(
    ExitCode.Internal,
    `Unexpected error: ${sdkSays}. Run again with --verbose for details and report it.`,
  );
}

/**
 * The seven tools. Each handler validates what the schema cannot (paths, sessions with a turn
 * in progress), calls the SDK, and returns a structured result with a text rendering; every
 * failure becomes an `isError` result saying what happened and what to do next.
 *
 * @module
 */

import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { formatBytes, formatDuration, oneLine } from './format.js';
import { type ProgressReporter, progressOf } from './progress.js';
import { failed, failureOf, ok, ToolInputError } from './results.js';
import {
  createSessionInput,
  createSessionOutput,
  exportVideoInput,
  exportVideoOutput,
  getCreditsInput,
  getCreditsOutput,
  getRenderStatusInput,
  getRenderStatusOutput,
  getTimelineInput,
  getTimelineOutput,
  type LastTurn,
  type NextTool,
  sendMessageInput,
  sendMessageOutput,
  uploadMediaInput,
  uploadMediaOutput,
} from './schemas.js';
import {
  type ChatEvent,
  describeTrack,
  isAbort,
  isAgentError,
  isExportReady,
  isNotFound,
  isRenderTimeout,
  isTurnLost,
  registerUrlOf,
  renderIdOf,
  routeIntent,
  type SessionState,
  summarizeTimeline,
  type TurnResult,
  timelineEndMs,
  translateReply,
  turnNeverStarted,
  type UploadedFile,
} from './sdk.js';
import type { RenderRecord, TurnRecord, Workspace } from './workspace.js';

type Handler<A> = (args: A, ctx: ServerContext) => Promise<CallToolResult>;

/**
 * Runs a handler as tracked work: any exception becomes an `isError` result, the output is
 * scrubbed, and a call the client cancelled is logged once its cleanup is done.
 */
function guard<A>(ws: Workspace, tool: string, handler: Handler<A>): Handler<A> {
  return async (args, ctx) => {
    const result = await ws.track(
      handler(args, ctx).catch((error: unknown) => failed(failureOf(error))),
    );
    if (ctx.mcpReq.signal.aborted) {
      const sessionId = (args as { session_id?: unknown }).session_id;
      const about = typeof sessionId === 'string' ? ` (session ${sessionId})` : '';
      ws.log(`${tool}${about} cancelled; its work is stopped and cleaned up`);
    }
    return ws.scrubber.value(result);
  };
}

/** Render `output.quality` for each `quality` input. */
const QUALITY: Record<string, string> = { '1080p': 'high', '720p': 'medium', '480p': 'low' };

const ACCEPTED = 'mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac';

/** Register every tool on `server`. */
export function registerTools(server: McpServer, ws: Workspace): void {
  const folders = ws.folders.list.join(', ');

  server.registerTool(
    'create_session',
    {
      title: 'Create an editing session',
      description:
        'Start a new NemoVideo editing session (a project) and return its session_id, which every other tool takes. Free. The usual workflow: create_session → upload_media (a video file or link) → send_message (say what to do, e.g. "download this video in MP4 at 1080p") → get_timeline → export_video (saves the MP4).',
      inputSchema: createSessionInput,
      outputSchema: createSessionOutput,
      annotations: { readOnlyHint: false, idempotentHint: false, openWorldHint: true },
    },
    guard(ws, 'create_session', async ({ language, name }, ctx) => {
      const session = await ws.client.sessions.create({
        language,
        taskName: name,
        signal: ws.signal(ctx.mcpReq.signal),
      });
      ws.remember(session);
      const value = { session_id: session.id, task_id: session.taskId };
      return ok(
        `Created session ${session.id}. Next: upload_media with this session_id and a video (a local path or a link), then send_message with what to do.`,
        value,
      );
    }),
  );

  server.registerTool(
    'upload_media',
    {
      title: 'Upload media',
      description: `Add media to a session: local files and/or http(s) links (a YouTube or other video page, or a direct link to a file). Local paths must be inside ${folders} (relative paths start at the first). Accepted formats: ${ACCEPTED}; at most 500 MB a file. Files are checked before anything is sent. Uploading does not edit anything: then tell the agent what to do with send_message.`,
      inputSchema: uploadMediaInput,
      outputSchema: uploadMediaOutput,
      annotations: { readOnlyHint: false, idempotentHint: false, openWorldHint: true },
    },
    guard(ws, 'upload_media', async ({ session_id, media }, ctx) => {
      const signal = ws.signal(ctx.mcpReq.signal);
      const progress = progressOf(ctx, (t) => ws.scrubber.text(t));
      const links: string[] = [];
      const paths: { source: string; path: string }[] = [];
      for (const source of media) {
        if (/^https?:\/\//i.test(source)) links.push(checkLink(source));
        else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^file:\/\//i.test(source)) {
          throw new ToolInputError(
            'InvalidLink',
            `"${source}" is not an http(s) link.`,
            'Pass an http(s) link, or a local file path.',
          );
        } else paths.push({ source, path: await ws.folders.readable(source) });
      }
      const session = ws.session(session_id);
      const files: ReturnType<typeof fileJson>[] = [];
      try {
        if (paths.length > 0) {
          const result = await session.upload(
            paths.map((p) => p.path),
            {
              signal,
              onProgress: (p) => {
                if (p.percent !== undefined)
                  progress.report(p.percent, 100, `uploading ${Math.floor(p.percent)}%`);
              },
            },
          );
          result.files.forEach((f, i) => {
            files.push(fileJson(paths[i]?.source ?? f.filename, f));
          });
        }
        if (links.length > 0) {
          const result = await session.uploadUrl(links, { signal });
          result.files.forEach((f, i) => {
            files.push(fileJson(links[i] ?? f.url, f));
          });
        }
      } finally {
        await progress.end();
      }
      const lines = files.map((f) => {
        const facts = [
          f.file_type,
          f.duration_sec !== undefined ? formatDuration(f.duration_sec) : undefined,
          f.width && f.height ? `${f.width}×${f.height}` : undefined,
        ].filter(Boolean);
        return `- ${f.filename} (${facts.join(', ')}) from ${f.source}`;
      });
      return ok(
        `Uploaded ${files.length} file${files.length === 1 ? '' : 's'} to session ${session_id}:\n${lines.join('\n')}\nNext: send_message with what to do with ${files.length === 1 ? 'it' : 'them'}.`,
        { session_id, files },
      );
    }),
  );

  server.registerTool(
    'send_message',
    {
      title: 'Send a message to the editing agent',
      description:
        'Send one message to the session\'s editing agent and return its reply. The agent edits the timeline: trim, titles, music, resolution, format… Each call sends a NEW message, exactly once, and may cost credits (editing about 50 a session): never call it again to retry the same request. If a call ends without the outcome (status "pending", a time limit, a cancel or a dropped connection), the message was already sent and the agent may still be working: call get_timeline to see what changed and how the turn ended (last_turn) instead of sending it again. When the agent replies with edits only, the result says what changed. When it talks about buttons ("click Export"), next_tools names the tool to call (export_video). To render or save the video use export_video; for the balance get_credits; to see the timeline get_timeline: those are not chat messages.',
      inputSchema: sendMessageInput,
      outputSchema: sendMessageOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    guard(ws, 'send_message', (args, ctx) => sendMessage(ws, args, ctx)),
  );

  server.registerTool(
    'get_timeline',
    {
      title: 'Read the timeline',
      description:
        "Read a session's timeline: a one-line summary, the tracks, whether it is ready to export, the uploaded media, and how the last send_message of the session ended (last_turn: running while the agent is still working). Free and read-only. Use it after a silent or pending send_message, and before sending a message again.",
      inputSchema: getTimelineInput,
      outputSchema: getTimelineOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    guard(ws, 'get_timeline', async ({ session_id }, ctx) => {
      const value = await timelineJson(ws, session_id, ws.signal(ctx.mcpReq.signal));
      return ok(timelineText(value), value);
    }),
  );

  server.registerTool(
    'export_video',
    {
      title: 'Export the video to an MP4 file',
      description: `Render the session's timeline to an H.264 MP4 (1080p by default; export costs no credits) and save it to a local path inside ${folders}. Sends progress notifications while it renders and downloads; cancelling the call stops it and leaves no partial file. Rendering usually takes 30-90 s: if it is not done within wait_seconds, the result has status "rendering" and a render_id: call export_video again with that render_id (and the same path) to continue without starting over. An existing file is replaced only with overwrite: true.`,
      inputSchema: exportVideoInput,
      outputSchema: exportVideoOutput,
      annotations: { readOnlyHint: false, idempotentHint: false, openWorldHint: true },
    },
    guard(ws, 'export_video', (args, ctx) => exportVideo(ws, args, ctx)),
  );

  server.registerTool(
    'get_render_status',
    {
      title: 'Check a render',
      description:
        'The status of a render started by export_video (by this server or an earlier run; looked up on the service by id) and its progress: pending, processing, completed, failed or cancelled. Read-only. To download a render, call export_video with its render_id.',
      inputSchema: getRenderStatusInput,
      outputSchema: getRenderStatusOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    guard(ws, 'get_render_status', async ({ render_id }, ctx) => {
      const signal = ws.signal(ctx.mcpReq.signal);
      const record = await knownRender(ws, render_id, undefined, signal);
      const status = await record.job.status({ signal });
      record.last = status;
      const value = {
        render_id,
        session_id: record.sessionId,
        status: status.status,
        progress: status.progress,
        error: status.error,
        path: record.path,
      };
      const done = status.status === 'completed';
      const text = [
        `Render ${render_id}${record.sessionId ? ` of session ${record.sessionId}` : ''}: ${status.status}${status.progress !== undefined ? ` (${Math.round(status.progress)}%)` : ''}.`,
        status.error ? `Reason: ${status.error}` : undefined,
        record.path
          ? `Saved at ${record.path}.`
          : done
            ? `Next: export_video with render_id "${render_id}" to save it.`
            : undefined,
      ].filter(Boolean);
      return ok(text.join('\n'), value);
    }),
  );

  server.registerTool(
    'get_credits',
    {
      title: 'Credit balance',
      description:
        'The credit balance: available, frozen (reserved by work in progress) and total. Editing costs about 50 credits a session and generating a clip about 100; export is free. A free anonymous account starts with 100. Read-only.',
      inputSchema: getCreditsInput,
      outputSchema: getCreditsOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    guard(ws, 'get_credits', async (_args, ctx) => {
      const balance = await ws.client.credits.balance({ signal: ws.signal(ctx.mcpReq.signal) });
      const anonymous = ws.client.tokenSource === 'anonymous';
      const registerUrl = registerUrlOf(ws.client);
      const value = {
        available: balance.available,
        frozen: balance.frozen,
        total: balance.total,
        account: anonymous ? ('anonymous' as const) : ('configured' as const),
        register_url: registerUrl,
      };
      const text = [
        `${balance.available} credits available, ${balance.frozen} reserved by work in progress (${balance.total} in all).`,
        anonymous
          ? `This is a free anonymous account${registerUrl ? `; register at ${registerUrl} for more credits` : ''}.`
          : undefined,
      ].filter(Boolean);
      return ok(text.join('\n'), value);
    }),
  );
}

function checkLink(source: string): string {
  try {
    return new URL(source).href;
  } catch {
    throw new ToolInputError(
      'InvalidLink',
      `"${source}" is not a valid link.`,
      'Pass a full http(s) link, e.g. https://www.youtube.com/watch?v=dQw4w9WgXcQ',
    );
  }
}

function fileJson(source: string, file: UploadedFile) {
  return {
    source,
    filename: file.filename,
    file_type: file.fileType,
    url: file.url,
    duration_sec: file.durationSec,
    width: file.width,
    height: file.height,
  };
}

// ── send_message ──

interface SendArgs {
  session_id: string;
  message: string;
  wait_seconds: number;
}

async function sendMessage(
  ws: Workspace,
  { session_id, message, wait_seconds }: SendArgs,
  ctx: ServerContext,
): Promise<CallToolResult> {
  const previous = ws.turns.get(session_id);
  if (previous?.status === 'running') {
    return failed({
      kind: 'TurnInProgress',
      message: `Session ${session_id} is still working on the message sent at ${previous.sentAt.toISOString()} ("${oneLine(previous.message, 80)}"). Nothing was sent.`,
      next: 'Wait for that turn: call get_timeline (its last_turn says when it ends). Do not send the same message again.',
    });
  }
  const session = ws.session(session_id);
  const progress = progressOf(ctx, (t) => ws.scrubber.text(t));
  // The turn stops when the client cancels this call or the server shuts down; not when this
  // call stops waiting for it (then it goes on, and get_timeline reports how it ended).
  const turnControl = new AbortController();
  const cancel = () => turnControl.abort(ctx.mcpReq.signal.reason);
  ctx.mcpReq.signal.addEventListener('abort', cancel, { once: true });
  const record: TurnRecord = {
    sessionId: session_id,
    message,
    sentAt: new Date(),
    status: 'running',
  };
  ws.turns.set(session_id, record);
  const agentTools: string[] = [];
  let replying = false;
  // Progress counts the turn's events (heartbeats too: they keep timeouts of clients at bay).
  const onEvent = (event: ChatEvent): void => {
    if (event.type === 'text') {
      if (!replying) progress.step('the agent is replying');
      replying = true;
      return;
    }
    replying = false;
    if (event.type === 'tool_call') {
      agentTools.push(event.name);
      progress.step(`the agent runs ${event.name}`);
    } else if (event.type === 'heartbeat') progress.step('the agent is working');
  };
  const turn = ws.track(
    session.send(message, { signal: ws.signal(turnControl.signal), onEvent }).then(
      (result) => {
        settleTurn(record, result);
        return { result };
      },
      (error: unknown) => {
        record.status = isAbort(error) ? 'cancelled' : 'failed';
        record.error = failureOf(error).message;
        return { error };
      },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'waited'>((resolve) => {
    timer = setTimeout(() => resolve('waited'), wait_seconds * 1000);
  });
  const outcome = await Promise.race([turn, waited]);
  clearTimeout(timer);
  ctx.mcpReq.signal.removeEventListener('abort', cancel);
  await progress.end();

  if (outcome === 'waited') {
    const value = {
      session_id,
      status: 'pending' as const,
      agent_tools: agentTools,
      next_tools: [
        {
          tool: 'get_timeline' as const,
          reason: 'see what the turn changed and how it ended (last_turn)',
        },
      ],
    };
    return ok(
      `The turn is still running after ${wait_seconds} s. The message is sent once and the turn goes on: do NOT send it again. Call get_timeline in a moment: last_turn shows the reply once the turn ends, and the tracks show what changed.`,
      value,
    );
  }
  if ('error' in outcome) return turnFailure(outcome.error);
  const { result } = outcome;
  const value = {
    session_id,
    status: record.status === 'silent' ? ('silent' as const) : ('replied' as const),
    reply: record.reply,
    changes: result.silent || result.recovery ? result.summary : undefined,
    recovered: result.recovery ? true : undefined,
    agent_tools: result.toolCalls.map((c) => c.name),
    next_tools: record.nextTools ?? [],
  };
  const lines: string[] = [];
  if (result.recovery)
    lines.push(
      'The connection dropped during the turn; the timeline shows the turn took effect (the message was not sent again).',
    );
  if (value.reply !== undefined) lines.push(`Agent: ${value.reply}`);
  else lines.push('The agent replied with edits only (no text).');
  if (value.changes !== undefined) lines.push(`What changed: ${value.changes}`);
  if (value.agent_tools.length > 0) lines.push(`Agent tools: ${value.agent_tools.join(', ')}`);
  for (const next of value.next_tools) lines.push(`Next: ${next.tool}: ${next.reason}.`);
  return ok(lines.join('\n'), value);
}

function settleTurn(record: TurnRecord, result: TurnResult): void {
  const translated = translateReply(result.text);
  record.status = result.silent ? 'silent' : 'replied';
  record.reply = result.silent ? undefined : translated.text;
  record.changes = result.silent || result.recovery ? result.summary : undefined;
  const next = new Map<NextTool['tool'], NextTool>();
  const add = (tool: NextTool['tool'], reason: string) => {
    if (!next.has(tool)) next.set(tool, { tool, reason });
  };
  for (const action of translated.actions) {
    const said = `the agent said "${oneLine(action.phrase, 60)}"`;
    switch (action.kind) {
      case 'export':
        add('export_video', `${said}; export_video renders the video and saves the MP4`);
        break;
      case 'state':
      case 'summary':
        add('get_timeline', `${said}; get_timeline shows the timeline`);
        break;
      case 'credits':
        add('get_credits', `${said}; get_credits shows the balance`);
        break;
      case 'send':
      case 'api':
        add('send_message', `${said}; there is no GUI: ask the agent for that step in a message`);
        break;
    }
  }
  const intent = routeIntent(record.message);
  if (intent === 'export' && !result.silent)
    add('export_video', 'the message asks for the video file; export_video renders and saves it');
  record.nextTools = [...next.values()];
}

function turnFailure(error: unknown): CallToolResult {
  // A cancelled call gets no result on the wire; this only ends the handler.
  if (isAbort(error)) throw error;
  const failure = failureOf(error);
  if (turnNeverStarted(error))
    return failed(failure, 'Nothing was sent to the agent: once this is fixed, you may send it.');
  if (isTurnLost(error))
    return failed(
      failure,
      'The connection dropped during the turn and the timeline did not change in the minutes after: the edit did not happen. You may send the message again.',
    );
  if (isAgentError(error))
    return failed(
      failure,
      'The agent received the message and reported this error; it may have used credits. Call get_timeline to see what changed before sending anything again.',
    );
  return failed(
    failure,
    'The message was sent: the agent may still be working, or the edit may have happened. Do NOT send it again before get_timeline shows what changed.',
  );
}

// ── get_timeline ──

async function timelineJson(ws: Workspace, sessionId: string, signal: AbortSignal) {
  const state: SessionState = await ws.session(sessionId).state({ signal });
  const draft = state.draft;
  const record = ws.turns.get(sessionId);
  const lastTurn: LastTurn | undefined = record
    ? {
        status: record.status,
        message: record.message,
        sent_at: record.sentAt.toISOString(),
        reply: record.reply,
        changes: record.changes,
        error: record.error,
        next_tools: record.nextTools,
      }
    : undefined;
  return {
    session_id: sessionId,
    summary: summarizeTimeline(draft),
    export_ready: isExportReady(draft),
    duration_ms: draft ? (draft.durationMs ?? timelineEndMs(draft)) : undefined,
    width: draft?.metadata.width ?? state.canvas?.width,
    height: draft?.metadata.height ?? state.canvas?.height,
    tracks: (draft?.tracks ?? []).map((track, i) => ({
      index: i + 1,
      kind: track.kind,
      type_code: track.typeCode,
      segments: track.segments.length,
      description: describeTrack(track),
    })),
    media: state.videoInfos.map((info) => ({
      filename: info.filename,
      url: info.url,
      duration_sec: info.durationSec,
    })),
    last_turn: lastTurn,
  };
}

/** The timeline as the tool and the resource return it. */
export type TimelineJson = Awaited<ReturnType<typeof timelineJson>>;

/** Read a session's timeline (for the timeline resource too). */
export function readTimeline(ws: Workspace, sessionId: string, signal: AbortSignal) {
  return timelineJson(ws, sessionId, signal);
}

/** The text rendering of a timeline. */
export function timelineText(value: TimelineJson): string {
  const lines = [value.summary];
  lines.push(
    value.export_ready
      ? 'Ready to export (export_video).'
      : 'Nothing to export yet: upload a video (upload_media) and ask the agent to edit it (send_message).',
  );
  if (value.media.length > 0)
    lines.push(`Media: ${value.media.map((m) => m.filename ?? m.url ?? '?').join(', ')}`);
  const turn = value.last_turn;
  if (turn) {
    const about = `Last message ("${oneLine(turn.message, 60)}", sent ${turn.sent_at})`;
    if (turn.status === 'running') lines.push(`${about}: the agent is still working on it.`);
    else if (turn.status === 'replied') lines.push(`${about}: replied: ${turn.reply ?? ''}`);
    else if (turn.status === 'silent')
      lines.push(`${about}: done with edits only: ${turn.changes ?? 'no changes'}`);
    else lines.push(`${about}: ${turn.status}${turn.error ? `: ${turn.error}` : ''}`);
    for (const next of turn.next_tools ?? []) lines.push(`Next: ${next.tool}: ${next.reason}.`);
  }
  return lines.join('\n');
}

// ── export_video ──

interface ExportArgs {
  session_id: string;
  path?: string | undefined;
  quality: '1080p' | '720p' | '480p';
  overwrite: boolean;
  render_id?: string | undefined;
  wait_seconds: number;
}

/**
 * A render started through this server, else one the service knows by id (started by another
 * process: an earlier run of this server, the CLI, an SDK script), rebuilt with
 * `client.renders.retrieve()`.
 */
async function knownRender(
  ws: Workspace,
  renderId: string,
  sessionId: string | undefined,
  signal: AbortSignal,
): Promise<RenderRecord> {
  const known = ws.renders.get(renderId);
  if (known) return known;
  let job: RenderRecord['job'];
  try {
    job = await ws.client.renders.retrieve(renderId, { sessionId, signal });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new ToolInputError(
      'UnknownRender',
      `No render "${renderId}" was started through this server, and the service does not know it.`,
      'Use a render_id from an export_video result, or call export_video to start a new render.',
    );
  }
  const record: RenderRecord = {
    id: renderId,
    sessionId: job.sessionId,
    job,
    last: job.lastStatus,
  };
  ws.renders.set(renderId, record);
  return record;
}

function isLoopback(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

async function exportVideo(
  ws: Workspace,
  args: ExportArgs,
  ctx: ServerContext,
): Promise<CallToolResult> {
  const { session_id } = args;
  const turn = ws.turns.get(session_id);
  if (turn?.status === 'running') {
    return failed({
      kind: 'TurnInProgress',
      message: `Session ${session_id} is still working on the message sent at ${turn.sentAt.toISOString()}: the timeline is not final yet. Nothing was rendered.`,
      next: 'Call get_timeline until last_turn has ended, then export_video.',
    });
  }
  let record: RenderRecord | undefined;
  if (args.render_id !== undefined) {
    record = await knownRender(ws, args.render_id, session_id, ws.signal(ctx.mcpReq.signal));
    if (record.sessionId !== undefined && record.sessionId !== session_id) {
      throw new ToolInputError(
        'UnknownRender',
        `Render "${args.render_id}" belongs to session ${record.sessionId}, not ${session_id}.`,
        'Pass the session_id the render was started for.',
      );
    }
    // A render retrieved by id when the service did not name its session: the caller does.
    record.sessionId ??= session_id;
  }
  // Check the destination before rendering: a bad path fails fast.
  const target = await ws.folders.writable(
    args.path,
    `nemovideo-${session_id}.mp4`,
    args.overwrite,
  );
  const signal = ws.signal(ctx.mcpReq.signal);
  const progress = progressOf(ctx, (t) => ws.scrubber.text(t));
  try {
    if (!record) {
      const job = await ws
        .session(session_id)
        .render({ output: { quality: QUALITY[args.quality] ?? 'high' }, signal });
      record = { id: job.id, sessionId: session_id, job };
      ws.renders.set(job.id, record);
    }
    return await renderAndSave(ws, record, target, args.wait_seconds, signal, progress);
  } finally {
    await progress.end();
  }
}

async function renderAndSave(
  ws: Workspace,
  record: RenderRecord,
  target: string,
  waitSeconds: number,
  signal: AbortSignal,
  progress: ProgressReporter,
): Promise<CallToolResult> {
  const pollInterval = isLoopback(ws.client.baseUrl) ? 1000 : 10_000;
  const maxWait = waitSeconds * 1000;
  progress.report(0, 100, `render ${record.id} started`);
  let result: Awaited<ReturnType<RenderRecord['job']['wait']>>;
  try {
    result = await record.job.wait({
      signal,
      pollInterval,
      maxWait,
      maxPolls: Math.ceil(maxWait / pollInterval) + 1,
      // A cancelled call stops the render too: nobody is left to collect it.
      cancelOnAbort: true,
      onProgress: (status) => {
        record.last = status;
        const percent = status.status === 'completed' ? 100 : Math.min(99, status.progress ?? 0);
        progress.report(percent / 2, 100, `rendering ${Math.round(percent)}%`);
      },
    });
  } catch (error) {
    if (isRenderTimeout(error) && renderIdOf(error) === record.id) {
      const percent = record.last?.progress;
      const value = {
        session_id: record.sessionId,
        status: 'rendering' as const,
        render_id: record.id,
        progress: percent,
      };
      return ok(
        `Still rendering after ${waitSeconds} s${percent !== undefined ? ` (${Math.round(percent)}%)` : ''}: render_id "${record.id}". Call export_video again with this render_id and the same path to keep waiting and save it (no new render is started).`,
        value,
      );
    }
    throw error;
  }
  const saved = await ws.client.download(result.url, target, {
    renderId: result.renderId,
    // docs/mcp.md promises that a cancelled export leaves no partial file.
    resume: false,
    signal,
    onProgress: (p) => {
      if (p.percent !== undefined)
        progress.report(50 + p.percent * 0.49, 100, `downloading ${formatBytes(p.loadedBytes)}`);
    },
  });
  record.path = saved.path ?? target;
  progress.report(100, 100, 'saved');
  const value = {
    session_id: record.sessionId,
    status: 'saved' as const,
    render_id: record.id,
    path: record.path,
    bytes: saved.bytes,
    duration_sec: result.durationSec,
  };
  return ok(
    `Saved ${record.path} (${formatBytes(saved.bytes)}${result.durationSec !== undefined ? `, ${formatDuration(result.durationSec)}` : ''}, H.264 MP4). Render ${record.id}.`,
    value,
  );
}

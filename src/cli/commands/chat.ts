import { summarizeTimeline, translateReply } from '../../helpers.js';
import type { ChatEvent, TurnResult } from '../../index.js';
import { CliError, ExitCode } from '../errors.js';
import { oneLine } from '../format.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';

/** A chat event for NDJSON output: the event without its raw wire payload. */
export function eventJson(event: ChatEvent): Record<string, unknown> {
  const { raw: _raw, ...rest } = event as ChatEvent & { raw?: unknown };
  return event.type === 'unknown' ? { type: 'unknown', raw: event.raw } : rest;
}

/**
 * The CLI commands behind the GUI wording of a reply ("click the Export button" →
 * `nemovideo export <sid>`), one hint per kind, in order.
 */
export function commandHints(text: string, sessionId: string): string[] {
  const hints = new Map<string, string>();
  for (const action of translateReply(text).actions) {
    if (action.kind === 'export') hints.set('export', `nemovideo export ${sessionId} -o video.mp4`);
    else if (action.kind === 'state' || action.kind === 'summary')
      hints.set('state', `nemovideo state ${sessionId}`);
    else if (action.kind === 'credits') hints.set('credits', 'nemovideo credits');
  }
  return [...hints.values()];
}

/**
 * Prints the reply as it streams: `text` events carry each piece once (a new
 * message starts with a line break); lines are ended before other output.
 */
class ReplyPrinter {
  #atLineStart = true;
  #printed = false;
  readonly #write: (text: string) => void;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  get printed(): boolean {
    return this.#printed;
  }

  text(text: string): void {
    if (text === '') return;
    this.#write(text);
    this.#printed = true;
    this.#atLineStart = text.endsWith('\n');
  }

  endLine(): void {
    if (!this.#atLineStart) {
      this.#write('\n');
      this.#atLineStart = true;
    }
  }
}

async function chat(rt: Runtime, sessionId: string, message: string): Promise<void> {
  const { out, signal } = rt;
  if (message.trim() === '') {
    throw new CliError('The message is empty: say what to do, e.g. "add a title".', ExitCode.Usage);
  }
  rt.context.sessionId = sessionId;
  rt.context.afterAbort = `The message was sent once and is never re-sent; the agent may still act on it. Check with "nemovideo state ${sessionId}" before sending it again.`;
  const session = (await rt.client()).sessions.open(sessionId);
  const printer = new ReplyPrinter((text) => out.stream(text));
  // Reasoning arrives in pieces: shown (with --verbose) as one line before what follows it.
  let thinking = '';
  const onEvent = (event: ChatEvent): void => {
    if (out.json) {
      out.emit(eventJson(event));
      return;
    }
    if (thinking !== '' && event.type !== 'thought' && event.type !== 'heartbeat') {
      out.debug(`  (thinking) ${oneLine(thinking, 200)}`);
      thinking = '';
    }
    switch (event.type) {
      case 'text':
        printer.text(event.text);
        break;
      case 'message':
        break;
      case 'tool_call':
        printer.endLine();
        out.detail(`[${event.name}]`);
        break;
      case 'tool_result':
        out.debug(`  <- ${event.name}`);
        break;
      case 'thought':
        thinking += event.text;
        break;
      case 'heartbeat':
        break;
      default:
        out.debug(`  event: ${oneLine(JSON.stringify(eventJson(event)), 200)}`);
    }
  };
  let turn: TurnResult;
  try {
    // send(): streams through onEvent, reads the state when the turn is silent, and after a
    // dropped connection confirms the turn from the state instead of re-sending it.
    turn = await session.send(message, { signal, onEvent });
  } catch (error) {
    // The error line starts on a line of its own; describe.ts says the message was not re-sent.
    printer.endLine();
    throw error;
  }
  printer.endLine();
  if (out.json) {
    out.emit({
      type: 'done',
      silent: turn.silent,
      changed: turn.changes?.changed ?? null,
      summary: turn.summary ?? null,
      recovered: turn.recovery !== undefined,
    });
    return;
  }
  if (turn.recovery) {
    out.warn(
      `The connection dropped during the turn; the edit was confirmed from the timeline (${turn.recovery.reads} read(s)).`,
    );
  }
  const hints = commandHints(turn.text, sessionId);
  if (hints.length > 0) out.detail(`next: ${hints.join('  |  ')}`);
  if (turn.silent) {
    // The documented fallback for a turn without text: report what changed.
    out.done(`The agent replied without text. Changes: ${turn.summary ?? 'unknown'}`);
    if (turn.stateAfter) out.detail(summarizeTimeline(turn.stateAfter.draft));
    if (!printer.printed) out.result(turn.summary ?? '');
  }
}

/** `nemovideo chat <session-id> <message>`. */
export const run: CommandRun = (rt, [sessionId, message]) =>
  chat(rt, sessionId as string, message as string);

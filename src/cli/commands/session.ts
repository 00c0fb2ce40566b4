import type { Command } from 'commander';
import type { Runtime, RuntimeFactory } from '../runtime.js';

interface SessionNewFlags {
  language?: string | undefined;
  name?: string | undefined;
}

async function sessionNew(rt: Runtime, flags: SessionNewFlags): Promise<void> {
  const { out, signal } = rt;
  const client = rt.client();
  const session = await client.sessions.create({
    signal,
    language: flags.language,
    taskName: flags.name,
  });
  if (out.json) {
    out.emit({
      sessionId: session.id,
      taskId: session.taskId ?? null,
      userId: session.userId ?? null,
    });
    return;
  }
  out.done(`Created session ${session.id}`);
  out.result(session.id);
}

/** Registers `nemovideo session new`. */
export function registerSession(program: Command, runtime: RuntimeFactory): void {
  const session = program
    .command('session')
    .summary('manage editing sessions')
    .description('Editing sessions: each holds uploads, the conversation and the timeline.');
  session
    .command('new')
    .description('create an editing session and print its id')
    .option('--language <code>', 'language of the agent replies (e.g. en, zh-CN)')
    .option('--name <name>', 'task name (default "project")')
    .addHelpText('after', '\nExample:\n  SID=$(nemovideo session new -q)')
    .action(async (flags: SessionNewFlags, cmd: Command) => {
      await sessionNew(runtime(cmd), flags);
    });
}

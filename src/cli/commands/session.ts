import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';

interface SessionNewFlags {
  language?: string | undefined;
  name?: string | undefined;
}

async function sessionNew(rt: Runtime, flags: SessionNewFlags): Promise<void> {
  const { out, signal } = rt;
  const client = await rt.client();
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

/** `nemovideo session new`. */
export const runNew: CommandRun = (rt, _args, flags) => sessionNew(rt, flags as SessionNewFlags);

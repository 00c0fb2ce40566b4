import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import { type ExportFlags, exportToFile, reportSaved } from './common.js';

async function exportCommand(rt: Runtime, sessionId: string, flags: ExportFlags): Promise<void> {
  rt.context.sessionId = sessionId;
  const session = (await rt.client()).sessions.open(sessionId);
  const saved = await exportToFile(rt, session, flags);
  reportSaved(rt, saved);
}

/** `nemovideo export <session-id>`. */
export const run: CommandRun = (rt, [sessionId], flags) =>
  exportCommand(rt, sessionId as string, flags as unknown as ExportFlags);

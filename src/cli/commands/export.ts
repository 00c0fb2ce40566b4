import type { Command } from 'commander';
import type { Runtime, RuntimeFactory } from '../runtime.js';
import { type ExportFlags, exportToFile, parseSessionId, reportSaved } from './common.js';
import { addExportOptions } from './download.js';

async function exportCommand(rt: Runtime, sessionId: string, flags: ExportFlags): Promise<void> {
  rt.context.sessionId = sessionId;
  const session = rt.client().sessions.open(sessionId);
  const saved = await exportToFile(rt, session, flags);
  reportSaved(rt, saved);
}

/** Registers `nemovideo export <session-id>`. */
export function registerExport(program: Command, runtime: RuntimeFactory): void {
  const command = program
    .command('export')
    .summary("render a session's timeline and download the MP4")
    .description(
      "Render the session's current timeline to MP4 and download it (export costs no credits).",
    )
    .argument('<session-id>', 'the session', parseSessionId);
  addExportOptions(command);
  command.addHelpText('after', '\nExample:\n  nemovideo export 5529798706024415232 -o final.mp4');
  command.action(async (sessionId: string, flags: ExportFlags, cmd: Command) => {
    await exportCommand(runtime(cmd), sessionId, flags);
  });
}

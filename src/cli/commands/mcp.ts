import type { Command } from 'commander';
import { usageError } from '../errors.js';
import type { RuntimeFactory } from '../runtime.js';

/** Registers `nemovideo mcp`: an MCP server on stdio (src/mcp, loaded only when it runs). */
export function registerMcp(program: Command, runtime: RuntimeFactory): void {
  program
    .command('mcp')
    .summary('run an MCP server on stdio: the whole workflow as tools for AI agents')
    .description(
      'Run a Model Context Protocol server on stdio for AI agents (Claude Desktop, Claude Code, Cursor…): create_session, upload_media, send_message, get_timeline, export_video, get_render_status, get_credits. Reference: docs/mcp.md.',
    )
    .option(
      '--root <folder>',
      'a folder the tools may read media from and save videos to (repeatable; default: the working directory)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      'after',
      '\nExample (an MCP client configuration runs it for you):\n  npx -y nemovideo mcp --root ~/Videos',
    )
    .action(async (flags: { root?: string[] }, cmd: Command) => {
      const rt = runtime(cmd);
      // The MCP server package loads only here, never for the SDK or the other commands.
      const { RootsError, runMcpServer } = await import('../../mcp/index.js');
      try {
        rt.exitCode = (await runMcpServer({
          roots: flags.root ?? [],
          apiUrl: rt.globals.apiUrl,
          token: rt.globals.token,
          verbose: rt.globals.verbose,
          env: rt.env,
          signal: rt.signal,
        })) as 0;
      } catch (error) {
        if (error instanceof RootsError)
          throw usageError(`${error.message} Pass an existing folder.`);
        throw error;
      }
    });
}

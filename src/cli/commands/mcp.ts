import { usageError } from '../errors.js';
import type { CommandRun } from '../spec.js';

/** `nemovideo mcp`: an MCP server on stdio (src/mcp, loaded only when it runs). */
export const run: CommandRun = async (rt, _args, flags) => {
  const { root } = flags as { root?: string[] };
  // The MCP server package loads only here, never for the SDK or the other commands.
  const { RootsError, runMcpServer } = await import('../../mcp/index.js');
  try {
    rt.exitCode = (await runMcpServer({
      roots: root ?? [],
      apiUrl: rt.globals.apiUrl,
      token: rt.globals.token,
      verbose: rt.globals.verbose,
      env: rt.env,
      signal: rt.signal,
    })) as 0;
  } catch (error) {
    if (error instanceof RootsError) throw usageError(`${error.message} Pass an existing folder.`);
    throw error;
  }
};

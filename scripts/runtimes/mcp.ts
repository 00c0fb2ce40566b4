/**
 * The `mcp` row of the runtime matrix: `npx -y nemovideo mcp` in the consumer project that
 * installed the packed tarball, driven over stdio by the official MCP client through the
 * reference workflow (link → message → export), checked from outside: the tool list, the saved
 * MP4 (exact size, `ftyp`) and one `/run_sse` POST.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Emulator } from '../../src/testing/index.js';

/** Runs the workflow; resolves with a one-line summary, rejects with what went wrong. */
export async function runMcpWorkflow(options: {
  consumer: string;
  apiUrl: string;
  emulator: Emulator;
  home: string;
  resultBytes: number;
}): Promise<string> {
  const { consumer, emulator } = options;
  const transport = new StdioClientTransport({
    command: 'npx',
    args: ['-y', 'nemovideo', 'mcp'],
    cwd: consumer,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: options.home,
      NEMO_API_URL: options.apiUrl,
      NEMO_CONFIG_DIR: join(options.home, 'mcp-config'),
      NEMO_CLIENT_ID: 'runtime-matrix-mcp',
    },
    stderr: 'pipe',
  });
  let stderr = '';
  (transport.stderr as Readable | null)?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'runtime-matrix', version: '1.0.0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    if (tools.length !== 7) throw new Error(`expected 7 tools, got ${tools.map((t) => t.name)}`);
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = await client.callTool({ name, arguments: args });
      if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
      return result.structuredContent as Record<string, unknown>;
    };
    const sessionId = (await call('create_session', {})).session_id as string;
    await call('upload_media', {
      session_id: sessionId,
      media: ['https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    });
    const posts = () => emulator.requests.filter((r) => r.path === '/run_sse').length;
    const before = posts();
    await call('send_message', {
      session_id: sessionId,
      message: 'download this video in MP4 at 1080p',
    });
    if (posts() !== before + 1) throw new Error(`${posts() - before} /run_sse POSTs, expected 1`);
    const saved = await call('export_video', { session_id: sessionId, path: 'mcp-video.mp4' });
    const bytes = readFileSync(join(consumer, 'mcp-video.mp4'));
    if (bytes.length !== options.resultBytes || saved.bytes !== options.resultBytes)
      throw new Error(`saved ${bytes.length} bytes, expected ${options.resultBytes}`);
    if (bytes.subarray(4, 8).toString('latin1') !== 'ftyp') throw new Error('not an MP4');
    return `${tools.length} tools; saved ${bytes.length} bytes via export_video`;
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${stderr}`);
  } finally {
    await client.close();
  }
}

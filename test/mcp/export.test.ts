/**
 * export_video when it does not simply finish: a client cancel mid-render and mid-download
 * (the render is cancelled, no partial file is left), and a render that outlives wait_seconds
 * (continued with its render_id, without a second render).
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { resultMp4 } from '../../src/testing/index.js';
import { serveSlowCdnEmulator } from '../cli/helpers.js';
import {
  type McpHarness,
  newSession,
  type ServedEmulator,
  serveEmulator,
  startMcp,
  tempDir,
  textOf,
} from './helpers.js';

// Each file starts `nemovideo mcp` as a child process (TypeScript compiled on the fly): give
// start-up and the slower calls room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(served: ServedEmulator) {
  const dir = tempDir();
  const mcp = await startMcp({ apiUrl: served.url, cwd: dir.path });
  cleanups.push(
    () => served.close(),
    () => dir.cleanup(),
    () => mcp.close(),
  );
  const sessionId = await newSession(mcp.client);
  await mcp.client.callTool({
    name: 'upload_media',
    arguments: { session_id: sessionId, media: ['https://example.com/city.mp4'] },
  });
  await mcp.client.callTool({
    name: 'send_message',
    arguments: { session_id: sessionId, message: 'export it as mp4' },
  });
  return { dir: dir.path, mcp, sessionId };
}

/** Files in `dir` besides the server's config folder: the MP4 and any partial file. */
function outputs(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== '.nemo-config');
}

/** Starts export_video and aborts it on the first progress message matching `when`. */
async function cancelExport(mcp: McpHarness, sessionId: string, when: RegExp) {
  const controller = new AbortController();
  const messages: string[] = [];
  mcp.client.setNotificationHandler('notifications/progress', (n) => {
    messages.push(n.params.message ?? '');
    if (when.test(n.params.message ?? '')) controller.abort('the user clicked Stop');
  });
  const call = mcp.client.callTool(
    { name: 'export_video', arguments: { session_id: sessionId, path: 'video.mp4' } },
    { signal: controller.signal, onprogress: () => undefined },
  );
  await expect(call).rejects.toThrow();
  expect(controller.signal.aborted).toBe(true);
  // The server logs the cancel once the call's cleanup is done.
  await mcp.waitForStderr(new RegExp(`export_video \\(session ${sessionId}\\) cancelled`));
  return messages;
}

describe('cancelling export_video', () => {
  test('mid-render: the render is cancelled on the service and no file is written', async () => {
    const served = await serveEmulator({ renderDurationMs: 60_000 });
    const { dir, mcp, sessionId } = await setup(served);
    const messages = await cancelExport(mcp, sessionId, /^render \S+ started$/);
    const renderId = /^render (\S+) started$/.exec(messages[0] ?? '')?.[1];
    expect(renderId).toBeDefined();
    expect(served.emulator.render(renderId!)?.status).toBe('cancelled');
    expect(outputs(dir)).toEqual([]);
    const status = await mcp.client.callTool({
      name: 'get_render_status',
      arguments: { render_id: renderId },
    });
    expect(status.structuredContent).toMatchObject({ status: 'cancelled' });
  });

  test('mid-download: no partial file is left behind', async () => {
    // An 8 MB result sent 64 KiB every 20 ms: the download takes seconds.
    const served = await serveSlowCdnEmulator(
      { renderDurationMs: 500, resultSizeBytes: 8 * 1024 * 1024, heartbeatMs: 0 },
      { chunkBytes: 64 * 1024, delayMs: 20 },
    );
    const { dir, mcp, sessionId } = await setup(served);
    const messages = await cancelExport(mcp, sessionId, /^downloading /);
    expect(messages.at(-1)).toMatch(/^downloading /);
    expect(served.emulator.requests.some((r) => r.origin === 'cdn' && r.method === 'GET')).toBe(
      true,
    );
    expect(outputs(dir)).toEqual([]);
    // The server is still there and the next export works.
    const again = await mcp.client.callTool({
      name: 'export_video',
      arguments: { session_id: sessionId, path: 'video.mp4' },
    });
    expect(again.isError).toBeFalsy();
    expect(outputs(dir)).toEqual(['video.mp4']);
  });
});

describe('closing the connection mid-download', () => {
  test('stops the export and leaves no partial file', async () => {
    const served = await serveSlowCdnEmulator(
      { renderDurationMs: 500, resultSizeBytes: 8 * 1024 * 1024, heartbeatMs: 0 },
      { chunkBytes: 64 * 1024, delayMs: 20 },
    );
    const { dir, mcp, sessionId } = await setup(served);
    const downloading = new Promise<void>((resolve) => {
      mcp.client.setNotificationHandler('notifications/progress', (n) => {
        if (/^downloading /.test(n.params.message ?? '')) resolve();
      });
    });
    const call = mcp.client.callTool(
      { name: 'export_video', arguments: { session_id: sessionId, path: 'video.mp4' } },
      { onprogress: () => undefined },
    );
    call.catch(() => undefined);
    await downloading;
    // The client goes away (stdin closes): the server stops the call, cleans up and exits.
    await mcp.close();
    await expect(call).rejects.toThrow();
    expect(outputs(dir)).toEqual([]);
  });
});

describe('a render that outlives wait_seconds', () => {
  test('status rendering with its render_id; export_video with it saves without a second render', async () => {
    const served = await serveEmulator({ renderDurationMs: 2500 });
    const { dir, mcp, sessionId } = await setup(served);
    const first = await mcp.client.callTool({
      name: 'export_video',
      arguments: { session_id: sessionId, path: 'late.mp4', wait_seconds: 1 },
    });
    expect(first.isError).toBeFalsy();
    const { render_id: renderId } = first.structuredContent as { render_id: string };
    expect(first.structuredContent).toMatchObject({ status: 'rendering', render_id: renderId });
    expect(textOf(first)).toMatch(/Call export_video again with this render_id/);
    expect(outputs(dir)).toEqual([]);

    const status = await mcp.client.callTool({
      name: 'get_render_status',
      arguments: { render_id: renderId },
    });
    expect(status.structuredContent).toMatchObject({ render_id: renderId, session_id: sessionId });
    expect(['pending', 'processing', 'completed']).toContain(
      (status.structuredContent as { status: string }).status,
    );

    const second = await mcp.client.callTool({
      name: 'export_video',
      arguments: { session_id: sessionId, path: 'late.mp4', render_id: renderId },
    });
    expect(second.structuredContent).toMatchObject({ status: 'saved', render_id: renderId });
    const bytes = await readFile(join(dir, 'late.mp4'));
    expect(Buffer.compare(bytes, Buffer.from(resultMp4()))).toBe(0);
    const starts = served.emulator.requests.filter(
      (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
    );
    expect(starts).toHaveLength(1);

    // A render id of another session is refused.
    const other = await newSession(mcp.client);
    const wrong = await mcp.client.callTool({
      name: 'export_video',
      arguments: { session_id: other, render_id: renderId },
    });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toMatch(/^UnknownRender: .*belongs to session/);
  });
});

describe('a render started by another process', () => {
  test('a restarted server checks and saves it by render_id (client.renders.retrieve), without a second render', async () => {
    const served = await serveEmulator({ renderDurationMs: 2500 });
    const dir = tempDir();
    // The same config folder and client id: the restarted server is the same user.
    const env = { NEMO_CLIENT_ID: `mcp-restart-${Math.random().toString(36).slice(2)}` };
    const first = await startMcp({ apiUrl: served.url, cwd: dir.path, env });
    cleanups.push(
      () => served.close(),
      () => dir.cleanup(),
    );
    const sessionId = await newSession(first.client);
    await first.client.callTool({
      name: 'upload_media',
      arguments: { session_id: sessionId, media: ['https://example.com/city.mp4'] },
    });
    await first.client.callTool({
      name: 'send_message',
      arguments: { session_id: sessionId, message: 'export it as mp4' },
    });
    const started = await first.client.callTool({
      name: 'export_video',
      arguments: { session_id: sessionId, path: 'late.mp4', wait_seconds: 1 },
    });
    const { render_id: renderId } = started.structuredContent as { render_id: string };
    expect(started.structuredContent).toMatchObject({ status: 'rendering' });
    await first.close();

    const second = await startMcp({ apiUrl: served.url, cwd: dir.path, env });
    cleanups.push(() => second.close());
    const status = await second.client.callTool({
      name: 'get_render_status',
      arguments: { render_id: renderId },
    });
    expect(status.isError, textOf(status)).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ render_id: renderId });
    const saved = await second.client.callTool({
      name: 'export_video',
      arguments: { session_id: sessionId, path: 'late.mp4', render_id: renderId },
    });
    expect(saved.structuredContent, textOf(saved)).toMatchObject({
      status: 'saved',
      render_id: renderId,
    });
    const bytes = await readFile(join(dir.path, 'late.mp4'));
    expect(Buffer.compare(bytes, Buffer.from(resultMp4()))).toBe(0);
    const starts = served.emulator.requests.filter(
      (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
    );
    expect(starts).toHaveLength(1);
  });
});

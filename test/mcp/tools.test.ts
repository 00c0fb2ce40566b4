/**
 * `nemovideo mcp` as an agent sees it: the official MCP client drives the server as a child
 * process over stdio, against the emulator on loopback. The tool list and schemas (the
 * contract), the reference workflow with the exact MP4 bytes, progress notifications, the
 * resources and the prompt.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { ACCEPTED_TYPES, resultMp4 } from '../../src/testing/index.js';
import {
  type McpHarness,
  runSsePosts,
  type ServedEmulator,
  serveEmulator,
  startMcp,
  tempDir,
  textOf,
} from './helpers.js';

// Each file starts `nemovideo mcp` as a child process (TypeScript compiled on the fly): give
// start-up and the slower calls room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let served: ServedEmulator;
let dir: ReturnType<typeof tempDir>;
let mcp: McpHarness;

beforeAll(async () => {
  // Each edited session costs 50 credits: enough for every test of this file.
  served = await serveEmulator({ initialCredits: 10_000 });
  dir = tempDir();
  mcp = await startMcp({ apiUrl: served.url, cwd: dir.path });
});

afterAll(async () => {
  await mcp?.close();
  await served?.close();
  dir?.cleanup();
});

type Json = Record<string, unknown>;
interface ToolJson {
  name: string;
  title?: string;
  description?: string;
  inputSchema: { properties?: Record<string, Json>; required?: string[] };
  outputSchema?: { properties?: Record<string, Json>; required?: string[] };
  annotations?: Json;
}

/** Calls made by the reference workflow test (written to $MCP_TRANSCRIPT for docs/mcp.md). */
let transcript: { tool: string; arguments: Json; result: unknown }[] | undefined;

async function call(name: string, args: Json = {}) {
  const result = await mcp.client.callTool({ name, arguments: args });
  transcript?.push({ tool: name, arguments: args, result });
  return result;
}

describe('the tool list and every schema', () => {
  let tools: ToolJson[];
  beforeAll(async () => {
    tools = (await mcp.client.listTools()).tools as ToolJson[];
  });
  const byName = (name: string) => {
    const tool = tools.find((t) => t.name === name);
    if (!tool) throw new Error(`no tool ${name}`);
    return tool;
  };

  test('exactly the seven snake_case tools, each with a title, description and output schema', () => {
    expect(tools.map((t) => t.name).sort()).toEqual([
      'create_session',
      'export_video',
      'get_credits',
      'get_render_status',
      'get_timeline',
      'send_message',
      'upload_media',
    ]);
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z]+(_[a-z]+)+$/);
      expect(tool.title).toBeTruthy();
      expect(tool.description?.length).toBeGreaterThan(80);
      expect(tool.outputSchema?.properties).toBeDefined();
    }
  });

  test('required inputs and outputs of each tool', () => {
    const required = (name: string) => [
      byName(name).inputSchema.required ?? [],
      byName(name).outputSchema?.required ?? [],
    ];
    expect(required('create_session')).toEqual([[], ['session_id']]);
    expect(required('upload_media')).toEqual([
      ['session_id', 'media'],
      ['session_id', 'files'],
    ]);
    expect(required('send_message')).toEqual([
      ['session_id', 'message'],
      ['session_id', 'status', 'agent_tools', 'next_tools'],
    ]);
    expect(required('get_timeline')).toEqual([
      ['session_id'],
      ['session_id', 'summary', 'export_ready', 'tracks', 'media'],
    ]);
    expect(required('export_video')).toEqual([
      ['session_id'],
      ['session_id', 'status', 'render_id'],
    ]);
    expect(required('get_render_status')).toEqual([['render_id'], ['render_id', 'status']]);
    expect(required('get_credits')).toEqual([[], ['available', 'frozen', 'total', 'account']]);
  });

  test('enums and defaults an agent relies on', () => {
    const send = byName('send_message');
    expect(send.inputSchema.properties?.wait_seconds).toMatchObject({
      type: 'integer',
      default: 50,
      minimum: 1,
      maximum: 900,
    });
    expect(send.outputSchema?.properties?.status).toMatchObject({
      enum: ['replied', 'silent', 'pending'],
    });
    const next = send.outputSchema?.properties?.next_tools as { items: { properties: Json } };
    expect(next.items.properties.tool).toMatchObject({
      enum: ['export_video', 'get_timeline', 'get_credits', 'send_message', 'upload_media'],
    });
    const exp = byName('export_video');
    expect(exp.inputSchema.properties?.quality).toMatchObject({
      enum: ['1080p', '720p', '480p'],
      default: '1080p',
    });
    expect(exp.inputSchema.properties?.overwrite).toMatchObject({
      type: 'boolean',
      default: false,
    });
    expect(exp.outputSchema?.properties?.status).toMatchObject({ enum: ['saved', 'rendering'] });
    expect(byName('upload_media').inputSchema.properties?.media).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: 20,
    });
    expect(byName('get_credits').outputSchema?.properties?.account).toMatchObject({
      enum: ['configured', 'anonymous'],
    });
  });

  test('the never-resend rule and the allowed folders are in the descriptions', () => {
    const send = byName('send_message').description ?? '';
    expect(send).toMatch(/Each call sends a NEW message, exactly once/);
    expect(send).toMatch(/never call it again to retry/);
    expect(send).toMatch(/call get_timeline/);
    expect(byName('upload_media').description).toContain(dir.path);
    expect(byName('export_video').description).toContain(dir.path);
  });

  test('read-only tools say so', () => {
    for (const name of ['get_timeline', 'get_render_status', 'get_credits'])
      expect(byName(name).annotations?.readOnlyHint).toBe(true);
    for (const name of ['create_session', 'upload_media', 'send_message', 'export_video'])
      expect(byName(name).annotations?.readOnlyHint).toBe(false);
  });

  test('the schemas, as advertised (a change here is a change of the contract)', () => {
    const contract = tools.map(({ name, title, inputSchema, outputSchema, annotations }) => ({
      name,
      title,
      inputSchema,
      outputSchema,
      annotations,
    }));
    expect(contract).toMatchSnapshot();
  });
});

describe('the reference workflow through the tools', () => {
  test('link → message → export to a path: the exact MP4 bytes, one /run_sse POST', async () => {
    const { emulator } = served;
    transcript = [];
    const created = await call('create_session');
    expect(created.isError).toBeFalsy();
    const sessionId = (created.structuredContent as { session_id: string }).session_id;
    expect(sessionId).toMatch(/^\d+$/);
    expect(textOf(created)).toContain(`Created session ${sessionId}`);

    const uploaded = await call('upload_media', {
      session_id: sessionId,
      media: ['https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    });
    expect(uploaded.isError).toBeFalsy();
    expect(uploaded.structuredContent).toMatchObject({
      session_id: sessionId,
      files: [
        {
          source: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
          file_type: 'video',
          filename: 'youtube_dQw4w9WgXcQ.mp4',
        },
      ],
    });

    const balance = async () =>
      (await call('get_credits')).structuredContent as Record<string, unknown>;
    const creditsBefore = await balance();
    expect(creditsBefore).toMatchObject({ frozen: 0, account: 'anonymous' });
    expect(creditsBefore.register_url).toMatch(/^https:\/\/nemovideo\.com\/register\?bind=anon_/);
    const before = runSsePosts(emulator);
    const turn = await call('send_message', {
      session_id: sessionId,
      message: 'download this video in MP4 at 1080p',
    });
    expect(turn.isError).toBeFalsy();
    expect(runSsePosts(emulator)).toBe(before + 1);
    const reply = turn.structuredContent as {
      status: string;
      reply: string;
      agent_tools: string[];
      next_tools: { tool: string; reason: string }[];
    };
    expect(reply.status).toBe('replied');
    expect(reply.agent_tools).toEqual(['import_media', 'set_export_settings']);
    // "Click the Export button" comes back as the tool to call, and is rewritten in the reply.
    expect(reply.reply).not.toMatch(/click/i);
    expect(reply.reply).toMatch(/export the video/i);
    expect(reply.next_tools[0]).toMatchObject({ tool: 'export_video' });
    expect(reply.next_tools[0]?.reason).toContain('Click the Export button');
    expect(textOf(turn)).toMatch(/^Agent: Sure! Preparing your video in MP4 at 1080p\./);

    const timeline = await call('get_timeline', { session_id: sessionId });
    expect(timeline.structuredContent).toMatchObject({
      summary: 'Timeline (1 track): 1. Video: youtube_dQw4w9WgXcQ.mp4 (0-30s)',
      export_ready: true,
      tracks: [{ index: 1, kind: 'video', segments: 1 }],
      last_turn: { status: 'replied', message: 'download this video in MP4 at 1080p' },
    });

    const exported = await call('export_video', { session_id: sessionId, path: 'out/video.mp4' });
    expect(exported.isError).toBeFalsy();
    const saved = exported.structuredContent as { path: string; bytes: number; render_id: string };
    expect(saved).toMatchObject({ status: 'saved', path: join(dir.path, 'out', 'video.mp4') });
    const bytes = await readFile(saved.path);
    expect(Buffer.compare(bytes, Buffer.from(resultMp4()))).toBe(0);
    expect(saved.bytes).toBe(bytes.length);
    expect(await readdir(join(dir.path, 'out'))).toEqual(['video.mp4']);
    expect(textOf(exported)).toContain(`Saved ${saved.path}`);

    const status = await call('get_render_status', { render_id: saved.render_id });
    expect(status.structuredContent).toMatchObject({
      render_id: saved.render_id,
      session_id: sessionId,
      status: 'completed',
      path: saved.path,
    });

    // The edit cost 50 credits; the export none.
    const creditsAfter = await balance();
    expect(creditsAfter.available).toBe((creditsBefore.available as number) - 50);
    expect(creditsAfter.total).toBe(creditsAfter.available);
    // Still one message: reading and exporting never post to /run_sse.
    expect(runSsePosts(emulator)).toBe(before + 1);
    if (process.env.MCP_TRANSCRIPT)
      await writeFile(process.env.MCP_TRANSCRIPT, JSON.stringify(transcript, null, 2));
    transcript = undefined;
  });

  test('a silent turn returns what changed; a second message is a second POST', async () => {
    const sessionId = ((await call('create_session')).structuredContent as { session_id: string })
      .session_id;
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/city.mp4'] });
    const before = runSsePosts(served.emulator);
    const first = await call('send_message', {
      session_id: sessionId,
      message: "add a title 'Urban Dreams'",
    });
    expect(first.structuredContent).toMatchObject({
      status: 'silent',
      agent_tools: ['add_text'],
      changes: expect.stringContaining('Urban Dreams'),
    });
    expect(textOf(first)).toMatch(/edits only/);
    expect(textOf(first)).toMatch(/What changed: .*Urban Dreams/);
    const second = await call('send_message', {
      session_id: sessionId,
      message: 'add background music',
    });
    expect(second.structuredContent).toMatchObject({ status: 'replied' });
    expect(runSsePosts(served.emulator)).toBe(before + 2);
  });
});

describe('progress notifications', () => {
  // The client dispatches notifications a microtask late but a response at once, so its
  // `onprogress` can miss the notifications that arrive in the same read as the result
  // (modelcontextprotocol/typescript-sdk#2580). Recording them with a notification handler
  // sees every one, in order, before the awaited result.
  type Progress = { progress: number; total?: number | undefined; message?: string | undefined };
  function recordProgress(): Progress[] {
    const seen: Progress[] = [];
    mcp.client.setNotificationHandler('notifications/progress', (n) => {
      seen.push(n.params);
    });
    return seen;
  }

  test('arrive during an export, strictly increasing, before the result', async () => {
    const { emulator } = served;
    const sessionId = ((await call('create_session')).structuredContent as { session_id: string })
      .session_id;
    await call('upload_media', {
      session_id: sessionId,
      media: ['https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    });
    await call('send_message', { session_id: sessionId, message: 'make it an MP4 at 720p' });
    // Long enough that the first polls see the render in progress.
    emulator.configure({ renderDurationMs: 5000 });
    const seen = recordProgress();
    const whileRendering: string[] = [];
    mcp.client.setNotificationHandler('notifications/progress', (n) => {
      seen.push(n.params);
      const id = /^render (\S+) started$/.exec(n.params.message ?? '')?.[1];
      if (id) whileRendering.push(emulator.render(id)?.status ?? 'unknown');
    });
    let resolved = false;
    const done = await mcp.client
      .callTool(
        { name: 'export_video', arguments: { session_id: sessionId, path: 'progress.mp4' } },
        { onprogress: () => undefined },
      )
      .finally(() => {
        resolved = true;
      });
    emulator.configure({ renderDurationMs: 1500 });
    expect(resolved).toBe(true);
    expect(done.isError).toBeFalsy();
    // The first notification came while the emulator was still rendering.
    expect(whileRendering).toHaveLength(1);
    expect(['pending', 'processing']).toContain(whileRendering[0]);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.every((p) => p.total === 100)).toBe(true);
    const rendering = seen.filter((p) => /^rendering \d+%$/.test(p.message ?? ''));
    expect(rendering.length).toBeGreaterThanOrEqual(2);
    expect(rendering[0]!.progress).toBeLessThan(50);
    expect(seen.some((p) => /^downloading /.test(p.message ?? ''))).toBe(true);
    expect(seen.at(-1)).toMatchObject({ progress: 100, message: 'saved' });
  });

  test('arrive during a chat turn, one step per event', async () => {
    const sessionId = ((await call('create_session')).structuredContent as { session_id: string })
      .session_id;
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
    const seen = recordProgress();
    await mcp.client.callTool(
      { name: 'send_message', arguments: { session_id: sessionId, message: 'export as mp4' } },
      { onprogress: () => undefined },
    );
    expect(seen.map((p) => p.message)).toEqual([
      'the agent is replying',
      'the agent runs import_media',
      'the agent runs set_export_settings',
      'the agent is replying',
    ]);
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
  });

  test('are not sent when the client did not ask for them', async () => {
    const seen = recordProgress();
    const sessionId = ((await call('create_session')).structuredContent as { session_id: string })
      .session_id;
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/c.mp4'] });
    await call('send_message', { session_id: sessionId, message: 'export as mp4' });
    await call('export_video', { session_id: sessionId, path: 'quiet.mp4' });
    expect(seen).toEqual([]);
  });
});

describe('resources and prompts', () => {
  test('nemovideo://formats: the accepted formats, limits and allowed folders', async () => {
    const listed = await mcp.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain('nemovideo://formats');
    const read = await mcp.client.readResource({ uri: 'nemovideo://formats' });
    const content = read.contents[0] as { mimeType: string; text: string };
    expect(content.mimeType).toBe('application/json');
    const value = JSON.parse(content.text) as {
      upload: { formats: string[]; max_bytes: number };
      export: { format: string; credits: number };
      folders: string[];
    };
    // The server's list is the SDK's; the emulator's comes from the contract: they agree.
    expect([...value.upload.formats].sort()).toEqual(Object.keys(ACCEPTED_TYPES).sort());
    expect(value.upload.max_bytes).toBe(500 * 1024 * 1024);
    expect(value.export).toMatchObject({ format: 'mp4', credits: 0 });
    expect(value.folders).toEqual([dir.path]);
  });

  test('the timeline of each session used through the server', async () => {
    const templates = await mcp.client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'nemovideo://sessions/{session_id}/timeline',
    ]);
    const sessionId = ((await call('create_session')).structuredContent as { session_id: string })
      .session_id;
    const listed = await mcp.client.listResources();
    const uri = `nemovideo://sessions/${sessionId}/timeline`;
    expect(listed.resources.map((r) => r.uri)).toContain(uri);
    const empty = JSON.parse(
      ((await mcp.client.readResource({ uri })).contents[0] as { text: string }).text,
    ) as { summary: string; export_ready: boolean; text: string };
    expect(empty).toMatchObject({ summary: 'Timeline: empty (no draft yet)', export_ready: false });
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/b.mp4'] });
    await call('send_message', { session_id: sessionId, message: 'convert to mp4 1080p' });
    const filled = JSON.parse(
      ((await mcp.client.readResource({ uri })).contents[0] as { text: string }).text,
    ) as { summary: string; export_ready: boolean; text: string };
    expect(filled.summary).toBe('Timeline (1 track): 1. Video: b.mp4 (0-30s)');
    expect(filled.export_ready).toBe(true);
    expect(filled.text).toContain('Ready to export');
  });

  test('the timeline of an unknown session is a clear error', async () => {
    await expect(
      mcp.client.readResource({ uri: 'nemovideo://sessions/424242/timeline' }),
    ).rejects.toThrow(/SessionNotFoundError: .*424242/);
  });

  test('the edit_video prompt walks through the workflow and its rules', async () => {
    const prompts = await mcp.client.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toEqual(['edit_video']);
    expect(prompts.prompts[0]?.arguments?.map((a) => [a.name, a.required])).toEqual([
      ['source', true],
      ['instruction', true],
      ['output', false],
    ]);
    const prompt = await mcp.client.getPrompt({
      name: 'edit_video',
      arguments: { source: 'clips/city.mp4', instruction: 'cut it to 15 s', output: 'out.mp4' },
    });
    const text = (prompt.messages[0]!.content as { text: string }).text;
    expect(text).toContain('clips/city.mp4');
    expect(text).toContain('cut it to 15 s');
    expect(text).toContain('export_video with path "out.mp4"');
    expect(text).toMatch(/Send it once/);
  });
});

/**
 * No output of the server ever contains the token: not a tool result (text or structured),
 * not a progress notification, not a resource, not its log, even with --verbose and a
 * service that echoes the token back in errors and replies.
 */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import {
  type McpHarness,
  type ServedEmulator,
  serveEmulator,
  startMcp,
  tempDir,
} from './helpers.js';

// Each file starts `nemovideo mcp` as a child process (TypeScript compiled on the fly): give
// start-up and the slower calls room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let served: ServedEmulator;
let dir: ReturnType<typeof tempDir>;
let mcp: McpHarness;
let token: string;

beforeAll(async () => {
  served = await serveEmulator();
  dir = tempDir();
  ({ token } = served.emulator.issueToken('mcp-token-test'));
  mcp = await startMcp({
    apiUrl: served.url,
    cwd: dir.path,
    args: ['--verbose'],
    env: { NEMO_TOKEN: token },
  });
});

afterAll(async () => {
  await mcp?.close();
  await served?.close();
  dir?.cleanup();
});

test('a token echoed by the service never leaves the server', async () => {
  const { emulator } = served;
  const secret = token.replace(/^nmv_[a-z]+_/, '');
  expect(secret.length).toBeGreaterThanOrEqual(16);
  const seen: unknown[] = [];
  mcp.client.setNotificationHandler('notifications/progress', (n) => {
    seen.push(n.params);
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await mcp.client.callTool(
      { name, arguments: args },
      { onprogress: () => undefined },
    );
    seen.push(result);
    return result;
  };

  const created = await call('create_session');
  const sessionId = (created.structuredContent as { session_id: string }).session_id;

  // Faults whose bodies echo the token, in every shape the SDK decodes.
  // (Every time: the SDK retries some of these.)
  const faults = [
    emulator.fail('POST /api/upload-video/nemo_agent/me/:sid', {
      status: 500,
      body: { code: 500, message: `upstream rejected Bearer ${token}`, token },
      times: Number.POSITIVE_INFINITY,
    }),
    emulator.fail('GET /api/credits/balance/simple', {
      code: 9999,
      message: `token ${token} is over quota`,
      times: Number.POSITIVE_INFINITY,
    }),
  ];
  const upload = await call('upload_media', {
    session_id: sessionId,
    media: ['https://example.com/a.mp4'],
  });
  expect(upload.isError).toBe(true);
  expect((await call('get_credits')).isError).toBe(true);
  for (const fault of faults) fault.remove();
  emulator.fail('POST /api/render/proxy/lambda', {
    status: 400,
    message: `render refused for ${token}`,
    times: Number.POSITIVE_INFINITY,
  });

  // An agent that repeats the token in its reply and in a tool call.
  await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
  emulator.agent((_message, ctx) => [
    { text: `Your token is ${token}. ` },
    { toolCall: { name: 'note', args: { token } } },
    ...ctx.defaultAgent(),
  ]);
  const turn = await call('send_message', {
    session_id: sessionId,
    message: 'export this as mp4',
  });
  expect(turn.isError).toBeFalsy();
  expect((turn.structuredContent as { reply: string }).reply).toContain('[REDACTED]');
  const exported = await call('export_video', { session_id: sessionId });
  expect(exported.isError).toBe(true);
  await call('get_timeline', { session_id: sessionId });
  const credits = await call('get_credits');
  expect(credits.structuredContent).toMatchObject({ account: 'configured' });
  const resource = await mcp.client.readResource({
    uri: `nemovideo://sessions/${sessionId}/timeline`,
  });
  seen.push(resource);

  const everything = JSON.stringify(seen);
  expect(everything).toContain('[REDACTED]');
  expect(everything).not.toContain(secret);
  // The log was written (debug lines of every request) and is clean too.
  const log = mcp.stderr();
  expect(log).toMatch(/debug/);
  expect(log).not.toContain(secret);
  // The token was really used.
  const api = emulator.requests.filter(
    (r) => r.origin === 'api' && r.path !== '/api/auth/anonymous-token',
  );
  expect(api.length).toBeGreaterThan(5);
  for (const r of api) expect(r.headers.authorization).toBe(`Bearer ${token}`);
});

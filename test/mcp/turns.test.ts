/**
 * The never-resend rule across the protocol: whatever happens to a send_message call (a time
 * limit, a cancel, a dropped connection, a server error), the emulator sees exactly one
 * /run_sse POST for it; the result says whether the turn may still be running and how to
 * check; calling the tool again is a new message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { AgentItem } from '../../src/testing/index.js';
import { closedPort } from '../cli/helpers.js';
import {
  eventually,
  type McpHarness,
  newSession,
  runSsePosts,
  type ServedEmulator,
  serveEmulator,
  signalled,
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
  served = await serveEmulator({ initialCredits: 10_000 });
  dir = tempDir();
  mcp = await startMcp({ apiUrl: served.url, cwd: dir.path });
});

afterEach(() => {
  served.emulator.agent(undefined);
});

afterAll(async () => {
  await mcp?.close();
  await served?.close();
  dir?.cleanup();
});

async function call(name: string, args: Record<string, unknown>) {
  return mcp.client.callTool({ name, arguments: args });
}

/** An agent that answers "Working on it." and then waits for `release` before finishing. */
function gatedAgent() {
  const started = signalled();
  const release = signalled();
  served.emulator.agent(async function* (message): AsyncGenerator<AgentItem> {
    started.fire();
    yield { text: 'Working on it.' };
    await release.promise;
    yield { toolCall: { name: 'add_text', args: { text: 'Shine' } } };
    yield { toolResult: { name: 'add_text', response: { status: 'success' } } };
    yield { text: `Done: ${message}.` };
  });
  return { started, release };
}

async function lastTurn(sessionId: string) {
  const result = await call('get_timeline', { session_id: sessionId });
  return (result.structuredContent as { last_turn?: Record<string, unknown> }).last_turn;
}

describe('a turn that outlives wait_seconds', () => {
  test('pending, never re-sent, blocks a second message and an export, then reports its reply', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    const gate = gatedAgent();
    const before = runSsePosts(emulator);
    const pending = await call('send_message', {
      session_id: sessionId,
      message: 'make it shine',
      wait_seconds: 1,
    });
    expect(pending.isError).toBeFalsy();
    expect(pending.structuredContent).toMatchObject({
      status: 'pending',
      next_tools: [{ tool: 'get_timeline' }],
    });
    expect(textOf(pending)).toMatch(
      /^The turn is still running after 1 s\. The message is sent once .*do NOT send it again/,
    );
    expect(textOf(pending)).toMatch(/Call get_timeline/);
    expect(runSsePosts(emulator)).toBe(before + 1);

    // The same message again is refused while the turn runs: nothing is sent.
    const again = await call('send_message', { session_id: sessionId, message: 'make it shine' });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/^TurnInProgress: .*still working on the message sent at/);
    expect(textOf(again)).toMatch(/Do not send the same message again/);
    const exported = await call('export_video', { session_id: sessionId });
    expect(exported.isError).toBe(true);
    expect(textOf(exported)).toMatch(/^TurnInProgress: /);
    expect(runSsePosts(emulator)).toBe(before + 1);

    expect(await lastTurn(sessionId)).toMatchObject({
      status: 'running',
      message: 'make it shine',
    });
    gate.release.fire();
    const done = await eventually(async () => {
      const turn = await lastTurn(sessionId);
      return turn?.status === 'running' ? undefined : turn;
    });
    expect(done).toMatchObject({
      status: 'replied',
      reply: 'Working on it.\nDone: make it shine.',
    });
    const timeline = await call('get_timeline', { session_id: sessionId });
    expect(textOf(timeline)).toMatch(
      /Last message \("make it shine", sent .*\): replied: Working on it\./,
    );

    // Calling the tool again is a new message: a second POST.
    served.emulator.agent(undefined);
    const next = await call('send_message', { session_id: sessionId, message: 'hello' });
    expect(next.structuredContent).toMatchObject({ status: 'replied' });
    expect(runSsePosts(emulator)).toBe(before + 2);
  });
});

describe('a cancelled send_message', () => {
  test('stops the turn, is not re-sent, and get_timeline says so; the next call is a new message', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    const gate = gatedAgent();
    const before = runSsePosts(emulator);
    const controller = new AbortController();
    const call1 = mcp.client.callTool(
      { name: 'send_message', arguments: { session_id: sessionId, message: 'slow edit' } },
      { signal: controller.signal },
    );
    await gate.started.promise;
    controller.abort('the user clicked Stop');
    await expect(call1).rejects.toThrow();
    await mcp.waitForStderr(new RegExp(`send_message \\(session ${sessionId}\\) cancelled`));
    expect(await lastTurn(sessionId)).toMatchObject({ status: 'cancelled', message: 'slow edit' });
    expect(runSsePosts(emulator)).toBe(before + 1);
    gate.release.fire();

    served.emulator.agent(undefined);
    const again = await call('send_message', { session_id: sessionId, message: 'slow edit' });
    expect(again.isError).toBeFalsy();
    expect(runSsePosts(emulator)).toBe(before + 2);
  });
});

describe('failures after the message went out', () => {
  test('a dropped connection: pending within wait_seconds, one POST, the edit still lands', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
    emulator.fail('POST /run_sse', { cutAfterEvents: 2 });
    const before = runSsePosts(emulator);
    const result = await call('send_message', {
      session_id: sessionId,
      message: 'export as mp4',
      wait_seconds: 2,
    });
    expect(result.structuredContent).toMatchObject({ status: 'pending' });
    expect(runSsePosts(emulator)).toBe(before + 1);
    // The backend finished the edit although the connection broke; the timeline shows it.
    const timeline = await call('get_timeline', { session_id: sessionId });
    expect(timeline.structuredContent).toMatchObject({
      export_ready: true,
      last_turn: { status: 'running' },
    });
    expect(runSsePosts(emulator)).toBe(before + 1);
  });

  test('a 503: an error that says not to send it again; one POST', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    emulator.fail('POST /run_sse', { status: 503 });
    const before = runSsePosts(emulator);
    const result = await call('send_message', { session_id: sessionId, message: 'trim it' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /The message was sent: .*Do NOT send it again before get_timeline/,
    );
    expect(runSsePosts(emulator)).toBe(before + 1);
    expect(await lastTurn(sessionId)).toMatchObject({ status: 'failed' });
  });

  test('an error from the agent itself: it received the message; one POST', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    emulator.agent(() => [
      { text: 'Let me try.' },
      { error: 'The editing engine crashed', code: 'E_ENGINE', as: 'event' },
    ]);
    const before = runSsePosts(emulator);
    const result = await call('send_message', { session_id: sessionId, message: 'trim it' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^StreamError: .*The editing engine crashed/);
    expect(textOf(result)).toMatch(/The agent received the message and reported this error/);
    expect(runSsePosts(emulator)).toBe(before + 1);
  });
});

describe('failures before the message went out', () => {
  test('out of credits: nothing was sent, and where to get credits', async () => {
    const { emulator } = served;
    const sessionId = await newSession(mcp.client);
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
    emulator.setCredits(0);
    try {
      const result = await call('send_message', {
        session_id: sessionId,
        message: 'export as mp4',
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^InsufficientCreditsError: /);
      expect(textOf(result)).toContain('Nothing was sent to the agent');
      expect(textOf(result)).toMatch(
        /What to do: Call get_credits.*https:\/\/nemovideo\.com\/register\?bind=anon_/,
      );
    } finally {
      emulator.setCredits(10_000);
    }
  });
});

describe('the service is down', () => {
  test('nothing was sent, and what to check', async () => {
    const port = await closedPort();
    const down = await startMcp({ apiUrl: `http://127.0.0.1:${port}`, cwd: dir.path });
    try {
      const result = await down.client.callTool({
        name: 'send_message',
        arguments: { session_id: '5549282653223822852', message: 'trim it' },
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^ConnectionError: /);
      expect(textOf(result)).toContain('Nothing was sent to the agent');
      expect(textOf(result)).toMatch(/What to do: The NemoVideo service could not be reached/);
    } finally {
      await down.close();
    }
  });
});

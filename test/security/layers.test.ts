/**
 * No token in the errors and debug logs of the layers either: chat stream
 * errors, upload, state, render failures and downloads, each fault echoing
 * the token back, against the emulator (msw handlers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNemoError, NemoClient, type Session } from '../../src/index.js';
import { createEmulator } from '../../src/testing/index.js';
import { mswHandlers } from '../../src/testing/msw.js';
import { captureLogs, errorTexts, expectNoSecret } from './helpers.js';

const emulator = createEmulator({ renderDurationMs: 0, heartbeatMs: 0 });
const server = setupServer(...mswHandlers(emulator));
let dir: string;
beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  dir = await mkdtemp(join(tmpdir(), 'nemo-sec-layers-'));
});
afterEach(() => emulator.reset());
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A client with a token the test knows (issued by the emulator), logging everything. */
async function setup(source: 'option' | 'anonymous') {
  const logs = captureLogs();
  const issued = source === 'option' ? emulator.issueToken() : undefined;
  const client = new NemoClient({
    clientIdFile: false,
    logger: logs.logger,
    logLevel: 'debug',
    maxRetries: 0,
    backend: { render: { pollIntervalMs: 1, maxPolls: 50 } },
    ...(issued ? { token: issued.token } : {}),
  });
  const token = issued?.token ?? (await client.getToken());
  const session = await client.sessions.create();
  await session.uploadUrl('https://media.example.com/city.mp4');
  return { client, session, token, logs };
}

type Fault = (s: { session: Session; client: NemoClient; token: string }) => Promise<unknown>;

const FAULTS: Record<string, Fault> = {
  'chat: error payload echoing the token': ({ session, token }) => {
    emulator.agent(() => [{ text: 'working' }, { error: `crash handling Bearer ${token}` }]);
    return session.send('do it', { stateCheck: 'never' });
  },
  'chat: error event with errorMessage': ({ session, token }) => {
    emulator.agent(() => [{ error: `token=${token}`, code: 'E1', as: 'event' }]);
    return session.send('do it', { stateCheck: 'never' });
  },
  'chat: HTTP 503 before the stream': ({ session, token }) => {
    emulator.fail('POST /run_sse', { status: 503, message: `overloaded ${token}` });
    return session.send('do it', { stateCheck: 'never' });
  },
  'upload: 4001 echoing the token': ({ session, token }) => {
    emulator.fail('POST /api/upload-video/nemo_agent/me/:sid', { code: 4001, message: token });
    return session.uploadUrl('https://media.example.com/other.mp4');
  },
  'upload: file refused with HTTP 500': ({ session, token }) => {
    emulator.fail('POST /api/upload-video/nemo_agent/me/:sid', {
      status: 500,
      body: `upload failed for ${token}`,
    });
    return session.upload(new Blob([new Uint8Array(64)]), {});
  },
  'state: 1002 echoing the token': ({ session, token }) => {
    emulator.fail('GET /api/state/nemo_agent/me/:sid/latest', { code: 1002, message: token });
    return session.state();
  },
  'render: failure reason echoing the token': async ({ session, token }) => {
    await session.send('Put the video on the timeline in MP4');
    emulator.failRenders(`lambda saw ${token}`);
    return session.export({ pollInterval: 1 });
  },
  'download: CDN answers 403 echoing the token': async ({ session, client, token }) => {
    await session.send('Put the video on the timeline in MP4');
    const { url } = await (await session.render()).wait({ pollInterval: 1 });
    emulator.fail('GET /renders/*', { status: 403, body: `denied: Bearer ${token}` });
    return client.download(url, join(dir, 'x.mp4'));
  },
  'download: cut mid-body': async ({ session, token }) => {
    await session.send('Put the video on the timeline in MP4');
    // Both the CDN URL and the API's fallback download endpoint are cut, every time.
    emulator.fail(/^\/renders\/|\/download$/, {
      cutAfterBytes: 100,
      times: Number.POSITIVE_INFINITY,
      message: token,
    });
    return session.export({ pollInterval: 1, to: join(dir, 'y.mp4') });
  },
};

describe('layers never leak the token', () => {
  for (const source of ['option', 'anonymous'] as const) {
    for (const [name, fault] of Object.entries(FAULTS)) {
      it(`${source} token, ${name}`, async () => {
        const { client, session, token, logs } = await setup(source);
        const error = await fault({ session, client, token }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isNemoError(error), `expected a NemoError, got ${String(error)}`).toBe(true);
        expectNoSecret(errorTexts(error), [token], name);
        expectNoSecret(logs.lines, [token], `${name} (log lines)`);
      });
    }
  }
});

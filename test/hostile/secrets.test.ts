/**
 * #13 items 1 and 14: no token and no URL userinfo in any failure, whatever
 * the token holds or the server echoes.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectCleanNemoError, outcome, rejection } from './expect.js';
import { NemoClient, toUpload } from './sdk.js';
import { backend, closeAll, hostile, SESSION_ID, sendJson } from './servers.js';

beforeEach(() => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
});
afterEach(closeAll);

/** The part of every secret below that must never show. */
const MARK = 'S3CRET';

describe('item 1: a token holding CR, LF or NUL', () => {
  const breaks = { LF: '\n', CR: '\r', CRLF: '\r\n', NUL: '\0' };

  for (const [name, br] of Object.entries(breaks)) {
    it(`given as an option (${name}): a clean NemoError from credits.balance()`, async () => {
      const api = await hostile(backend());
      const token = `usr-${MARK}-option${br}X`;
      const error = await rejection(
        (async () =>
          new NemoClient({ token, baseUrl: api.origin, logLevel: 'off' }).credits.balance())(),
      );
      expectCleanNemoError(error, [MARK]);
    });
  }

  it('granted by the server (CR LF inside the anonymous token): a clean NemoError', async () => {
    const api = await hostile(
      backend({
        token: (_req, res) =>
          sendJson(res, 200, {
            code: 0,
            data: { token: `usr-${MARK}-granted\r\nX-Evil: 1`, credits: 100, user_id: 'anon_1' },
          }),
      }),
    );
    const client = new NemoClient({
      baseUrl: api.origin,
      clientId: 'hostile-client-id',
      logLevel: 'off',
    });
    const error = await rejection(client.credits.balance());
    expectCleanNemoError(error, [MARK]);
  });

  it('on the upload path too (LF in the token): a clean NemoError, no upload request', async () => {
    const api = await hostile(backend());
    const error = await rejection(
      (async () => {
        const client = new NemoClient({
          token: `usr-${MARK}-upload\nX`,
          baseUrl: api.origin,
          logLevel: 'off',
        });
        const session = client.sessions.open(SESSION_ID);
        return session.upload(toUpload(new Uint8Array(1024), { filename: 'clip.mp4' }));
      })(),
    );
    expectCleanNemoError(error, [MARK]);
  });

  it('a base URL with userinfo: refused, or stripped everywhere it shows', async () => {
    const api = await hostile(backend());
    const password = `pw-${MARK}-userinfo`;
    const baseUrl = api.origin.replace('http://', `http://alice:${password}@`);
    const built = await outcome(
      (async () => new NemoClient({ baseUrl, token: 'usr-plain-token-1', logLevel: 'off' }))(),
    );
    if (!built.ok) {
      expectCleanNemoError(built.error, [password, MARK]);
      return;
    }
    const client = built.value;
    for (const [where, text] of [
      ['client.baseUrl', client.baseUrl],
      ['String(client)', String(client)],
      ['JSON.stringify(client)', JSON.stringify(client)],
      ['util.inspect(client)', inspect(client, { depth: 6 })],
    ] as const) {
      expect(text, where).not.toContain(MARK);
    }
    const call = await outcome(client.credits.balance());
    if (!call.ok) expectCleanNemoError(call.error, [password, MARK]);
    const basic = Buffer.from(`alice:${password}`).toString('base64');
    for (const request of api.requests) {
      expect(JSON.stringify(request.headers)).not.toContain(basic);
      expect(JSON.stringify(request.headers)).not.toContain(MARK);
    }
  });
});

describe('item 14: a server echoing the token', () => {
  const token = `usr-${MARK}-echoed-token`;

  it('in x-request-id: err.requestId and util.inspect(err) stay clean', async () => {
    const api = await hostile(
      backend({
        credits: (_req, res) =>
          sendJson(res, 500, { code: 500, message: 'boom' }, { 'x-request-id': token }),
      }),
    );
    const client = new NemoClient({ token, baseUrl: api.origin, maxRetries: 0, logLevel: 'off' });
    const error = await rejection(client.credits.balance());
    expectCleanNemoError(error, [MARK]);
  });

  it('as "Bearer <token>" in x-request-id: still clean', async () => {
    const api = await hostile(
      backend({
        credits: (_req, res) =>
          sendJson(res, 500, { code: 500, message: 'boom' }, { 'x-request-id': `Bearer ${token}` }),
      }),
    );
    const client = new NemoClient({ token, baseUrl: api.origin, maxRetries: 0, logLevel: 'off' });
    const error = await rejection(client.credits.balance());
    expectCleanNemoError(error, [MARK]);
  });

  it('as request_id in the JSON error body: err.requestId stays clean', async () => {
    const api = await hostile(
      backend({
        credits: (_req, res) =>
          sendJson(res, 400, { code: 9999, message: 'no', request_id: token }),
      }),
    );
    const client = new NemoClient({ token, baseUrl: api.origin, maxRetries: 0, logLevel: 'off' });
    const error = await rejection(client.credits.balance());
    expectCleanNemoError(error, [MARK]);
  });

  it('in the error message and another body field: every field stays clean', async () => {
    const api = await hostile(
      backend({
        credits: (_req, res) =>
          sendJson(res, 400, {
            code: 9999,
            message: `bad token ${token}`,
            detail: { echoed: `Authorization: Bearer ${token}`, raw: token },
          }),
      }),
    );
    const client = new NemoClient({ token, baseUrl: api.origin, maxRetries: 0, logLevel: 'off' });
    const error = await rejection(client.credits.balance());
    expectCleanNemoError(error, [MARK]);
  });
});

/**
 * No credential in any error message, JSON form, inspected form, cause chain
 * or debug log line, under every fault path of the transport, for every kind
 * of token source. The server echoes the credentials it received back into
 * its error bodies, the worst case. Tokens deliberately do NOT look like
 * `nmv_…`, so only real redaction (not a pattern) can hide them.
 */
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { isNemoError, NemoClient } from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';
import { captureLogs, errorTexts, expectNoSecret } from './helpers.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const TOKEN_URL = `${BASE}/api/auth/anonymous-token`;

type Echo = { token: string; clientId: string };
/** One way a request can fail; each answer echoes the credentials it saw. */
const FAULTS: Record<string, (echo: Echo) => Response | Promise<Response>> = {
  '1001 in a JSON envelope': (e) =>
    HttpResponse.json({ code: 1001, message: `token ${e.token} expired`, token: e.token }),
  '1002 session not found': (e) =>
    HttpResponse.json({ code: 1002, message: `no session for Bearer ${e.token}` }),
  '2001 out of credits': (e) =>
    HttpResponse.json({ code: 2001, message: `user of ${e.token} has no credits` }),
  '4001 unsupported type': (e) => HttpResponse.json({ code: 4001, data: { auth: e.token } }),
  '4002 too large': (e) => HttpResponse.json({ code: 4002, message: e.token }),
  'HTTP 400': (e) =>
    HttpResponse.json({ error: `bad request from ${e.clientId}` }, { status: 400 }),
  'HTTP 402': (e) =>
    HttpResponse.json({ message: `export blocked for ${e.token}` }, { status: 402 }),
  'HTTP 429 with Retry-After': (e) =>
    HttpResponse.json(
      { message: `slow down ${e.token}` },
      { status: 429, headers: { 'retry-after': '999999' } },
    ),
  'HTTP 500 plain text': (e) =>
    new HttpResponse(`Internal error. authorization: Bearer ${e.token}`, { status: 500 }),
  'HTTP 502 HTML': (e) =>
    new HttpResponse(`<html><body>upstream ${e.token}</body></html>`, {
      status: 502,
      headers: { 'content-type': 'text/html' },
    }),
  'HTTP 503 JSON with nested echo': (e) =>
    HttpResponse.json(
      { code: 503, message: 'down', data: { request: { headers: { authorization: e.token } } } },
      { status: 503 },
    ),
  'non-JSON 200': (e) => new HttpResponse(`ok ${e.token}`, { status: 200 }),
  'invalid data shape': (e) =>
    HttpResponse.json({ code: 0, data: { available: `lots (${e.token})`, echo: e.token } }),
  'connection reset': () => HttpResponse.error(),
};

const SOURCES = ['option', 'function', 'env', 'anonymous'] as const;

function tokenFor(source: string): string {
  return `tok-${source}-${Math.random().toString(36).slice(2)}-9f8e7d6c5b4a`;
}

describe('no credential leaks under any fault', () => {
  for (const source of SOURCES) {
    for (const [fault, answer] of Object.entries(FAULTS)) {
      it(`${source} token, ${fault}`, async ({ onTestFinished }) => {
        const token = tokenFor(source);
        const clientId = `cid-${Math.random().toString(36).slice(2)}-secretish`;
        const anonymous = tokenFor('anon-granted');
        server.use(
          http.post(TOKEN_URL, ({ request }) => {
            expect(request.headers.get('x-client-id')).toBe(clientId);
            return ok({ token: anonymous, credits: 100, user_id: 'anon_1' });
          }),
          http.get(BALANCE, ({ request }) =>
            answer({
              token: (request.headers.get('authorization') ?? '').replace(/^Bearer /, ''),
              clientId,
            }),
          ),
        );
        if (source === 'env') {
          process.env.NEMO_TOKEN = token;
          onTestFinished(() => {
            delete process.env.NEMO_TOKEN;
          });
        }
        const { lines, logger } = captureLogs();
        const client = new NemoClient({
          clientId,
          clientIdFile: false,
          logger,
          logLevel: 'debug',
          maxRetries: 0,
          ...(source === 'option' ? { token } : {}),
          ...(source === 'function' ? { token: () => token } : {}),
        });
        const error = await client.credits.balance().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isNemoError(error)).toBe(true);
        const secrets = source === 'anonymous' ? [anonymous] : [token];
        expectNoSecret(errorTexts(error), secrets, `error (${fault})`);
        // The client id mints tokens: it stays out of the SDK's own log lines too.
        expectNoSecret(lines, [...secrets, clientId], `log lines (${fault})`);
        expectNoSecret([JSON.stringify(client), String(client)], secrets, 'the client');
      });
    }
  }

  it('a malformed anonymous-token grant does not leak the granted token', async () => {
    const anonymous = tokenFor('granted');
    server.use(
      http.post(TOKEN_URL, () =>
        HttpResponse.json({ code: 0, data: { token: anonymous, credits: { bad: true } } }),
      ),
    );
    const { lines, logger } = captureLogs();
    const client = new NemoClient({ clientIdFile: false, logger, logLevel: 'debug' });
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(isNemoError(error)).toBe(true);
    expectNoSecret(errorTexts(error), [anonymous], 'error');
    expectNoSecret(lines, [anonymous], 'log lines');
  });
});

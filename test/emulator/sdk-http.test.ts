/** The SDK's foundation against the emulator over loopback HTTP (no msw in this file). */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NemoClient } from '../../src/index.js';
import type { EmulatorServer } from '../../src/testing/index.js';
import { createEmulator } from '../../src/testing/index.js';

const emulator = createEmulator();
let http: EmulatorServer;
beforeAll(async () => {
  http = await emulator.listen({ port: 0 });
});
afterAll(() => emulator.close());

test('NemoClient: sessions, credits and token renewal over a real socket', async () => {
  const c = new NemoClient({ baseUrl: http.url, clientId: 'sdk-http', clientIdFile: false });
  const session = await c.sessions.create();
  expect(emulator.session(session.id)?.language).toBeDefined();
  expect((await c.credits.balance()).available).toBe(100);
  emulator.expireTokens();
  expect((await c.credits.balance()).total).toBe(100);
  expect(emulator.requests.filter((r) => r.path === '/api/auth/anonymous-token')).toHaveLength(2);
});

/**
 * The SDK's foundation against the emulator: tokens, sessions, credits, 1001 renewal — through
 * msw and over loopback HTTP. (Each layer's own tests run its workflow against the emulator.)
 */
import { describe, expect, test } from 'vitest';
import { NemoClient } from '../../src/index.js';
import { useEmulatorServer } from '../helpers/msw.js';

const { emulator } = useEmulatorServer();

function client(options: ConstructorParameters<typeof NemoClient>[0] = {}) {
  return new NemoClient({ clientId: 'sdk-test', clientIdFile: false, ...options });
}

describe('NemoClient against the emulator (msw)', () => {
  test('anonymous token, session, credits; the wire is what the contract says', async () => {
    const c = client();
    const session = await c.sessions.create({ language: 'en' });
    expect(session.id).toMatch(/^\d{19}$/);
    expect(await c.credits.balance()).toMatchObject({ available: 100, frozen: 0, total: 100 });
    const [tokenReq, createReq] = emulator.requests;
    expect(tokenReq?.headers['x-client-id']).toBe('sdk-test');
    expect(tokenReq?.headers.authorization).toBeUndefined();
    expect(createReq?.headers.authorization).toMatch(/^Bearer nmv_usr_/);
    for (const h of ['x-skill-source', 'x-skill-version', 'x-skill-platform']) {
      expect(createReq?.headers[h]).toBeTruthy();
    }
    expect(createReq?.body).toMatchObject({ type: 'json', value: { language: 'en' } });
  });

  test('an expired token is renewed (same client id) and the request replayed once', async () => {
    const c = client();
    await c.credits.balance();
    const before = await c.getToken();
    emulator.expireTokens();
    expect((await c.credits.balance()).available).toBe(100);
    expect(await c.getToken()).not.toBe(before);
    const paths = emulator.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(paths).toEqual([
      'POST /api/auth/anonymous-token 200',
      'GET /api/credits/balance/simple 200',
      'GET /api/credits/balance/simple 200',
      'POST /api/auth/anonymous-token 200',
      'GET /api/credits/balance/simple 200',
    ]);
  });

  test('an explicit token from issueToken() is used as is', async () => {
    const { token } = emulator.issueToken();
    const c = client({ token });
    await c.credits.balance();
    expect(emulator.requests.map((r) => r.path)).toEqual(['/api/credits/balance/simple']);
    expect(emulator.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
  });
});

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTokenStore, MemoryTokenStore } from '../../src/helpers.js';
import { AuthenticationError, ConfigError, NemoClient, RateLimitError } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const ANON = `${BASE}/api/auth/anonymous-token`;
const balance = { available: 100, frozen: 0, total: 100 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-auth-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An anonymous-token service: each grant is a new token; the balance accepts only `valid`. */
function anonymousService() {
  const state = {
    grants: 0,
    clientIds: [] as (string | null)[],
    valid: new Set<string>(),
    bearers: [] as string[],
  };
  server.use(
    http.post(ANON, ({ request }) => {
      state.grants += 1;
      state.clientIds.push(request.headers.get('x-client-id'));
      expect(request.headers.get('authorization')).toBeNull();
      const token = `nmv_usr_grant_${state.grants}_abcdef`;
      state.valid.add(token);
      return ok({
        token,
        credits: 100,
        user_id: `anon_${state.grants}`,
        expires_at: '2026-12-01T00:00:00Z',
      });
    }),
    http.get(BALANCE, ({ request }) => {
      const bearer = (request.headers.get('authorization') ?? '').replace('Bearer ', '');
      state.bearers.push(bearer);
      return state.valid.has(bearer)
        ? ok(balance)
        : HttpResponse.json({ code: 1001, message: 'token expired' });
    }),
  );
  return state;
}

describe('token sources', () => {
  it('gets an anonymous token with X-Client-Id and no bearer, then uses it', async () => {
    const svc = anonymousService();
    const client = new NemoClient({ clientId: 'client-abc', logLevel: 'off' });
    expect(client.tokenSource).toBe('anonymous');
    await expect(client.credits.balance()).resolves.toEqual(balance);
    expect(svc.grants).toBe(1);
    expect(svc.clientIds).toEqual(['client-abc']);
    expect(svc.bearers).toEqual(['nmv_usr_grant_1_abcdef']);
    expect(client.anonymousGrant).toMatchObject({ credits: 100, userId: 'anon_1' });
    expect(client.anonymousGrant?.expiresAt?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(JSON.stringify(client.anonymousGrant)).not.toContain('nmv_usr');
  });

  it('uses NEMO_TOKEN directly and never asks for an anonymous token', async ({
    onTestFinished,
  }) => {
    process.env.NEMO_TOKEN = 'nmv_usr_from_env_123456';
    onTestFinished(() => {
      delete process.env.NEMO_TOKEN;
    });
    let bearer: string | null = null;
    server.use(
      http.get(BALANCE, ({ request }) => {
        bearer = request.headers.get('authorization');
        return ok(balance);
      }),
    );
    const client = new NemoClient({ clientIdFile: false, logLevel: 'off' });
    expect(client.tokenSource).toBe('env');
    await client.credits.balance();
    expect(bearer).toBe('Bearer nmv_usr_from_env_123456');
  });

  it('prefers the token option over NEMO_TOKEN', ({ onTestFinished }) => {
    process.env.NEMO_TOKEN = 'nmv_usr_from_env_123456';
    onTestFinished(() => {
      delete process.env.NEMO_TOKEN;
    });
    expect(new NemoClient({ token: 'nmv_usr_option_1234', clientIdFile: false }).tokenSource).toBe(
      'option',
    );
    expect(() => new NemoClient({ token: '  ' })).toThrow(ConfigError);
  });

  it('raises AuthenticationError for a rejected fixed token, without asking for another', async () => {
    const svc = anonymousService();
    const client = new NemoClient({
      token: 'nmv_usr_fixed_but_dead',
      clientIdFile: false,
      logLevel: 'off',
    });
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(svc.grants).toBe(0);
    expect(svc.bearers).toHaveLength(1);
  });

  it('calls a token function again after 1001 and replays once', async () => {
    const svc = anonymousService();
    svc.valid.add('nmv_usr_fresh_000002');
    const issued = ['nmv_usr_stale_000001', 'nmv_usr_fresh_000002'];
    let calls = 0;
    const client = new NemoClient({
      token: async () => issued[calls++] ?? 'nmv_usr_none_00000',
      clientIdFile: false,
      logLevel: 'off',
    });
    await expect(client.credits.balance()).resolves.toEqual(balance);
    expect(calls).toBe(2);
    expect(svc.bearers).toEqual(['nmv_usr_stale_000001', 'nmv_usr_fresh_000002']);
    // The fresh token is cached: no third call.
    await client.credits.balance();
    expect(calls).toBe(2);
  });

  it('calls a token function once more for a 1001 storm, however the refusals interleave', async () => {
    let calls = 0;
    let answered = 0;
    let valid = 'nmv_usr_fn_token_0';
    server.use(
      http.get(BALANCE, async ({ request }) => {
        const bearer = (request.headers.get('authorization') ?? '').replace('Bearer ', '');
        // Answers arrive spread over time, so some refusals come after the refresh finished.
        await new Promise((resolve) => setTimeout(resolve, (answered++ % 4) * 10));
        return bearer === valid ? ok(balance) : HttpResponse.json({ code: 1001 });
      }),
    );
    const client = new NemoClient({
      token: async () => `nmv_usr_fn_token_${calls++}`,
      clientIdFile: false,
      logLevel: 'off',
    });
    await client.credits.balance();
    expect(calls).toBe(1);
    valid = 'nmv_usr_fn_token_1';
    await Promise.all(Array.from({ length: 20 }, () => client.credits.balance()));
    expect(calls).toBe(2);
  });

  it('makes exactly one anonymous-token request when 20 calls hit 1001 at once', async () => {
    const svc = anonymousService();
    const client = new NemoClient({ clientId: 'client-storm', logLevel: 'off' });
    await client.credits.balance();
    expect(svc.grants).toBe(1);
    svc.valid.clear(); // every token the service gave out is now expired
    const results = await Promise.all(Array.from({ length: 20 }, () => client.credits.balance()));
    expect(results).toHaveLength(20);
    expect(svc.grants).toBe(2);
    // 20 refused with the old token, 20 replayed with the new one, nothing more.
    expect(svc.bearers.slice(1).filter((b) => b === 'nmv_usr_grant_1_abcdef')).toHaveLength(20);
    expect(svc.bearers.slice(1).filter((b) => b === 'nmv_usr_grant_2_abcdef')).toHaveLength(20);
  });

  it('makes one anonymous-token request for 20 concurrent first calls', async () => {
    const svc = anonymousService();
    const client = new NemoClient({ clientId: 'client-first', logLevel: 'off' });
    await Promise.all(Array.from({ length: 20 }, () => client.credits.balance()));
    expect(svc.grants).toBe(1);
  });

  it('replays a 1001 only once: a second 1001 is raised', async () => {
    let grants = 0;
    server.use(
      http.post(ANON, () => ok({ token: `nmv_usr_always_dead_${++grants}` })),
      http.get(BALANCE, () => HttpResponse.json({ code: 1001 })),
    );
    const client = new NemoClient({ clientId: 'c', logLevel: 'off' });
    await expect(client.credits.balance()).rejects.toBeInstanceOf(AuthenticationError);
    expect(grants).toBe(2);
  });

  it('renews a token shortly before its known expiry', async () => {
    const clock = new ManualClock(Date.parse('2026-11-30T23:00:00Z'));
    const svc = anonymousService();
    const client = new NemoClient({ clientId: 'c-renew', logLevel: 'off', clock });
    await client.credits.balance();
    expect(svc.grants).toBe(1);
    await clock.advance(59 * 60_000 + 30_000); // 30 s before the 2026-12-01 expiry
    await client.credits.balance();
    expect(svc.grants).toBe(2);
    expect(svc.bearers.at(-1)).toBe('nmv_usr_grant_2_abcdef');
  });

  it('keeps the current token when early renewal is refused with 429', async () => {
    const clock = new ManualClock(Date.parse('2026-11-30T23:59:30Z'));
    let grants = 0;
    server.use(
      http.post(ANON, () => {
        grants += 1;
        if (grants > 1)
          return HttpResponse.json({ message: 'one token per client' }, { status: 429 });
        return ok({ token: 'nmv_usr_only_one_1234', expires_at: '2026-12-01T00:00:00Z' });
      }),
      http.get(BALANCE, () => ok(balance)),
    );
    const client = new NemoClient({ clientId: 'c-429', logLevel: 'off', clock });
    await client.credits.balance(); // obtains; already inside the renewal margin
    await client.credits.balance(); // renewal refused, old token still valid
    await client.credits.balance(); // no second renewal attempt
    expect(grants).toBe(2);
  });

  it('explains a 429 on the anonymous-token request instead of waiting', async () => {
    server.use(http.post(ANON, () => HttpResponse.json({}, { status: 429 })));
    const client = new NemoClient({ clientId: 'c', logLevel: 'off' });
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as Error).message).toMatch(/grants one per client id/);
    expect((error as Error).message).toMatch(/set NEMO_TOKEN/);
  });
});

describe('token store', () => {
  it('reuses a stored anonymous token across clients (one grant per client id)', async () => {
    const svc = anonymousService();
    const store = new MemoryTokenStore();
    await new NemoClient({
      clientId: 'c-store',
      tokenStore: store,
      logLevel: 'off',
    }).credits.balance();
    await new NemoClient({
      clientId: 'c-store',
      tokenStore: store,
      logLevel: 'off',
    }).credits.balance();
    expect(svc.grants).toBe(1);
  });

  it('FileTokenStore writes a 0600 file and survives a corrupt file', async () => {
    const svc = anonymousService();
    const file = join(dir, 'nested', 'tokens.json');
    await new NemoClient({
      clientId: 'c-file',
      tokenStore: new FileTokenStore(file),
      logLevel: 'off',
    }).credits.balance();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, { token: string }>;
    expect(saved[`${BASE} c-file`]?.token).toBe('nmv_usr_grant_1_abcdef');
    await new NemoClient({
      clientId: 'c-file',
      tokenStore: new FileTokenStore(file),
      logLevel: 'off',
    }).credits.balance();
    expect(svc.grants).toBe(1);
    await writeFile(file, '{not json');
    await new NemoClient({
      clientId: 'c-file',
      tokenStore: new FileTokenStore(file),
      logLevel: 'off',
    }).credits.balance();
    expect(svc.grants).toBe(2);
  });

  it('keeps tokens of different API base URLs apart', async () => {
    const svc = anonymousService();
    const store = new MemoryTokenStore();
    await store.set('https://other.example c-scope', {
      token: 'nmv_usr_other_service',
      obtainedAt: 0,
    });
    await new NemoClient({
      clientId: 'c-scope',
      tokenStore: store,
      logLevel: 'off',
    }).credits.balance();
    expect(svc.grants).toBe(1);
    expect(svc.bearers).toEqual(['nmv_usr_grant_1_abcdef']);
    expect((await store.get('https://other.example c-scope'))?.token).toBe('nmv_usr_other_service');
  });

  it('makes one grant for a 1001 storm with a FileTokenStore, and never reuses the rejected token', async () => {
    const svc = anonymousService();
    const file = join(dir, 'storm', 'tokens.json');
    const client = new NemoClient({
      clientId: 'c-fstorm',
      tokenStore: new FileTokenStore(file),
      logLevel: 'off',
    });
    await client.credits.balance();
    svc.valid.clear();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => client.credits.balance()),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(svc.grants).toBe(2);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, { token: string }>;
    expect(saved[`${BASE} c-fstorm`]?.token).toBe('nmv_usr_grant_2_abcdef');
  });

  it('FileTokenStore keeps every key under concurrent writes', async () => {
    const store = new FileTokenStore(join(dir, 'concurrent.json'));
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.set(`key-${i}`, { token: `nmv_usr_t${i}_abcdef`, obtainedAt: i }),
      ),
    );
    for (let i = 0; i < 8; i++)
      expect((await store.get(`key-${i}`))?.token).toBe(`nmv_usr_t${i}_abcdef`);
  });

  it('a failing token store does not fail requests', async () => {
    const svc = anonymousService();
    const broken = {
      get: async () => {
        throw new Error('disk on fire');
      },
      set: async () => {
        throw new Error('disk on fire');
      },
      delete: async () => {
        throw new Error('disk on fire');
      },
    };
    const client = new NemoClient({ clientId: 'c-broken', tokenStore: broken, logLevel: 'off' });
    await expect(client.credits.balance()).resolves.toEqual(balance);
    expect(svc.grants).toBe(1);
  });

  it('drops a stored token the service rejects', async () => {
    const svc = anonymousService();
    const store = new MemoryTokenStore();
    await store.set(`${BASE} c-stale`, { token: 'nmv_usr_stale_stored', obtainedAt: 0 });
    const client = new NemoClient({ clientId: 'c-stale', tokenStore: store, logLevel: 'off' });
    await client.credits.balance();
    expect(svc.grants).toBe(1);
    expect((await store.get(`${BASE} c-stale`))?.token).toBe('nmv_usr_grant_1_abcdef');
  });
});

describe('client id', () => {
  it('creates ~/.config-style client id file with 0600 in a 0700 directory and reuses it', async () => {
    const svc = anonymousService();
    const file = join(dir, 'cfg', 'nemovideo', 'client_id');
    const client = new NemoClient({ clientIdFile: file, logLevel: 'off' });
    const id = await client.getClientId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await readFile(file, 'utf8')).trim()).toBe(id);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cfg', 'nemovideo'))).mode & 0o777).toBe(0o700);
    await client.credits.balance();
    expect(svc.clientIds).toEqual([id]);
    expect(await new NemoClient({ clientIdFile: file }).getClientId()).toBe(id);
  });

  it('takes the option first, then NEMO_CLIENT_ID, then the file', async ({ onTestFinished }) => {
    const file = join(dir, 'client_id');
    await writeFile(file, 'from-file\n');
    expect(await new NemoClient({ clientIdFile: file }).getClientId()).toBe('from-file');
    process.env.NEMO_CLIENT_ID = 'from-env';
    onTestFinished(() => {
      delete process.env.NEMO_CLIENT_ID;
    });
    expect(await new NemoClient({ clientIdFile: file }).getClientId()).toBe('from-env');
    expect(
      await new NemoClient({ clientIdFile: file, clientId: 'from-option' }).getClientId(),
    ).toBe('from-option');
  });

  it('never touches the disk with clientIdFile: false', async () => {
    const file = join(dir, 'never');
    const id = await new NemoClient({ clientIdFile: false }).getClientId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(stat(file)).rejects.toThrow();
  });

  it('rejects an unusable client id with a clear error', async () => {
    expect(() => new NemoClient({ clientId: 'x'.repeat(65) })).toThrow(ConfigError);
    const file = join(dir, 'bad');
    await writeFile(file, 'has spaces in it');
    await expect(new NemoClient({ clientIdFile: file }).getClientId()).rejects.toThrow(
      /not usable/,
    );
  });
});

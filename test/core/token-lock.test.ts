/**
 * #16 (and #12.1's open end): a token store that can lock (`TokenStore.lock`)
 * makes every client and process sharing it ask for one anonymous token in all,
 * and renew a rejected one once, instead of single flight per client.
 */
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileTokenStore,
  MemoryTokenStore,
  type StoredToken,
  type TokenStore,
  type TokenStoreLock,
} from '../../src/helpers.js';
import { NemoClient } from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const ANON = `${BASE}/api/auth/anonymous-token`;
const BALANCE = `${BASE}/api/credits/balance/simple`;
const balance = { available: 100, frozen: 0, total: 100 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-token-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A token endpoint that takes a while (so concurrent first calls overlap) and a balance endpoint. */
function anonymousService() {
  const state = { grants: 0, valid: new Set<string>() };
  server.use(
    http.post(ANON, async () => {
      state.grants += 1;
      const token = `nmv_usr_grant_${state.grants}_abcdef`;
      await delay(40);
      state.valid.add(token);
      return ok({ token, credits: 100, user_id: 'anon_1', expires_at: '2026-12-01T00:00:00Z' });
    }),
    http.get(BALANCE, ({ request }) => {
      const bearer = (request.headers.get('authorization') ?? '').replace('Bearer ', '');
      return state.valid.has(bearer)
        ? ok(balance)
        : HttpResponse.json({ code: 1001, message: 'token expired' });
    }),
  );
  return state;
}

/** Clients that share nothing but the token file (as separate processes would). */
function clientsSharingFile(n: number, file: string) {
  return Array.from(
    { length: n },
    () =>
      new NemoClient({
        clientId: 'c-shared',
        tokenStore: new FileTokenStore(file),
        logLevel: 'off',
      }),
  );
}

describe('a token store that locks', () => {
  it('FileTokenStore: clients sharing the file start together with one token request', async () => {
    const svc = anonymousService();
    const file = join(dir, 'token.json');
    const clients = clientsSharingFile(4, file);
    const results = await Promise.all(clients.map((c) => c.credits.balance()));
    expect(results).toEqual(Array(4).fill(balance));
    expect(svc.grants).toBe(1);
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('FileTokenStore: a token rejected everywhere at once (1001) is renewed once', async () => {
    const svc = anonymousService();
    const clients = clientsSharingFile(3, join(dir, 'token.json'));
    await Promise.all(clients.map((c) => c.credits.balance()));
    svc.valid.clear();
    const results = await Promise.allSettled(
      clients.flatMap((c) => [c.credits.balance(), c.credits.balance()]),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(svc.grants).toBe(2);
  });

  it('FileTokenStore: takes over a lock left by a process that is gone, or past its lease', async () => {
    const svc = anonymousService();
    const file = join(dir, 'token.json');
    // A pid that cannot be running (above Linux's pid_max).
    await writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), nonce: 'dead' }),
    );
    await clientsSharingFile(1, file)[0]?.credits.balance();
    expect(svc.grants).toBe(1);

    // A lock from another host whose lease ran out (61 s old).
    const other = join(dir, 'other.json');
    await writeFile(`${other}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', nonce: 'old' }));
    const old = new Date(Date.now() - 61_000);
    await utimes(`${other}.lock`, old, old);
    await clientsSharingFile(1, other)[0]?.credits.balance();
    expect(svc.grants).toBe(2);
  });

  it('FileTokenStore: release leaves a lock that is no longer its own alone', async () => {
    const file = join(dir, 'token.json');
    const store = new FileTokenStore(file);
    const held = await store.lock('k');
    // Taken over meanwhile (as a stale lock would be) by another holder.
    await writeFile(`${file}.lock`, JSON.stringify({ pid: 1, host: 'x', nonce: 'theirs' }));
    await held.release();
    expect(JSON.parse(await readFile(`${file}.lock`, 'utf8'))).toMatchObject({ nonce: 'theirs' });
  });

  it('reads the store again once the lock is held, and asks only if nobody stored a token', async () => {
    const svc = anonymousService();
    const calls: string[] = [];
    const shared = new MemoryTokenStore();
    let queue = Promise.resolve();
    /** A store with an in-memory mutex standing in for Redis, logging what Credentials does. */
    const store = (): TokenStore => ({
      get: (key) => {
        calls.push('get');
        return shared.get(key);
      },
      set: (key, token: StoredToken) => {
        calls.push('set');
        return shared.set(key, token);
      },
      delete: (key) => shared.delete(key),
      lock: () => {
        calls.push('lock');
        let release!: () => void;
        const held = queue.then(
          (): TokenStoreLock => ({
            release: async () => {
              calls.push('release');
              release();
            },
          }),
        );
        queue = queue.then(() => new Promise<void>((r) => (release = r)));
        return held;
      },
    });
    const a = new NemoClient({ clientId: 'c-1', tokenStore: store(), logLevel: 'off' });
    const b = new NemoClient({ clientId: 'c-1', tokenStore: store(), logLevel: 'off' });
    await Promise.all([a.credits.balance(), b.credits.balance()]);
    expect(svc.grants).toBe(1);
    // Both read, both lock; the first reads again, asks and stores; the second reads the token.
    expect(calls).toEqual([
      'get',
      'get',
      'lock',
      'lock',
      'get',
      'set',
      'release',
      'get',
      'release',
    ]);
  });

  it('a lock that fails is skipped (with single flight per client), not fatal', async () => {
    const svc = anonymousService();
    const broken: TokenStore = {
      get: async () => undefined,
      set: async () => {},
      delete: async () => {},
      lock: async () => {
        throw new Error('redis is down');
      },
    };
    const client = new NemoClient({ clientId: 'c-2', tokenStore: broken, logLevel: 'off' });
    await expect(
      Promise.all([client.credits.balance(), client.credits.balance()]),
    ).resolves.toEqual([balance, balance]);
    expect(svc.grants).toBe(1);
  });
});

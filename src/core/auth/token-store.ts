import { ConfigError } from '../../errors/errors.js';
import { resolveConfigDir } from '../config-dir.js';
import { nodeFs, nodeOs, nodePath } from '../node.js';
import { sleep, systemClock } from '../timers.js';

/** An anonymous token as kept between runs. Times are epoch milliseconds. */
export interface StoredToken {
  token: string;
  /** When the token lapses, if known. */
  expiresAt?: number | undefined;
  userId?: string | undefined;
  /** Credits granted with the token. */
  credits?: number | undefined;
  obtainedAt: number;
}

/**
 * Where anonymous tokens are kept. The service grants one token per client id
 * per 7 days, so a long-lived tool should reuse it. Keys are
 * `"<API base URL> <client id>"`, so tokens of two services (production and an
 * emulator, say) never mix.
 *
 * @example
 * ```ts
 * const client = new NemoClient({ tokenStore: new FileTokenStore('/var/lib/app/nemo-token.json') });
 * ```
 */
export interface TokenStore {
  /** Where the tokens are kept, for messages (a file path, "memory", a Redis key…). Optional. */
  readonly location?: string | undefined;
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, token: StoredToken): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Optional: hold `key` exclusively, across every process that shares the store,
   * while a token is requested or renewed. Resolves once held, waiting while
   * another holder has it; a holder that dies must not keep it for ever (a lease,
   * a stale-lock check). With it, processes that start together (or meet a
   * 1001 together) make one token request in all: the others wait, then read the
   * token the first one stored. Without it, single flight is per client.
   */
  lock?(key: string): Promise<TokenStoreLock>;
}

/** A held {@link TokenStore.lock}. */
export interface TokenStoreLock {
  /** Let the next waiter in (idempotent). */
  release(): Promise<void>;
}

/**
 * Tokens that live as long as the process (the default with `clientIdFile: false`
 * and outside Node).
 */
export class MemoryTokenStore implements TokenStore {
  readonly location = 'memory (lost when the process ends)';
  readonly #tokens = new Map<string, StoredToken>();

  /** @example `await store.get(key)` */
  async get(key: string): Promise<StoredToken | undefined> {
    return this.#tokens.get(key);
  }
  /** @example `await store.set(key, { token, obtainedAt: Date.now() })` */
  async set(key: string, token: StoredToken): Promise<void> {
    this.#tokens.set(key, token);
  }
  /** @example `await store.delete(key)` */
  async delete(key: string): Promise<void> {
    this.#tokens.delete(key);
  }
}

function isStoredToken(value: unknown): value is StoredToken {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === 'string' &&
    typeof v.obtainedAt === 'number' &&
    (v.expiresAt === undefined || typeof v.expiresAt === 'number')
  );
}

/**
 * Keeps tokens in a JSON file readable only by its owner (0600, directory 0700),
 * written atomically. Node only.
 *
 * @example
 * ```ts
 * new NemoClient({ tokenStore: new FileTokenStore(`${os.homedir()}/.config/nemovideo/token.json`) });
 * ```
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  get location(): string {
    return this.path;
  }
  /** Writes run one at a time: each rewrites the whole file. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  async #readAll(): Promise<Record<string, StoredToken>> {
    const fs = await nodeFs();
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new ConfigError(
        `Could not read the token file ${this.path}: ${(error as Error).message}.`,
        {
          cause: error,
        },
      );
    }
    try {
      const parsed: unknown = JSON.parse(text);
      const out: Record<string, StoredToken> = {};
      if (parsed && typeof parsed === 'object') {
        for (const [key, value] of Object.entries(parsed))
          if (isStoredToken(value)) out[key] = value;
      }
      return out;
    } catch {
      // A corrupt cache only costs a new token; never crash on it.
      return {};
    }
  }

  async #writeAll(all: Record<string, StoredToken>): Promise<void> {
    const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
    const tmp = `${this.path}.${globalThis.crypto.randomUUID()}.tmp`;
    try {
      await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
      await fs.writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
      await fs.chmod(tmp, 0o600);
      await fs.rename(tmp, this.path);
    } catch (error) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new ConfigError(
        `Could not write the token file ${this.path}: ${(error as Error).message}. Check the folder's permissions, or use another path.`,
        { cause: error },
      );
    }
  }

  /** Run read-modify-write updates of the file one after another. */
  #update(change: (all: Record<string, StoredToken>) => boolean): Promise<void> {
    const run = this.#queue.then(async () => {
      const all = await this.#readAll();
      if (change(all)) await this.#writeAll(all);
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** @example `await new FileTokenStore(file).get(key)` */
  async get(key: string): Promise<StoredToken | undefined> {
    return (await this.#readAll())[key];
  }

  /**
   * Hold the file's lock (`<path>.lock`, created exclusively) while a token is
   * requested, so processes sharing the file (the CLI and an app, two workers
   * starting together) make one token request. A lock older than
   * `FILE_LOCK_LEASE_MS` (60 s), or whose process is gone, is taken over.
   *
   * @example `const held = await store.lock(key); try { … } finally { await held.release(); }`
   */
  async lock(_key: string): Promise<TokenStoreLock> {
    const [fs, path, os] = await Promise.all([nodeFs(), nodePath(), nodeOs()]);
    const lockPath = `${this.path}.lock`;
    const owner: LockOwner = {
      pid: globalThis.process?.pid ?? 0,
      host: os.hostname(),
      nonce: globalThis.crypto.randomUUID(),
    };
    const failed = (error: unknown) =>
      new ConfigError(
        `Could not lock the token file ${this.path} (${lockPath}): ${(error as Error).message}. Check the folder's permissions, or use another path.`,
        { cause: error },
      );
    await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 }).catch((error) => {
      throw failed(error);
    });
    for (;;) {
      try {
        await fs.writeFile(lockPath, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw failed(error);
      }
      if (await lockIsStale(lockPath, owner.host)) {
        await fs.rm(lockPath, { force: true }).catch(() => {});
        continue;
      }
      await sleep(systemClock, FILE_LOCK_POLL_MS);
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // Only our own lock: a lock taken over as stale belongs to someone else now.
        const held = await readLockOwner(lockPath);
        if (held?.nonce === owner.nonce) await fs.rm(lockPath, { force: true }).catch(() => {});
      },
    };
  }
  /** @example `await store.set(key, { token, obtainedAt: Date.now() })` */
  set(key: string, token: StoredToken): Promise<void> {
    return this.#update((all) => {
      all[key] = token;
      return true;
    });
  }
  /** @example `await store.delete(key)` */
  delete(key: string): Promise<void> {
    return this.#update((all) => {
      if (!(key in all)) return false;
      delete all[key];
      return true;
    });
  }
}

/** A {@link FileTokenStore} lock older than this is taken over (its holder hung or died). */
export const FILE_LOCK_LEASE_MS = 60_000;
/** How often a process waiting for a {@link FileTokenStore} lock looks again. */
const FILE_LOCK_POLL_MS = 25;

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const parsed: unknown = JSON.parse(await (await nodeFs()).readFile(lockPath, 'utf8'));
    const o = parsed as Partial<LockOwner> | null;
    if (o && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.nonce === 'string')
      return { pid: o.pid, host: o.host, nonce: o.nonce };
  } catch {
    // gone, or being written
  }
  return undefined;
}

/** A lock file past its lease, or left by a process of this host that no longer runs. */
async function lockIsStale(lockPath: string, host: string): Promise<boolean> {
  const fs = await nodeFs();
  let modified: number;
  try {
    modified = (await fs.stat(lockPath)).mtimeMs;
  } catch {
    return false; // gone: the next try creates it
  }
  if (Date.now() - modified > FILE_LOCK_LEASE_MS) return true;
  const owner = await readLockOwner(lockPath);
  if (!owner || owner.host !== host || owner.pid <= 0) return false;
  try {
    globalThis.process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The token file's name in the config folder (shared by the SDK and the CLI). */
export const TOKEN_FILE = 'token.json';

/**
 * The default store on Node when the client id is persisted: a {@link FileTokenStore}
 * at `<configDir>/token.json`, the file the CLI uses too, resolved on first use.
 */
export class ConfigDirTokenStore implements TokenStore {
  readonly #configDir: string | undefined;
  #store: Promise<FileTokenStore> | undefined;
  #path: string | undefined;

  constructor(configDir: string | undefined) {
    this.#configDir = configDir;
  }

  get location(): string {
    return this.#path ?? `${this.#configDir ?? '<config folder>'}/${TOKEN_FILE}`;
  }

  #file(): Promise<FileTokenStore> {
    this.#store ??= (async () => {
      const [dir, path] = await Promise.all([resolveConfigDir(this.#configDir), nodePath()]);
      this.#path = path.join(dir, TOKEN_FILE);
      return new FileTokenStore(this.#path);
    })();
    return this.#store;
  }

  async get(key: string): Promise<StoredToken | undefined> {
    return (await this.#file()).get(key);
  }
  async set(key: string, token: StoredToken): Promise<void> {
    return (await this.#file()).set(key, token);
  }
  async delete(key: string): Promise<void> {
    return (await this.#file()).delete(key);
  }
  async lock(key: string): Promise<TokenStoreLock> {
    return (await this.#file()).lock(key);
  }
}

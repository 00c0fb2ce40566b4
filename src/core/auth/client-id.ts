import { ConfigError } from '../../errors/errors.js';
import { legacyConfigDir, resolveConfigDir } from '../config-dir.js';
import { isNodeLike, readEnv } from '../env.js';
import type { LevelLogger } from '../logger.js';
import { nodeFs, nodeFsSync, nodePath } from '../node.js';

/** Longest client id the service accepts (protocol §2.1). */
const MAX_CLIENT_ID_LENGTH = 64;

/** The client id file's name in the config folder. */
export const CLIENT_ID_FILE = 'client_id';

export interface ClientIdOptions {
  clientId?: string | undefined;
  /** Where the id is kept; `false` never touches the disk. Default `<configDir>/client_id`. */
  clientIdFile?: string | false | undefined;
  /** The `configDir` option (else `NEMO_CONFIG_DIR`, else `~/.config/nemovideo`). */
  configDir?: string | undefined;
  logger: LevelLogger;
}

function validate(id: string, from: string): string {
  const trimmed = id.trim();
  // Printable ASCII only: it goes in a header (no CR, LF, NUL, spaces or other controls).
  if (trimmed.length > MAX_CLIENT_ID_LENGTH || !/^[\x21-\x7e]+$/.test(trimmed)) {
    throw new ConfigError(
      `The client id from ${from} is not usable: it must be 1 to ${MAX_CLIENT_ID_LENGTH} printable ASCII characters without spaces (a UUID is best). Fix or remove it.`,
    );
  }
  return trimmed;
}

/**
 * Resolves the stable client id sent as `X-Client-Id` on the anonymous-token
 * request: option, `NEMO_CLIENT_ID`, the file, else a new UUID written there
 * (directory 0700, file 0600). The file is never read through a symbolic link.
 */
export class ClientIdSource {
  readonly #options: ClientIdOptions;
  #pending: Promise<string> | undefined;
  #file: string | undefined;

  constructor(options: ClientIdOptions) {
    this.#options = options;
    if (options.clientId !== undefined) validate(options.clientId, 'the clientId option');
  }

  /** Where the id comes from, for messages (never the id itself). */
  describe(): string {
    if (this.#options.clientId !== undefined) return 'the clientId option';
    if (readEnv('NEMO_CLIENT_ID') !== undefined) return 'NEMO_CLIENT_ID';
    if (this.#file !== undefined) return `the file ${this.#file}`;
    return this.#options.clientIdFile === false
      ? 'memory (clientIdFile: false)'
      : 'the client id file';
  }

  /** The client id (resolved once, then cached). */
  get(): Promise<string> {
    this.#pending ??= this.#resolve().catch((error: unknown) => {
      this.#pending = undefined;
      throw error;
    });
    return this.#pending;
  }

  async #resolve(): Promise<string> {
    const { clientId, clientIdFile, configDir, logger } = this.#options;
    if (clientId !== undefined) return validate(clientId, 'the clientId option');
    const fromEnv = readEnv('NEMO_CLIENT_ID');
    if (fromEnv !== undefined) return validate(fromEnv, 'NEMO_CLIENT_ID');
    if (clientIdFile === false || !isNodeLike()) return crypto.randomUUID();
    const path = await nodePath();
    if (clientIdFile !== undefined) {
      this.#file = path.resolve(clientIdFile);
      return readOrCreateClientId(this.#file, undefined, logger);
    }
    const dir = await resolveConfigDir(configDir);
    this.#file = path.join(dir, CLIENT_ID_FILE);
    // Releases before the config folder kept the id in ~/.config/nemovideo: keep using it.
    const legacy = path.join(await legacyConfigDir(), CLIENT_ID_FILE);
    return readOrCreateClientId(this.#file, legacy === this.#file ? undefined : legacy, logger);
  }
}

type Errno = NodeJS.ErrnoException;

function fsProblem(error: unknown, file: string, doing: string): ConfigError {
  const code = (error as Errno).code;
  const reason =
    code === 'ELOOP' || code === 'EMLINK'
      ? 'it is a symbolic link, and the SDK does not follow links for this file (a link could make it send another file as the client id)'
      : error instanceof Error
        ? error.message
        : String(error);
  return new ConfigError(
    `Could not ${doing} the client id file ${file}: ${reason}. Replace it with a regular file holding a UUID (or delete it and let the SDK create one), pass clientId / set NEMO_CLIENT_ID, point configDir / NEMO_CONFIG_DIR at another folder, or pass clientIdFile: false to keep the id in memory.`,
    { cause: error },
  );
}

/** Read a client id file without following a symbolic link; `undefined` when there is none. */
async function readNoFollow(file: string): Promise<string | undefined> {
  const [fs, fsSync] = await Promise.all([nodeFs(), nodeFsSync()]);
  const { O_RDONLY, O_NOFOLLOW } = fsSync.constants;
  let handle: import('node:fs/promises').FileHandle;
  try {
    if (O_NOFOLLOW !== undefined) {
      handle = await fs.open(file, O_RDONLY | O_NOFOLLOW);
    } else {
      // No O_NOFOLLOW (Windows): refuse links by lstat first.
      const stat = await fs.lstat(file);
      if (stat.isSymbolicLink()) throw Object.assign(new Error('symbolic link'), { code: 'ELOOP' });
      handle = await fs.open(file, 'r');
    }
  } catch (error) {
    if ((error as Errno).code === 'ENOENT') {
      // A dangling link is not "no file": O_NOFOLLOW opened nothing, but lstat sees the link.
      const link = await fs.lstat(file).catch(() => undefined);
      if (link?.isSymbolicLink())
        throw fsProblem(Object.assign(error as Errno, { code: 'ELOOP' }), file, 'read');
      return undefined;
    }
    throw fsProblem(error, file, 'read');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw fsProblem(new Error('it is not a regular file'), file, 'read');
    // A client id is at most 64 characters: never read a big file whole.
    const buffer = new Uint8Array(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return new TextDecoder().decode(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

async function readOrCreateClientId(
  file: string,
  legacy: string | undefined,
  logger: LevelLogger,
): Promise<string> {
  const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
  const existing = await readNoFollow(file);
  if (existing !== undefined) return validate(existing, file);
  const old = legacy === undefined ? undefined : await readNoFollow(legacy).catch(() => undefined);
  const id = old !== undefined ? validate(old, legacy ?? file) : crypto.randomUUID();
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // `wx` (O_CREAT | O_EXCL) never follows a link; if another process created the file
    // meanwhile, keep its id instead.
    await fs.writeFile(file, `${id}\n`, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
    await fs.chmod(file, 0o600);
    logger.debug(`${old !== undefined ? 'copied' : 'created'} client id file ${file}`);
    return id;
  } catch (error) {
    if ((error as Errno).code === 'EEXIST') {
      const raced = await readNoFollow(file);
      if (raced !== undefined) return validate(raced, file);
    }
    throw fsProblem(error, file, 'create');
  }
}

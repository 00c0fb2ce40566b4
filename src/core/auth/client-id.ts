import { ConfigError } from '../../errors/errors.js';
import { isNodeLike, readEnv } from '../env.js';
import type { LevelLogger } from '../logger.js';
import { nodeFs, nodeOs, nodePath } from '../node.js';

/** Longest client id the service accepts (protocol §2.1). */
const MAX_CLIENT_ID_LENGTH = 64;

export interface ClientIdOptions {
  clientId?: string | undefined;
  /** Where the id is kept; `false` never touches the disk. Default `~/.config/nemovideo/client_id`. */
  clientIdFile?: string | false | undefined;
  logger: LevelLogger;
}

function validate(id: string, from: string): string {
  const trimmed = id.trim();
  if (trimmed === '' || trimmed.length > MAX_CLIENT_ID_LENGTH || /\s/.test(trimmed)) {
    throw new ConfigError(
      `The client id from ${from} is not usable: it must be 1 to ${MAX_CLIENT_ID_LENGTH} characters without spaces (a UUID is best). Fix or remove it.`,
    );
  }
  return trimmed;
}

/** The default client id file, `~/.config/nemovideo/client_id`. */
export async function defaultClientIdFile(): Promise<string> {
  const [os, path] = await Promise.all([nodeOs(), nodePath()]);
  return path.join(os.homedir(), '.config', 'nemovideo', 'client_id');
}

/**
 * Resolves the stable client id sent as `X-Client-Id` on the anonymous-token
 * request: option, `NEMO_CLIENT_ID`, the file, else a new UUID written there
 * (directory 0700, file 0600).
 */
export class ClientIdSource {
  readonly #options: ClientIdOptions;
  #pending: Promise<string> | undefined;

  constructor(options: ClientIdOptions) {
    this.#options = options;
    if (options.clientId !== undefined) validate(options.clientId, 'the clientId option');
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
    const { clientId, clientIdFile, logger } = this.#options;
    if (clientId !== undefined) return validate(clientId, 'the clientId option');
    const fromEnv = readEnv('NEMO_CLIENT_ID');
    if (fromEnv !== undefined) return validate(fromEnv, 'NEMO_CLIENT_ID');
    if (clientIdFile === false || !isNodeLike()) return crypto.randomUUID();
    const file = clientIdFile ?? (await defaultClientIdFile());
    return readOrCreateClientId(file, logger);
  }
}

async function readOrCreateClientId(file: string, logger: LevelLogger): Promise<string> {
  const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
  try {
    return validate(await fs.readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapFsError(error, file);
  }
  const id = crypto.randomUUID();
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // `wx`: if another process created the file meanwhile, keep its id instead.
    await fs.writeFile(file, `${id}\n`, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
    await fs.chmod(file, 0o600);
    logger.debug(`created client id file ${file}`);
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return validate(await fs.readFile(file, 'utf8'), file);
    }
    throw wrapFsError(error, file);
  }
}

function wrapFsError(error: unknown, file: string): ConfigError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ConfigError(
    `Could not read or create the client id file ${file} (${reason}). Pass clientId, set NEMO_CLIENT_ID, or pass clientIdFile: false to keep it in memory.`,
    { cause: error },
  );
}

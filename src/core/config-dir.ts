import { readEnv } from './env.js';
import { nodeOs, nodePath } from './node.js';

/**
 * The config folder (Node only): the `configDir` option, else `NEMO_CONFIG_DIR`,
 * else `~/.config/nemovideo`. It holds the client id, the token store shared by
 * the SDK and the CLI, and (later) the job journal.
 */
export async function resolveConfigDir(option: string | undefined): Promise<string> {
  const path = await nodePath();
  const chosen = option ?? readEnv('NEMO_CONFIG_DIR');
  if (chosen !== undefined) return path.resolve(chosen);
  return legacyConfigDir();
}

/** `~/.config/nemovideo`: where releases before the `configDir` option kept the client id. */
export async function legacyConfigDir(): Promise<string> {
  const [os, path] = await Promise.all([nodeOs(), nodePath()]);
  return path.join(os.homedir(), '.config', 'nemovideo');
}

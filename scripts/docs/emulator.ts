/**
 * The emulator as a reader runs it: `nemovideo emulator --port 0` from a consumer project's
 * install, a separate process on loopback. Its request log is read over its control API
 * (`GET <url>/_emulator/requests`, which does not log itself).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** One entry of the emulator's request log (the fields the checks use). */
export interface LoggedRequest {
  origin: 'api' | 'cdn';
  method: string;
  path: string;
  status?: number;
  /** Clock time (ms since the epoch) when it arrived. */
  at: number;
}

/** A running emulator process. */
export interface EmulatorProcess {
  /** API origin, `http://127.0.0.1:<port>`. */
  url: string;
  child: ChildProcess;
  /** The emulator's request log so far, oldest first. */
  requests(): Promise<LoggedRequest[]>;
  /** Stops it as a user would (Ctrl-C) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The `POST /api/auth/anonymous-token` requests of a log. */
export const tokenRequests = (log: readonly LoggedRequest[]): LoggedRequest[] =>
  log.filter((r) => r.method === 'POST' && r.path === '/api/auth/anonymous-token');

/**
 * Starts `nemovideo emulator --port 0 …args` from `consumerDir`'s node_modules/.bin (what
 * `npx nemovideo` runs); resolves once its banner names the URL.
 */
export function startEmulatorProcess(
  consumerDir: string,
  args: readonly string[] = [],
): Promise<EmulatorProcess> {
  const bin = join(consumerDir, 'node_modules', '.bin', 'nemovideo');
  const child = spawn(bin, ['emulator', '--port', '0', ...args], {
    cwd: consumerDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' },
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`nemovideo emulator exited (code ${code}) before listening:\n${output}`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      child.off('exit', onExit);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        url,
        child,
        requests: async () => {
          const response = await fetch(`${url}/_emulator/requests`);
          if (!response.ok)
            throw new Error(
              `GET /_emulator/requests: HTTP ${response.status} ${await response.text()}`,
            );
          return (await response.json()) as LoggedRequest[];
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          await exited;
        },
      });
    });
  });
}

/**
 * Starts the emulator of a consumer project's installed package as a separate process
 * (scripts/docs/emulator-host.mjs) and reads its request log over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { installEmulatorHost } from './consumer.js';

/** One entry of the emulator's request log, as the host reports it. */
export interface LoggedRequest {
  origin: 'api' | 'cdn';
  method: string;
  path: string;
  status?: number;
  at: number;
}

/** A running emulator process. */
export interface EmulatorProcess {
  /** API origin, `http://127.0.0.1:<port>`. */
  url: string;
  cdnUrl: string;
  child: ChildProcess;
  /** The emulator's request log so far. */
  requests(): Promise<LoggedRequest[]>;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** The `POST /api/auth/anonymous-token` requests of a log. */
export const tokenRequests = (log: readonly LoggedRequest[]): LoggedRequest[] =>
  log.filter((r) => r.method === 'POST' && r.path === '/api/auth/anonymous-token');

/**
 * Forks the emulator host in `consumerDir` with `createEmulator(options)`; resolves once it
 * listens on loopback.
 */
export function startEmulatorProcess(
  consumerDir: string,
  options: Record<string, unknown> = {},
): Promise<EmulatorProcess> {
  const host = installEmulatorHost(consumerDir);
  const child = fork(host, [JSON.stringify(options)], {
    execArgv: [],
    cwd: consumerDir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`the emulator exited (code ${code}) before listening:\n${output}`));
    child.once('exit', onExit);
    child.once('message', (message: { type: string; url: string; cdnUrl: string }) => {
      child.off('exit', onExit);
      resolve({
        url: message.url,
        cdnUrl: message.cdnUrl,
        child,
        requests: () =>
          new Promise((resolveLog, rejectLog) => {
            if (!child.connected) {
              rejectLog(new Error(`the emulator process has exited:\n${output}`));
              return;
            }
            child.once('message', (reply: { type: string; requests: LoggedRequest[] }) =>
              resolveLog(reply.requests),
            );
            child.send({ type: 'requests' });
          }),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

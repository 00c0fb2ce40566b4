/**
 * Shared helpers of `npm run demo` and `npm run examples`: build when needed, and run the
 * emulator (`nemovideo emulator --port 0`) as a child process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The built CLI. */
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
/** Bold text on a color terminal. */
export const bold = (text: string): string => (color ? `\u001b[1m${text}\u001b[22m` : text);
/** Green text on a color terminal. */
export const green = (text: string): string => (color ? `\u001b[32m${text}\u001b[39m` : text);
/** Red text on a color terminal. */
export const red = (text: string): string => (color ? `\u001b[31m${text}\u001b[39m` : text);

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why `dist/` must be (re)built, or `undefined` when it is up to date. */
export function buildReason(): string | undefined {
  const outputs = [BIN, join(ROOT, 'dist', 'index.js'), join(ROOT, 'dist', 'testing', 'index.js')];
  const missing = outputs.find((file) => !existsSync(file));
  if (missing) return `${missing.slice(ROOT.length + 1)} is missing`;
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  const inputs = ['src', 'package.json', 'tsup.config.ts'].map((p) => join(ROOT, p));
  const changed = inputs.find((input) => newestMtime(input) > built);
  return changed ? `${changed.slice(ROOT.length + 1)} changed since the last build` : undefined;
}

/** Runs `npm run build` when `dist/` is missing or older than the sources. */
export function ensureBuilt(): void {
  const reason = buildReason();
  if (!reason) return;
  console.log(`${bold('›')} Building (${reason}): npm run build`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (exit code ${result.status ?? result.signal}).`);
  }
}

/** A running emulator child process. */
export interface EmulatorProcess {
  /** API origin, e.g. `http://127.0.0.1:40123`. */
  url: string;
  child: ChildProcess;
  /** Stops the emulator (SIGINT) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `nemovideo emulator --port 0 …extraArgs` and resolves once it listens. */
export function startEmulator(extraArgs: readonly string[] = []): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolveStart, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolveStart({
        url,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          await exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) =>
      reject(new Error(`the emulator exited (code ${code}) before listening:\n${output}`)),
    );
  });
}

/** An environment for a child that talks to `apiUrl` with a private config dir and HOME. */
export function childEnv(apiUrl: string, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('NEMO_')) delete env[key];
  env.NEMO_API_URL = apiUrl;
  env.NEMO_CONFIG_DIR = join(home, '.config', 'nemovideo');
  env.HOME = home;
  return env;
}

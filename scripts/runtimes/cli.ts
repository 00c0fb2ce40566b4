/**
 * The `nemovideo` CLI from the packed tarball, as a user runs it after `npm install`:
 * - per Node version: `nemovideo download` then `nemovideo upload` of a file against the
 *   runner's emulator;
 * - `nemovideo emulator` from the tarball (the bundled emulator, busboy included), driven by
 *   `npx nemovideo` through the download workflow, then stopped with Ctrl-C (SIGINT).
 * Each check throws with what went wrong; the runner turns that into a failed row.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ExecResult, exec } from './exec.js';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const STEP_TIMEOUT_MS = 120_000;

type Run = ExecResult;

/** Runs a command to its end (killed after two minutes); never rejects on a non-zero exit. */
function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return exec(bin, args, cwd, env, STEP_TIMEOUT_MS);
}

function expectOk(what: string, result: Run): Run {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited ${result.code}: ${result.stderr.trim().split('\n').slice(-4).join(' | ')}`,
    );
  }
  return result;
}

function expectMp4(file: string, bytes?: number): number {
  if (!existsSync(file)) throw new Error(`${file} was not written`);
  const size = statSync(file).size;
  if (bytes !== undefined && size !== bytes)
    throw new Error(`${file}: ${size} bytes, expected ${bytes}`);
  if (readFileSync(file).subarray(4, 8).toString('latin1') !== 'ftyp') {
    throw new Error(`${file} is not an MP4`);
  }
  return size;
}

/** A private HOME and config folder; NEMO_* from the developer's shell never leak in. */
function cliEnv(home: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: '' };
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('NEMO_')) env[key] = value;
  }
  return { ...env, HOME: home, NEMO_CONFIG_DIR: join(home, '.config', 'nemovideo'), ...extra };
}

/**
 * `node <bin> download` and `node <bin> upload <sid> <file>` under `nodeBin`, against the
 * runner's emulator. Resolves with a one-line summary.
 */
export async function runCliWorkflow(options: {
  consumer: string;
  nodeBin: string;
  apiUrl: string;
  home: string;
  out: string;
  clip: string;
  resultBytes: number;
}): Promise<string> {
  mkdirSync(options.home, { recursive: true });
  const bin = join(options.consumer, 'node_modules/nemovideo/dist/cli/bin.js');
  const env = cliEnv(options.home, { NEMO_API_URL: options.apiUrl });
  const download = expectOk(
    'nemovideo download',
    await run(
      options.nodeBin,
      [bin, 'download', VIDEO, '-o', options.out, '--json'],
      options.consumer,
      env,
    ),
  );
  const saved = JSON.parse(download.stdout) as { sessionId: string; bytes: number };
  expectMp4(options.out, options.resultBytes);
  const upload = expectOk(
    'nemovideo upload',
    await run(
      options.nodeBin,
      [bin, 'upload', saved.sessionId, options.clip, '--json'],
      options.consumer,
      env,
    ),
  );
  const files = (JSON.parse(upload.stdout) as { files: Array<{ fileType: string }> }).files;
  if (files.length !== 1) throw new Error(`upload reported ${files.length} files`);
  return `download ${saved.bytes} bytes, upload ${files[0]?.fileType}`;
}

/**
 * `nemovideo emulator` from the tarball, used by `npx nemovideo` as the docs show, then
 * stopped with SIGINT (exit 0). Resolves with a one-line summary.
 */
export async function runCliEmulator(options: { consumer: string; home: string }): Promise<string> {
  const { consumer, home } = options;
  mkdirSync(home, { recursive: true });
  const env = cliEnv(home, {});
  const npx = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run('npx', ['--no', '--', 'nemovideo', ...args], consumer, { ...env, ...extra });

  const version = expectOk('npx nemovideo --version', await npx(['--version'])).stdout.trim();
  const help = expectOk('npx nemovideo --help', await npx(['--help'])).stdout;
  if (!help.startsWith('Usage: nemovideo')) throw new Error(`--help printed: ${help.slice(0, 80)}`);

  const emulator = spawn(
    join(consumer, 'node_modules/.bin/nemovideo'),
    ['emulator', '--port', '0'],
    {
      cwd: consumer,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => emulator.on('close', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`no URL from the emulator: ${out}`)),
        STEP_TIMEOUT_MS,
      );
      emulator.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      emulator.on('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`the emulator exited ${code} before listening: ${out}`));
      });
    });
    const out = join(home, 'from-cli-emulator.mp4');
    expectOk(
      'npx nemovideo download',
      await npx(['download', VIDEO, '-o', out], { NEMO_API_URL: url }),
    );
    const size = expectMp4(out);
    emulator.kill('SIGINT');
    const code = await exited;
    if (code !== 0) throw new Error(`the emulator exited ${code} on SIGINT`);
    return `nemovideo ${version}: emulator served a ${size}-byte MP4, stopped cleanly`;
  } finally {
    if (emulator.exitCode === null) emulator.kill('SIGKILL');
  }
}

/**
 * A throwaway consumer project, as a user of the npm package has it: `npm pack` of this
 * repository (which must be built), installed into a fresh folder with the few packages the
 * docs import. Used by `npm run docs:check` and the newcomer journey (test/journey/).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The absolute URL prefix of files in the repository (package.json `repository`). */
export const REPO_URL = 'https://github.com/nemovideo/nemovideo';

/** A consumer project with the packed package installed. */
export interface Consumer {
  /** The project folder (package.json, node_modules). */
  dir: string;
  /** The folder holding the project and the tarball; removed by `dispose()`. */
  work: string;
  /** The packed tarball. */
  tarball: string;
  /** Whether node_modules was copied from an earlier install of the same tarball. */
  reused: boolean;
  /** Removes everything (unless `keep`). */
  dispose(): void;
}

/** The exact version of a dev dependency installed in this repository (so the install is cached). */
export function installedVersion(name: string): string {
  const pkg = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

/** The packages every consumer project gets beside the tarball (one install serves all users). */
export const CONSUMER_PACKAGES = ['msw', 'vitest', 'tsx', '@types/node'] as const;

/** Where installs are kept for reuse: one per tarball content (older ones are removed). */
const CACHE = join(ROOT, 'node_modules', '.cache', 'nemovideo-consumer');

/**
 * Packs the repository and installs the tarball, plus {@link CONSUMER_PACKAGES} (the versions
 * installed in this repository), into a new consumer project. Prefers the local npm cache: the
 * registry is only asked for what it lacks. The installed node_modules is kept, keyed by the
 * tarball's content, so the next project with the same tarball gets a copy instead of an
 * install (`NEMO_CONSUMER_CACHE=0` turns that off).
 */
export async function createConsumer(
  options: {
    keep?: boolean;
    label?: string;
    /** Fields of the project's package.json beside name/version/private (e.g. `type`). */
    manifest?: Record<string, unknown>;
  } = {},
): Promise<Consumer> {
  const work = mkdtempSync(join(tmpdir(), `nemovideo-${options.label ?? 'consumer'}-`));
  const dir = join(work, 'project');
  mkdirSync(dir);
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--silent', '--pack-destination', work],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  const packed = JSON.parse(stdout) as { filename: string }[];
  const tarball = join(work, (packed[0] as { filename: string }).filename);
  const extra = CONSUMER_PACKAGES.map((name) => `${name}@${installedVersion(name)}`);
  const key = createHash('sha256')
    .update(readFileSync(tarball))
    .update(JSON.stringify(extra))
    .digest('hex')
    .slice(0, 16);
  const cached = join(CACHE, key);
  const useCache = process.env.NEMO_CONSUMER_CACHE !== '0';
  let reused = false;
  if (useCache && existsSync(join(cached, 'node_modules'))) {
    cpSync(cached, dir, { recursive: true, verbatimSymlinks: true });
    reused = true;
  } else {
    writeFileSync(join(dir, 'package.json'), '{ "name": "my-app", "version": "1.0.0" }\n');
    try {
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          '--ignore-scripts',
          tarball,
          ...extra,
        ],
        { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      );
    } catch (error) {
      if (!options.keep) rmSync(work, { recursive: true, force: true });
      const { stderr } = error as { stderr?: string };
      throw new Error(`npm install of the packed package failed:\n${stderr ?? String(error)}`);
    }
    if (useCache) {
      rmSync(CACHE, { recursive: true, force: true });
      const staging = `${cached}.${process.pid}`;
      mkdirSync(staging, { recursive: true });
      for (const entry of ['node_modules', 'package.json', 'package-lock.json'])
        cpSync(join(dir, entry), join(staging, entry), { recursive: true, verbatimSymlinks: true });
      renameSync(staging, cached);
    }
  }
  // The project's manifest as npm wrote it, plus the caller's fields.
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as object;
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, ...manifest, ...options.manifest }, null, 2)}\n`,
  );
  return {
    dir,
    work,
    tarball,
    reused,
    dispose: () => {
      if (!options.keep) rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * The environment of a reader's shell: ours without NEMO_* / XDG_* (and without what a test
 * runner sets: VITEST*, NODE_ENV, NODE_OPTIONS), plus NEMO_API_URL when given, and a fresh HOME.
 */
export function readerEnv(apiUrl: string | undefined, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(NEMO_|XDG_|VITEST|NODE_OPTIONS$|NODE_ENV$)/.test(key)) env[key] = value;
  if (apiUrl !== undefined) env.NEMO_API_URL = apiUrl;
  env.HOME = home;
  env.USERPROFILE = home;
  env.NO_COLOR = '1';
  return env;
}

/** How a command ended. */
export interface CommandResult {
  /** Exit code; `null` when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (never rejects on a failure): its code and output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Whether a file is an MP4 (an ISO-BMFF `ftyp` box first), and its size. */
export function mp4Size(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  return bytes.length >= 16 && bytes.subarray(4, 8).toString('latin1') === 'ftyp'
    ? bytes.length
    : undefined;
}

/**
 * The newcomer's first ten minutes, as they would type them (`npm run test:journey`, in CI).
 *
 * A consumer project installs the packed tarball; the emulator runs as a separate process on
 * loopback (`nemovideo emulator --port 0` from that install; its log read over its control
 * API); every step runs in one fresh HOME, with nothing of ours in
 * the environment but NEMO_API_URL (as the emulator's banner suggests):
 *
 * 1. the README quick start, exactly as written (the block marked `id=quickstart`), saved as
 *    `quickstart.mts` and run with `npx tsx quickstart.mts`, as the README says;
 * 2. `npx nemovideo download <link> -o out.mp4`;
 * 3. the quick start again;
 * 4. the docs/testing.md recipe (its blocks marked `file=…`), copied verbatim into the project,
 *    `npx vitest run` with vitest's defaults, without NEMO_API_URL;
 * 5. the same with NEMO_API_URL exported.
 *
 * The emulator's log then shows one anonymous-token request in all: the token the quick
 * start got is the one the CLI and the second quick start use. Builds first when dist/ is stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Consumer,
  createConsumer,
  mp4Size,
  ROOT,
  readerEnv,
  runCommand,
} from '../../scripts/docs/consumer.js';
import {
  type EmulatorProcess,
  type LoggedRequest,
  startEmulatorProcess,
  tokenRequests,
} from '../../scripts/docs/emulator.js';
import { type CodeBlock, extractBlocks } from '../../scripts/docs/markdown.js';
import { ensureBuilt } from '../../scripts/lib.js';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const STEP_TIMEOUT_MS = 90_000;

let consumer: Consumer;
let emulator: EmulatorProcess;
let home: string;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const testingDoc = readFileSync(join(ROOT, 'docs', 'testing.md'), 'utf8');

function blocksOf(doc: string, text: string): CodeBlock[] {
  const { blocks, problems } = extractBlocks(doc, text);
  if (problems.length > 0)
    throw new Error(problems.map((p) => `${p.doc}:${p.line}: ${p.message}`).join('\n'));
  return blocks;
}

/** The README quick start, verbatim: the newcomer saves it as `quickstart.mts`, as the README says. */
function quickstartSource(): string {
  const block = blocksOf('README.md', readme).find((b) => b.marker.id === 'quickstart');
  if (!block) throw new Error('README.md has no block marked <!-- docs: id=quickstart -->');
  expect(readme).toContain('npx tsx quickstart.mts');
  return block.code;
}

const shell = (apiUrl: string | undefined) => readerEnv(apiUrl, home);
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`.trim();

/** Anonymous-token requests so far, and the rest of the log since `from`. */
async function log(from = 0): Promise<{ tokens: number; since: LoggedRequest[]; all: number }> {
  const requests = await emulator.requests();
  return {
    tokens: tokenRequests(requests).length,
    since: requests.slice(from),
    all: requests.length,
  };
}

/** Runs the quick start in the project and checks what it says and leaves. */
async function runQuickstart(): Promise<void> {
  const before = (await log()).all;
  const result = await runCommand('npx', ['tsx', 'quickstart.mts'], {
    cwd: consumer.dir,
    env: shell(emulator.url),
    timeoutMs: STEP_TIMEOUT_MS,
  });
  expect(result.code, output(result)).toBe(0);
  const saved = /^saved (.+video\.mp4) \((\d+) bytes\)$/m.exec(result.stdout);
  expect(saved, result.stdout).not.toBeNull();
  expect(mp4Size(join(consumer.dir, 'video.mp4'))).toBe(Number(saved?.[2]));

  // Render polling starts fast: the first poll comes about a second after the start, not
  // after the full 30 s cadence (issue #12, item 3). 10 s leaves room for a loaded machine.
  const { since } = await log(before);
  const start = since.find((r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda');
  const firstPoll = since.find(
    (r) => r.method === 'GET' && /^\/api\/render\/proxy\/lambda\/[^/]+$/.test(r.path),
  );
  expect(start, 'no render start in the log').toBeDefined();
  expect(firstPoll, 'no render poll in the log').toBeDefined();
  expect((firstPoll?.at ?? 0) - (start?.at ?? 0)).toBeLessThan(10_000);
}

/** The docs/testing.md recipe's files, written verbatim into the project. */
function writeRecipe(): string[] {
  const files = blocksOf('docs/testing.md', testingDoc).filter((b) => b.marker.file);
  if (files.length === 0)
    throw new Error(
      'docs/testing.md has no recipe: mark the files of its vitest recipe with <!-- docs: file=<path> -->',
    );
  for (const block of files) {
    const target = join(consumer.dir, block.marker.file as string);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, block.code);
  }
  return files.map((b) => b.code);
}

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** `npx vitest run` in the project, with vitest's defaults; every test must pass. */
async function runRecipe(apiUrl: string | undefined): Promise<void> {
  const sources = writeRecipe();
  // The recipe covers the whole workflow: a chat turn and an export (issue #12, item 4).
  expect(
    sources.some((s) => /\.(send|chat)\(/.test(s)),
    'no chat in the recipe',
  ).toBe(true);
  expect(
    sources.some((s) => /\.export\(/.test(s)),
    'no export in the recipe',
  ).toBe(true);

  const before = (await log()).all;
  const reportFile = join(consumer.work, `vitest-${apiUrl ? 'with' : 'without'}-api-url.json`);
  const result = await runCommand(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${reportFile}`],
    { cwd: consumer.dir, env: shell(apiUrl), timeoutMs: STEP_TIMEOUT_MS },
  );
  expect(result.code, output(result)).toBe(0);
  expect(existsSync(reportFile), output(result)).toBe(true);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport;
  const tests = report.testResults.flatMap((f) => f.assertionResults);
  expect(tests.length, output(result)).toBeGreaterThanOrEqual(2);
  expect(
    tests.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.status}`),
  ).toEqual([]);
  // The recipe's tests are self-contained: nothing reaches the emulator of the shell's
  // NEMO_API_URL (a test suite must not depend on, or write to, a server that happens to run).
  expect((await log(before)).since).toEqual([]);
}

describe('a newcomer, in one fresh HOME', () => {
  beforeAll(async () => {
    ensureBuilt(); // npm run build when dist/ is missing or older than the sources
    consumer = await createConsumer({
      // The package, and what the README and docs/testing.md have a newcomer install (tsx,
      // vitest, msw), in a project like `npm init -y` makes (no "type": CommonJS by default).
      label: 'journey',
      keep: process.env.NEMO_JOURNEY_KEEP === '1',
    });
    home = join(consumer.work, 'home');
    mkdirSync(home);
    // `npx nemovideo emulator --port 0`, with 1000 credits: each run below edits a session
    // (about 50 credits, as on the service), and a new anonymous user has 100 (two runs).
    emulator = await startEmulatorProcess(consumer.dir, ['--initial-credits', '1000']);
    writeFileSync(join(consumer.dir, 'quickstart.mts'), quickstartSource());
  }, 180_000);

  afterAll(async () => {
    await emulator?.stop();
    consumer?.dispose();
  });

  it('runs the README quick start as written', runQuickstart, STEP_TIMEOUT_MS);

  it(
    'runs `nemovideo download <link> -o out.mp4` from the same install',
    async () => {
      const result = await runCommand('npx', ['nemovideo', 'download', VIDEO, '-o', 'out.mp4'], {
        cwd: consumer.dir,
        env: shell(emulator.url),
        timeoutMs: STEP_TIMEOUT_MS,
      });
      expect(result.code, output(result)).toBe(0);
      expect(mp4Size(join(consumer.dir, 'out.mp4'))).toBeGreaterThan(0);
    },
    STEP_TIMEOUT_MS,
  );

  it('runs the quick start again', runQuickstart, STEP_TIMEOUT_MS);

  it(
    'runs the docs/testing.md recipe with vitest defaults, without NEMO_API_URL',
    () => runRecipe(undefined),
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the same recipe with NEMO_API_URL exported',
    () => runRecipe(emulator.url),
    STEP_TIMEOUT_MS,
  );

  it('asked for one anonymous token in all', async () => {
    const requests = await emulator.requests();
    expect(requests.length).toBeGreaterThan(0);
    expect(tokenRequests(requests).map((r) => r.status)).toEqual([200]);
  });
});

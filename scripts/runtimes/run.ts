/**
 * `npm run test:runtimes`: the packed tarball, installed into a throwaway
 * consumer project, running the reference workflow against the emulator over
 * loopback in every runtime we support:
 *
 * - Node 20 (this one), 22, 24 and 26 (npm `node` packages): ESM and CJS consumers, and
 *   the CLI (`nemovideo download`, `nemovideo upload`);
 * - Bun and Deno (npm `bun` / `deno` packages): the ESM consumer;
 * - headless Chromium: the SDK bundled by esbuild in a page served on localhost;
 * - `nemovideo/testing` from the tarball (ESM with msw and over loopback, CJS), a file
 *   upload included (the bundled multipart parser);
 * - `nemovideo emulator` from the tarball, driven by `npx nemovideo download`;
 * - TypeScript consumers: moduleResolution node16 (.mts and .cts), bundler, node10;
 * - `npx -y nemovideo mcp` driven by the official MCP client (scripts/runtimes/mcp.ts).
 *
 * Every row that runs the workflow is checked from outside: the exit status,
 * its `RUNTIME_RESULT` line, the downloaded MP4 (exact size, `ftyp`), the
 * client id file (0600) and the emulator's log (one `/run_sse` POST).
 *
 * Options: `--only a,b` (row ids), `--keep` (keep the temp folder).
 * Env: `NEMO_RUNTIMES_CACHE` (runtime cache), `NEMO_CHROMIUM` (browser path).
 * Needs a build (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulator } from '../../src/testing/index.js';
import { runInChromium } from './browser.js';
import { runCliEmulator, runCliWorkflow } from './cli.js';
import { exec } from './exec.js';
import { runMcpWorkflow } from './mcp.js';
import { ensureRuntime, type Runtime } from './runtimes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONSUMER_SRC = join(ROOT, 'test/runtimes/consumer');
const RESULT_BYTES = 1024 * 1024 + 123;
const ROW_TIMEOUT_MS = 120_000;

interface Row {
  id: string;
  label: string;
  status: 'pass' | 'fail' | 'skip';
  version: string;
  ms: number;
  detail: string;
}

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const only = argValue('--only')?.split(',');
const keep = process.argv.includes('--keep');
const wanted = (id: string) => !only || only.some((o) => id === o || id.startsWith(`${o}-`));

/** Run a command with this process's environment (no NODE_OPTIONS); never rejects on a non-zero exit. */
function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return exec(
    bin,
    args,
    cwd,
    { ...process.env, NODE_OPTIONS: '', DENO_NO_UPDATE_CHECK: '1', ...env },
    ROW_TIMEOUT_MS,
  );
}

function resultLine(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('RUNTIME_RESULT '));
  return line
    ? (JSON.parse(line.slice('RUNTIME_RESULT '.length)) as Record<string, unknown>)
    : undefined;
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/index.js'))) {
    console.error('dist/ is missing: run `npm run build` first.');
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'nemo-runtimes-'));
  const rows: Row[] = [];
  const emulator = createEmulator({
    resultSizeBytes: RESULT_BYTES,
    renderDurationMs: 150,
    heartbeatMs: 0,
  });
  const server = await emulator.listen({ port: 0 });
  try {
    // 1. Pack, and install the tarball into a consumer project.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string }[];
    const tarball = join(work, (packed[0] as { filename: string }).filename);
    const consumer = join(work, 'consumer');
    execFileSync('mkdir', ['-p', consumer]);
    for (const file of readdirSync(CONSUMER_SRC)) {
      copyFileSync(join(CONSUMER_SRC, file), join(consumer, file.replace(/\.txt$/, '')));
    }
    const repoPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    writeFileSync(
      join(consumer, 'package.json'),
      `${JSON.stringify({ name: 'nemovideo-consumer', private: true, type: 'module' }, null, 2)}\n`,
    );
    console.error(`installing ${tarball} into ${consumer}…`);
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        tarball,
        `msw@${repoPkg.devDependencies.msw}`,
        `@types/node@${repoPkg.devDependencies['@types/node']}`,
      ],
      { cwd: consumer, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
    );
    const clip = join(work, 'clip.mp4');
    writeFileSync(
      clip,
      Buffer.concat([Buffer.from('00000018667479706d703432', 'hex'), Buffer.alloc(4096)]),
    );

    /** Run the reference workflow in a runtime and check it from outside. */
    const workflowRow = async (
      id: string,
      label: string,
      runtime: Runtime,
      file: string,
      pre: string[] = [],
    ) => {
      if (!wanted(id)) return;
      const out = join(work, `${id}.mp4`);
      const clientIdFile = join(work, 'ids', id, 'client_id');
      const before = emulator.requests.length;
      const started = performance.now();
      const { code, stdout, stderr } = await run(
        runtime.bin,
        [...pre, file, server.url, out, clip, clientIdFile, id],
        consumer,
      );
      const ms = performance.now() - started;
      const result = resultLine(stdout);
      const problems: string[] = [];
      if (code !== 0) problems.push(`exit ${code}`);
      if (!result) problems.push(`no RUNTIME_RESULT line; stderr: ${tail(stderr)}`);
      else if (result.ok !== true)
        problems.push(`${result.error}${result.stack ? `\n${result.stack}` : ''}`);
      if (result?.ok === true) {
        const size = existsSync(out) ? statSync(out).size : -1;
        if (size !== RESULT_BYTES)
          problems.push(`downloaded ${size} bytes, expected ${RESULT_BYTES}`);
        else if (readFileSync(out).subarray(4, 8).toString('latin1') !== 'ftyp')
          problems.push('not an MP4');
        const mode = existsSync(clientIdFile) ? statSync(clientIdFile).mode & 0o777 : -1;
        if (mode !== 0o600) problems.push(`client id file mode ${mode.toString(8)}, expected 600`);
        const posts = emulator.requests
          .slice(before)
          .filter((r) => r.method === 'POST' && r.path === '/run_sse').length;
        if (posts !== 1) problems.push(`${posts} /run_sse POSTs, expected 1`);
      }
      rows.push({
        id,
        label,
        status: problems.length === 0 ? 'pass' : 'fail',
        version: runtime.version,
        ms,
        detail:
          problems.join('; ') ||
          `${result?.bytes} bytes; ${String(result?.summary ?? '').slice(0, 60)}`,
      });
    };
    const fail = (id: string, label: string, error: unknown) =>
      rows.push({
        id,
        label,
        status: 'fail',
        version: '',
        ms: 0,
        detail: error instanceof Error ? error.message : String(error),
      });

    // 2. Node 20 (this process's), 22, 24, 26: ESM, CJS and the CLI.
    const node20: Runtime = { name: 'node20', bin: process.execPath, version: process.version };
    const nodes: Runtime[] = [node20];
    for (const name of ['node22', 'node24', 'node26']) {
      if (!wanted(name)) continue;
      try {
        nodes.push(ensureRuntime(name));
      } catch (error) {
        fail(name, `Node ${name.slice(4)}`, error);
      }
    }
    for (const runtime of nodes) {
      const major = runtime.name.slice(4);
      await workflowRow(
        `${runtime.name}-esm`,
        `Node ${major}, ESM consumer`,
        runtime,
        'workflow.mjs',
      );
      await workflowRow(
        `${runtime.name}-cjs`,
        `Node ${major}, CJS consumer`,
        runtime,
        'workflow.cjs',
      );
      const cliId = `${runtime.name}-cli`;
      if (wanted(cliId)) {
        const started = performance.now();
        let detail: string;
        let status: Row['status'] = 'pass';
        try {
          detail = await runCliWorkflow({
            consumer,
            nodeBin: runtime.bin,
            apiUrl: server.url,
            home: join(work, 'homes', cliId),
            out: join(work, `${cliId}.mp4`),
            clip,
            resultBytes: RESULT_BYTES,
          });
        } catch (error) {
          status = 'fail';
          detail = tail(String(error), 6);
        }
        rows.push({
          id: cliId,
          label: `Node ${major}, CLI (download, upload)`,
          status,
          version: runtime.version,
          ms: performance.now() - started,
          detail,
        });
      }
    }

    // 3. Bun and Deno.
    if (wanted('bun')) {
      try {
        await workflowRow('bun', 'Bun, ESM consumer', ensureRuntime('bun'), 'workflow.mjs');
      } catch (error) {
        fail('bun', 'Bun', error);
      }
    }
    if (wanted('deno')) {
      try {
        await workflowRow('deno', 'Deno, ESM consumer', ensureRuntime('deno'), 'workflow.mjs', [
          'run',
          '--allow-all',
          '--quiet',
        ]);
      } catch (error) {
        fail('deno', 'Deno', error);
      }
    }

    // 4. nemovideo/testing from the tarball.
    for (const [id, file, label] of [
      ['testing-esm', 'testing.mjs', 'nemovideo/testing, ESM (msw + listen)'],
      ['testing-cjs', 'testing.cjs', 'nemovideo/testing, CJS (listen)'],
    ] as const) {
      if (!wanted(id)) continue;
      const started = performance.now();
      const { code, stdout, stderr } = await run(process.execPath, [file], consumer);
      const result = resultLine(stdout);
      rows.push({
        id,
        label,
        status: code === 0 && result?.ok === true ? 'pass' : 'fail',
        version: process.version,
        ms: performance.now() - started,
        detail: result ? JSON.stringify(result).slice(0, 120) : `exit ${code}: ${tail(stderr)}`,
      });
    }

    // 4b. `nemovideo emulator` from the tarball, used through `npx nemovideo`.
    if (wanted('cli')) {
      const started = performance.now();
      let detail: string;
      let status: Row['status'] = 'pass';
      try {
        detail = await runCliEmulator({ consumer, home: join(work, 'homes', 'cli-emulator') });
      } catch (error) {
        status = 'fail';
        detail = tail(String(error), 6);
      }
      rows.push({
        id: 'cli',
        label: 'nemovideo emulator + npx nemovideo download, from the tarball',
        status,
        version: process.version,
        ms: performance.now() - started,
        detail,
      });
    }

    // 4c. `npx -y nemovideo mcp` from the tarball, driven by the official MCP client.
    if (wanted('mcp')) {
      const started = performance.now();
      let detail: string;
      let status: Row['status'] = 'pass';
      try {
        detail = await runMcpWorkflow({
          consumer,
          apiUrl: server.url,
          emulator,
          home: work,
          resultBytes: RESULT_BYTES,
        });
      } catch (error) {
        status = 'fail';
        detail = tail(String(error), 6);
      }
      rows.push({
        id: 'mcp',
        label: 'MCP server from the tarball (npx -y nemovideo mcp, reference workflow)',
        status,
        version: process.version,
        ms: performance.now() - started,
        detail,
      });
    }

    // 5. TypeScript consumers.
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const tsVersion = execFileSync(process.execPath, [tsc, '--version'], {
      encoding: 'utf8',
    }).trim();
    for (const [id, config, label] of [
      ['ts-node16', 'tsconfig.node16.json', 'TypeScript, moduleResolution node16 (.mts + .cts)'],
      [
        'ts-node16-testing-cjs',
        'tsconfig.node16-testing-cjs.json',
        'TypeScript, node16, nemovideo/testing from .cts',
      ],
      [
        'ts-bundler',
        'tsconfig.bundler.json',
        'TypeScript, moduleResolution bundler (no @types/node)',
      ],
      ['ts-node10', 'tsconfig.node10.json', 'TypeScript, moduleResolution node10 (CJS)'],
    ] as const) {
      if (!wanted(id)) continue;
      const started = performance.now();
      const { code, stdout, stderr } = await run(process.execPath, [tsc, '-p', config], consumer);
      rows.push({
        id,
        label,
        status: code === 0 ? 'pass' : 'fail',
        version: tsVersion,
        ms: performance.now() - started,
        detail:
          code === 0
            ? `tsc --noEmit clean (skipLibCheck ${config.includes('testing-cjs') ? 'true: msw CJS types' : 'false'})`
            : tail(`${stdout}${stderr}`, 12),
      });
    }

    // 6. Headless Chromium.
    if (wanted('chromium')) {
      const started = performance.now();
      const before = emulator.requests.length;
      try {
        const outcome = await runInChromium(consumer, server.url);
        const posts = emulator.requests
          .slice(before)
          .filter((r) => r.method === 'POST' && r.path === '/run_sse').length;
        const bytes = outcome.result?.bytes;
        const problems = [
          ...(outcome.ok ? [] : [`${outcome.result?.error ?? 'failed'}`]),
          ...(outcome.ok && bytes !== RESULT_BYTES
            ? [`${bytes} bytes, expected ${RESULT_BYTES}`]
            : []),
          ...(outcome.ok && posts !== 1 ? [`${posts} /run_sse POSTs`] : []),
        ];
        rows.push({
          id: 'chromium',
          label: `Chromium (headless, esbuild bundle ${outcome.bundleKB} KB)`,
          status: problems.length === 0 ? 'pass' : 'fail',
          version: outcome.version,
          ms: performance.now() - started,
          detail:
            problems.join('; ') +
              (problems.length > 0 && outcome.console.length > 0
                ? `; console: ${outcome.console.slice(-5).join(' | ')}`
                : '') ||
            `${bytes} bytes in memory; ${String(outcome.result?.summary ?? '').slice(0, 50)}`,
        });
      } catch (error) {
        fail('chromium', 'Chromium (headless)', error);
      }
    }
  } finally {
    await server.close();
    await emulator.close();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
  }

  // Report.
  const width = Math.max(...rows.map((r) => r.label.length));
  console.log('\nruntime matrix (packed tarball → consumer project → emulator over loopback)\n');
  for (const r of rows) {
    const mark = r.status === 'pass' ? 'PASS' : r.status === 'skip' ? 'SKIP' : 'FAIL';
    console.log(
      `${mark}  ${r.label.padEnd(width)}  ${r.version.padEnd(22)} ${(r.ms / 1000).toFixed(1).padStart(5)} s  ${r.detail.split('\n')[0]}`,
    );
    if (r.status === 'fail' && r.detail.includes('\n')) {
      console.log(r.detail.replace(/^/gm, '        '));
    }
  }
  const passed = rows.filter((r) => r.status === 'pass').length;
  const failed = rows.filter((r) => r.status === 'fail').length;
  console.log(`\n${passed} passed, ${failed} failed`);
  if (failed > 0 || rows.length === 0) process.exitCode = 1;
}

await main();

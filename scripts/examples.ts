/**
 * `npm run examples`: runs every example in examples/ against the emulator (started here on a
 * free port), each with its own temporary HOME / config dir, checks the MP4s they write, then
 * runs the example consumer test (`vitest run --config examples/vitest.config.ts`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMp4 } from '../src/cli/mp4.js';
import { createEmulator } from '../src/testing/index.js';
import { bold, childEnv, ensureBuilt, green, ROOT, red } from './lib.js';

interface Example {
  name: string;
  /** MP4 files the example must leave, relative to the repository root. */
  outputs: string[];
  /** Text its output must contain. */
  expect: RegExp;
}

const EXAMPLES: Example[] = [
  {
    name: 'quickstart',
    outputs: ['demo-output/quickstart.mp4'],
    expect: /^saved .+quickstart\.mp4/m,
  },
  { name: 'chat-stream', outputs: [], expect: /tool calls, silent: (true|false)/ },
  {
    name: 'batch',
    outputs: ['demo-output/batch-1.mp4', 'demo-output/batch-2.mp4', 'demo-output/batch-3.mp4'],
    expect: /✓ .+batch-3\.mp4/,
  },
  {
    name: 'iterative-edit',
    outputs: ['demo-output/iterative-edit.mp4'],
    expect: /since the rough cut: /,
  },
  { name: 'credits', outputs: [], expect: /credits available/ },
];

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('close', (code, signal) => resolveRun({ code: code ?? (signal ? 130 : 1), output }));
  });
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

async function main(): Promise<number> {
  ensureBuilt();
  // Enough credits for every example (a new anonymous user gets 100; a session edit costs 50).
  const emulator = createEmulator({ initialCredits: 1_000 });
  const server = await emulator.listen({ port: 0 });
  console.log(`${bold('›')} Emulator listening on ${server.url}\n`);
  mkdirSync(join(ROOT, 'demo-output'), { recursive: true });
  const failures: string[] = [];
  try {
    for (const example of EXAMPLES) {
      const home = mkdtempSync(join(tmpdir(), `nemovideo-example-${example.name}-`));
      for (const output of example.outputs) rmSync(join(ROOT, output), { force: true });
      const started = Date.now();
      const file = `examples/${example.name}.ts`;
      const { code, output } = await run(
        process.execPath,
        ['--import', 'tsx', file],
        childEnv(server.url, home),
      );
      rmSync(home, { recursive: true, force: true });
      const problems: string[] = [];
      if (code !== 0) problems.push(`exit code ${code}`);
      if (!example.expect.test(output)) problems.push(`output does not match ${example.expect}`);
      for (const mp4 of example.outputs) {
        const probe = await probeMp4(join(ROOT, mp4)).catch((error: unknown) => ({
          valid: false,
          problem: String(error),
        }));
        if (!probe.valid) problems.push(`${mp4}: ${probe.problem}`);
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (problems.length === 0) {
        console.log(`${green('✓')} ${bold(file)} (${seconds} s)`);
      } else {
        console.log(`${red('✗')} ${bold(file)} (${seconds} s): ${problems.join('; ')}`);
        failures.push(file);
      }
      console.log(`${indent(output)}\n`);
    }
  } finally {
    await server.close();
  }

  console.log(`${bold('›')} vitest run --config examples/vitest.config.ts`);
  const vitest = await run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      'examples/vitest.config.ts',
    ],
    process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : { ...process.env, NO_COLOR: '1' },
  );
  console.log(indent(vitest.output));
  if (vitest.code !== 0) failures.push('examples/consumer-test.test.ts');

  if (failures.length > 0) {
    console.log(`\n${red('✗')} ${failures.length} example(s) failed: ${failures.join(', ')}`);
    return 1;
  }
  console.log(`\n${green('✓')} all ${EXAMPLES.length} examples and the consumer test passed`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      red(`examples failed: ${error instanceof Error ? error.message : String(error)}`),
    );
    process.exitCode = 1;
  },
);

/**
 * `npm run docs:check`: what a reader copies from README.md and docs/*.md works.
 *
 * 1. Links: every relative link of docs/*.md resolves to a file of the repository (and its
 *    #anchor to a heading); the README (also the npm page) links only with absolute URLs;
 *    absolute links into github.com/nemovideo/nemovideo/blob/main/… resolve too. No doc names
 *    a file users do not have (the wire contract, its § numbers) or a repository path that
 *    does not exist.
 * 2. Types: `npm pack`, install the tarball into a fresh consumer project (with msw, vitest and
 *    @types/node), write every TypeScript block there as a file and compile them all in one
 *    strict program, as a user's `tsc` would see the package.
 * 3. Runs: blocks marked `<!-- docs: run -->` are run (node, compiled output) against the
 *    emulator of the installed package, in a separate process on loopback, each in a fresh
 *    HOME, with NEMO_API_URL pointed at it; their output is checked (`expect-*`).
 * 4. The CLI's `--help`, from the installed package, points at the docs with absolute URLs.
 *
 * Every run also checks canaries (a block that must not compile, a run that must fail its
 * checks, a broken link): if one passes, the checker itself is broken.
 *
 * Marker syntax: scripts/docs/markdown.ts. Builds first when dist/ is missing or stale.
 * Options: --keep (keep the consumer project), --root <dir> (check the docs of another checkout
 * of the repository, e.g. a temp copy), --no-run (types and links only).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import {
  type BlockProgram,
  blockOutputs,
  blockPrograms,
  checkConfiguration,
  checkErrorNames,
  checkLinks,
  checkReferences,
  type DocFile,
  envVarsIn,
  mapLine,
  type RepoView,
  repeatedSentences,
} from './docs/check.js';
import {
  CONSUMER_PACKAGES,
  type Consumer,
  createConsumer,
  mp4Size,
  REPO_URL,
  ROOT,
  readerEnv,
  runCommand,
} from './docs/consumer.js';
import { startEmulatorProcess } from './docs/emulator.js';
import type { CodeBlock, DocProblem } from './docs/markdown.js';
import type { PackageExport } from './docs/preamble.js';
import { ensureBuilt } from './lib.js';

const execFileAsync = promisify(execFile);
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const repoRoot = resolve(option('--root') ?? ROOT);
const RUN_TIMEOUT_MS = 120_000;

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const began = performance.now();
const section = (title: string) =>
  console.log(`\n${paint(1, `› ${title}`)} (${((performance.now() - began) / 1000).toFixed(1)} s)`);

function loadDocs(): DocFile[] {
  const docs = [{ path: 'README.md', text: readFileSync(join(repoRoot, 'README.md'), 'utf8') }];
  for (const name of readdirSync(join(repoRoot, 'docs')).sort()) {
    if (name.endsWith('.md'))
      docs.push({ path: `docs/${name}`, text: readFileSync(join(repoRoot, 'docs', name), 'utf8') });
  }
  return docs;
}

const repo: RepoView = {
  exists: (path) => path === '' || existsSync(join(repoRoot, path)),
  read: (path) => {
    const file = join(repoRoot, path);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  },
};

// ── canaries: each must be caught, or the checker is broken ────────────────────────────────

const CANARY_DOC = 'docs/__canary__.md';
const CANARY_MD = `# Canary

<!-- docs: run expect-file=video.mp4 expect-once expect-stdout="^never printed$" -->
\`\`\`ts
const answer: number = 'forty-two';
process.exitCode = 3;
console.log('The agent says hello to you. The agent says hello to you.');
await import('node:fs').then((fs) => fs.writeFileSync('video.mp4', 'not an mp4'));
\`\`\`

A [broken link](./no-such-page.md) and a [broken anchor](#no-such-heading), and a \`NoSuchThingError\`.
`;

// ── type check ─────────────────────────────────────────────────────────────────────────────

const COMPILER_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2023', 'DOM', 'DOM.Iterable'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  moduleDetection: 'force',
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  outDir: 'docs-out',
  rootDir: 'docs-blocks',
};

interface Compiled {
  problems: DocProblem[];
  /** Compiled output file of each block program, by file name. */
  outputs: Map<string, string>;
}

function compile(dir: string, programs: readonly BlockProgram[], oldProgram: ts.Program): Compiled {
  const blocksDir = join(dir, 'docs-blocks');
  for (const program of programs) {
    const file = join(blocksDir, program.fileName);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, program.text);
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: COMPILER_OPTIONS, include: ['docs-blocks'] }, null, 2)}\n`,
  );
  const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('cannot read the consumer tsconfig.json');
  const program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    oldProgram, // the exports probe: lib and package types are parsed once
  });
  const byFile = new Map(programs.map((p) => [resolve(blocksDir, p.fileName), p]));
  const problems: DocProblem[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const source = diagnostic.file;
    const owner = source ? byFile.get(resolve(source.fileName)) : undefined;
    if (!source || !owner || diagnostic.start === undefined) {
      problems.push({ doc: '(compiler)', line: 0, message: `TS${diagnostic.code}: ${message}` });
      continue;
    }
    const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start);
    const at = mapLine(owner, line);
    if (at)
      problems.push({ ...at, message: `TS${diagnostic.code} (col ${character + 1}): ${message}` });
  }
  const outputs = new Map<string, string>();
  for (const p of programs) {
    const source = program.getSourceFile(resolve(blocksDir, p.fileName));
    if (!source || !p.block.marker.run) continue;
    program.emit(source, (fileName, text) => {
      if (!fileName.endsWith('.js')) return;
      mkdirSync(join(fileName, '..'), { recursive: true });
      writeFileSync(fileName, text);
      outputs.set(p.fileName, fileName);
    });
  }
  return { problems, outputs };
}

/**
 * The public names of the installed package, by entry point (from its package.json `exports`),
 * for the imports a fragment leaves out.
 */
function packageExports(dir: string): {
  exports: Map<string, PackageExport>;
  /** The properties of `NemoClientOptions`. */
  clientOptions: string[];
  program: ts.Program;
} {
  const pkgDir = join(dir, 'node_modules', 'nemovideo');
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const modules = Object.keys(pkg.exports)
    .filter((key) => !key.endsWith('.json'))
    .map((key) => (key === '.' ? 'nemovideo' : `nemovideo/${key.slice(2)}`));
  const probe = join(dir, 'exports-probe.ts');
  writeFileSync(probe, modules.map((m, i) => `import * as m${i} from '${m}';\n`).join(''));
  const options = ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, dir).options;
  const program = ts.createProgram({ rootNames: [probe], options });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(probe);
  const exports = new Map<string, PackageExport>();
  let clientOptions: string[] = [];
  source?.statements.forEach((statement, index) => {
    if (!ts.isImportDeclaration(statement)) return;
    const symbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (!symbol) throw new Error(`cannot resolve ${modules[index]} in the consumer project`);
    for (const item of checker.getExportsOfModule(symbol)) {
      if (exports.has(item.name)) continue; // the root entry wins
      const target = item.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(item) : item;
      if (item.name === 'NemoClientOptions')
        clientOptions = checker
          .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target))
          .map((p) => p.name);
      exports.set(item.name, {
        module: modules[index] as string,
        type: (target.flags & ts.SymbolFlags.Value) === 0,
      });
    }
  });
  if (clientOptions.length === 0) throw new Error('the package exports no NemoClientOptions');
  return { exports, clientOptions, program };
}

/** Source files of the SDK and the CLI (not the emulator): where environment variables are read. */
function sourceText(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) text += entry.name === 'testing' ? '' : sourceText(path);
    else if (entry.name.endsWith('.ts')) text += readFileSync(path, 'utf8');
  }
  return text;
}

// ── runs ───────────────────────────────────────────────────────────────────────────────────

/** What a block's `expect-*` markers find wrong with its output and its working folder. */
function judgeOutput(block: CodeBlock, output: string, cwd: string): string[] {
  const problems: string[] = [];
  const { marker } = block;
  if (marker.expectStdout !== undefined && !new RegExp(marker.expectStdout, 'm').test(output))
    problems.push(`its output does not match /${marker.expectStdout}/`);
  if (marker.expectOnce) {
    const { sentences, repeated } = repeatedSentences(output);
    if (sentences === 0) problems.push('it printed no reply text (expect-once)');
    for (const sentence of repeated) problems.push(`it printed "${sentence}" more than once`);
  }
  if (marker.expectFile !== undefined) {
    const file = isAbsolute(marker.expectFile) ? marker.expectFile : join(cwd, marker.expectFile);
    if (!existsSync(file)) problems.push(`it left no ${marker.expectFile}`);
    else if (mp4Size(file) === undefined)
      problems.push(`${marker.expectFile} is not an MP4 (no ftyp box)`);
  }
  return problems;
}

/**
 * Runs the runnable blocks. A block that another runnable block continues (`after=`) is run as
 * the first part of that program and judged on its part of the output, not run twice.
 */
async function runBlocks(
  consumer: Consumer,
  programs: readonly BlockProgram[],
  outputs: Map<string, string>,
): Promise<{ problems: DocProblem[]; canaryCaught: number }> {
  const problems: DocProblem[] = [];
  let canaryCaught = 0;
  const runs = programs.filter((p) => p.block.marker.run);
  const continued = new Set(runs.flatMap((p) => p.segments.slice(0, -1).map((s) => s.block)));
  const emulator = await startEmulatorProcess(consumer.dir);
  try {
    console.log(`  emulator (separate process) on ${emulator.url}`);
    await Promise.all(
      runs
        .filter((p) => !continued.has(p.block))
        .map(async (program, index) => {
          const output = outputs.get(program.fileName);
          if (!output) {
            problems.push({ ...location(program.block), message: 'not run: it did not compile' });
            return;
          }
          const home = join(consumer.work, `run-${index}`);
          const cwd = join(home, 'app');
          mkdirSync(cwd, { recursive: true });
          const result = await runCommand(process.execPath, [output], {
            cwd,
            env: readerEnv(emulator.url, home),
            timeoutMs: RUN_TIMEOUT_MS,
          });
          const parts = blockOutputs(result.stdout);
          const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15);
          const seconds = (result.ms / 1000).toFixed(1);
          program.segments.forEach(({ block }, i) => {
            if (!block.marker.run) return;
            const found =
              i < parts.length ? judgeOutput(block, parts[i] as string, cwd) : ['not reached'];
            if (i === parts.length - 1 && result.code !== 0)
              found.unshift(`exit code ${result.code}`);
            if (block.doc === CANARY_DOC) {
              canaryCaught = found.length;
              return;
            }
            const label = `${block.doc}:${block.line}`;
            if (found.length === 0) {
              console.log(`  ${paint(32, '✓')} ran ${label} (${seconds} s)`);
              return;
            }
            console.log(`  ${paint(31, '✗')} ran ${label} (${seconds} s)`);
            problems.push({
              ...location(block),
              message: `run: ${found.join('; ')}\n      output:\n      ${tail.join('\n      ')}`,
            });
          });
        }),
    );
  } finally {
    await emulator.stop();
  }
  return { problems, canaryCaught };
}

const location = (block: CodeBlock) => ({ doc: block.doc, line: block.line });

// ── CLI help ─────────────────────────────────────────────────────────────────────────────

async function checkCliHelp(consumer: Consumer): Promise<DocProblem[]> {
  const bin = join(consumer.dir, 'node_modules', 'nemovideo', 'dist', 'cli', 'bin.js');
  const { stdout } = await execFileAsync(process.execPath, [bin, '--help'], {
    cwd: consumer.dir,
    env: readerEnv(undefined, consumer.work),
  });
  const problems: DocProblem[] = [];
  const at = { doc: 'nemovideo --help', line: 0 };
  const urls = [...stdout.matchAll(/https:\/\/\S+/g)].map((m) => m[0].replace(/[.,)]+$/, ''));
  const docs = urls.filter((u) => u.startsWith(`${REPO_URL}/blob/main/docs/`));
  if (docs.length === 0)
    problems.push({ ...at, message: `names no absolute docs URL (${REPO_URL}/blob/main/docs/…)` });
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!last.includes(`${REPO_URL}/`))
    problems.push({ ...at, message: `does not end with the docs URL (last line: "${last}")` });
  for (const url of docs) {
    const path = url.slice(`${REPO_URL}/blob/main/`.length).split('#')[0] as string;
    if (!repo.exists(path)) problems.push({ ...at, message: `${url}: ${path} does not exist` });
  }
  const withoutUrls = urls.reduce((text, url) => text.replaceAll(url, ''), stdout);
  for (const m of withoutUrls.matchAll(/\b(?:docs|examples)\/[\w.-]+/g))
    problems.push({ ...at, message: `names ${m[0]} without an absolute URL` });
  return problems;
}

// ── the TypeScript floor the README states ───────────────────────────────────────────────────

/**
 * The README says "TypeScript X.Y or later": install that TypeScript beside the consumer and
 * compile a file importing every entry point of the package with `skipLibCheck: false`, so the
 * package's types (and the zod types they use) are checked with the oldest version promised.
 */
async function checkTypeScriptFloor(
  consumer: Consumer,
  readme: DocFile,
): Promise<{ passed?: string; problems: DocProblem[] }> {
  const stated = /TypeScript (\d+\.\d+) or later/.exec(readme.text)?.[1];
  const at = { doc: readme.path, line: 0 };
  if (!stated) return { problems: [{ ...at, message: 'states no "TypeScript X.Y or later"' }] };
  const tsDir = join(consumer.work, 'typescript-floor');
  mkdirSync(tsDir);
  writeFileSync(join(tsDir, 'package.json'), '{ "name": "typescript-floor", "private": true }\n');
  const install = await runCommand(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      `typescript@~${stated}.0`,
    ],
    { cwd: tsDir, env: process.env, timeoutMs: 300_000 },
  );
  if (install.code !== 0) {
    const message = `cannot install TypeScript ${stated}: ${install.stderr.trim()}`;
    return { problems: [{ ...at, message }] };
  }
  const pkg = JSON.parse(
    readFileSync(join(consumer.dir, 'node_modules', 'nemovideo', 'package.json'), 'utf8'),
  ) as { exports: Record<string, unknown> };
  const entries = Object.keys(pkg.exports)
    .filter((key) => !key.endsWith('.json'))
    .map((key) => (key === '.' ? 'nemovideo' : `nemovideo/${key.slice(2)}`));
  writeFileSync(
    join(consumer.dir, 'typescript-floor.ts'),
    `${entries.map((e, i) => `import * as e${i} from '${e}';`).join('\n')}\nconsole.log(${entries.map((_, i) => `e${i}`).join(', ')});\n`,
  );
  const config = {
    compilerOptions: { ...COMPILER_OPTIONS, skipLibCheck: false, noEmit: true, rootDir: '.' },
    files: ['typescript-floor.ts'],
  };
  writeFileSync(join(consumer.dir, 'tsconfig.floor.json'), JSON.stringify(config, null, 2));
  const tsc = join(tsDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const versionRun = await runCommand(process.execPath, [tsc, '--version'], {
    cwd: consumer.dir,
    env: process.env,
    timeoutMs: 60_000,
  });
  const version = versionRun.stdout.trim().replace(/^Version /, 'TypeScript ');
  const result = await runCommand(process.execPath, [tsc, '-p', 'tsconfig.floor.json'], {
    cwd: consumer.dir,
    env: process.env,
    timeoutMs: 300_000,
  });
  if (result.code === 0)
    return { passed: `${version}: every entry point's types compile`, problems: [] };
  const errors = result.stdout.trim().split('\n').slice(0, 10).join('\n      ');
  return {
    problems: [
      {
        ...at,
        message: `says TypeScript ${stated} or later, but ${version} rejects the package's types:\n      ${errors}`,
      },
    ],
  };
}

// ── main ───────────────────────────────────────────────────────────────────────────────────

function report(problems: readonly DocProblem[]): void {
  for (const p of problems)
    console.log(`  ${paint(31, '✗')} ${p.doc}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`);
}

async function main(): Promise<number> {
  const started = performance.now();
  const docs = loadDocs();
  const problems: DocProblem[] = [];
  const broken: string[] = []; // canaries that were not caught

  section(`links and file references in ${docs.length} files`);
  const staticProblems = docs.flatMap((doc) => [
    ...checkLinks(doc, repo),
    ...checkReferences(doc, repo),
  ]);
  report(staticProblems);
  problems.push(...staticProblems);
  const canaryLinks = checkLinks({ path: CANARY_DOC, text: CANARY_MD }, repo);
  if (canaryLinks.length !== 2) broken.push(`link canary: ${canaryLinks.length} of 2 caught`);
  if (staticProblems.length === 0) console.log(`  ${paint(32, '✓')} all links resolve`);

  ensureBuilt(); // the docs are checked against what the sources build to now
  section(`consumer project: npm pack + npm install (${CONSUMER_PACKAGES.join(', ')})`);
  const consumer = await createConsumer({
    manifest: { type: 'module' }, // blocks use top-level await: ES modules
    keep: flag('--keep'),
    label: 'docs',
  });
  try {
    console.log(
      `  ${consumer.dir}${consumer.reused ? ' (node_modules reused from the same tarball)' : ''}`,
    );

    const { exports, clientOptions, program: probe } = packageExports(consumer.dir);
    const canary = { path: CANARY_DOC, text: CANARY_MD };
    section('names: error classes in the docs, client options and environment variables');
    const names = [
      ...docs.flatMap((doc) => checkErrorNames(doc, new Set(exports.keys()))),
      ...checkConfiguration(
        docs[0] as DocFile,
        clientOptions,
        envVarsIn(sourceText(join(repoRoot, 'src'))),
      ),
    ];
    report(names);
    problems.push(...names);
    const canaryNames = checkErrorNames(canary, new Set(exports.keys())).length;
    if (canaryNames !== 1) broken.push(`error-name canary: ${canaryNames} of 1 caught`);
    if (names.length === 0)
      console.log(`  ${paint(32, '✓')} ${clientOptions.length} options, every name exported`);

    const {
      programs,
      skipped,
      problems: blockProblems,
    } = blockPrograms([...docs, canary], exports);
    report(blockProblems);
    problems.push(...blockProblems);
    for (const block of skipped)
      console.log(`  · not compiled: ${block.doc}:${block.line} (${block.marker.noCheck})`);

    const real = programs.filter((p) => p.block.doc !== CANARY_DOC);
    section(`type check: ${real.length} TypeScript blocks, one strict program`);
    const compiled = compile(consumer.dir, programs, probe);
    const canaryTypes = compiled.problems.filter((p) => p.doc === CANARY_DOC);
    if (canaryTypes.length !== 1)
      broken.push(`type canary: ${canaryTypes.length} errors reported, expected exactly 1`);
    const typeProblems = compiled.problems.filter((p) => p.doc !== CANARY_DOC);
    report(typeProblems);
    problems.push(...typeProblems);
    if (typeProblems.length === 0) console.log(`  ${paint(32, '✓')} every block compiles`);

    // Started now, awaited after the runs: it mostly waits for npm and tsc, the runs for renders.
    const floor = checkTypeScriptFloor(consumer, docs[0] as DocFile).catch(
      (error: unknown): { passed?: string; problems: DocProblem[] } => ({
        problems: [{ doc: 'README.md', line: 0, message: `TypeScript floor: ${String(error)}` }],
      }),
    );

    if (!flag('--no-run')) {
      const runs = programs.filter((p) => p.block.marker.run && p.block.doc !== CANARY_DOC);
      section(`runs: ${runs.length} blocks against the emulator`);
      // The canary compiles with an error, so emit it regardless: its run must still be judged.
      const ran = await runBlocks(consumer, programs, compiled.outputs);
      if (ran.canaryCaught !== 4)
        broken.push(`run canary: ${ran.canaryCaught} of 4 problems caught`);
      report(ran.problems);
      problems.push(...ran.problems);
    }

    section('TypeScript floor (README: requirements)');
    const { passed, problems: floorProblems } = await floor;
    if (passed) console.log(`  ${paint(32, '✓')} ${passed}`);
    report(floorProblems);
    problems.push(...floorProblems);

    section('nemovideo --help');
    const help = await checkCliHelp(consumer);
    report(help);
    problems.push(...help);
    if (help.length === 0) console.log(`  ${paint(32, '✓')} ends with the absolute docs URL`);
  } finally {
    consumer.dispose();
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (broken.length > 0) {
    console.log(`\n${paint(31, '✗ the docs checker is broken:')} ${broken.join('; ')}`);
    return 1;
  }
  if (problems.length > 0) {
    console.log(`\n${paint(31, `✗ ${problems.length} problem(s) in the docs`)} (${seconds} s)`);
    return 1;
  }
  console.log(`\n${paint(32, '✓ the docs check passed')} (${seconds} s)`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(paint(31, `docs check failed: ${error instanceof Error ? error.stack : error}`));
    process.exitCode = 1;
  },
);

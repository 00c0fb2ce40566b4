/**
 * `npm run check:package`: is the tarball we would publish right?
 *
 * 1. `npm pack --dry-run --json`: the file list. Everything package.json
 *    points at is there; no tests, sources, benchmarks, scripts, env files,
 *    keys or tarballs; no media file (the emulator embeds its MP4 in
 *    dist/testing, and only there); no credential-looking literal in any file.
 * 2. Dependencies: the package depends on ky, eventsource-parser and zod, and
 *    nothing else (what only the CLI or the emulator uses is bundled into their
 *    chunks); every package a file of dist/ imports is one of those, an optional
 *    peer (msw) or a Node built-in; no ESM file carries esbuild's
 *    "Dynamic require" shim (a bundled CommonJS require that throws in ESM).
 * 3. publint (strict: warnings fail).
 * 4. @arethetypeswrong/cli `--pack`: types resolve for node10, node16 (CJS and
 *    ESM) and bundlers, for every entry point.
 *
 * Needs a build (`npm run build`); pass `--build` to build first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const problems: string[] = [];
const fail = (message: string) => problems.push(message);

interface PackedFile {
  path: string;
  size: number;
  mode: number;
}
interface PackResult {
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}

/** Paths forbidden in the tarball, with the reason. */
const FORBIDDEN: [RegExp, string][] = [
  [/^(test|tests|__tests__)\//, 'tests'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'a test file'],
  [/^src\//, 'TypeScript sources (dist has the maps)'],
  [/^(bench|scripts|examples|\.ci|coverage|\.tmp|node_modules|demo-output)\//, 'a dev folder'],
  [/(^|\/)\.env(\.|$)/, 'an env file'],
  [/(^|\/)\.npmrc$/, 'an .npmrc (may hold a registry token)'],
  [/\.(pem|key|p12|pfx|crt)$/, 'a key or certificate'],
  [/(^|\/)id_(rsa|ed25519|ecdsa)/, 'an SSH key'],
  [/\.tgz$/, 'a tarball'],
  [/\.log$/, 'a log file'],
  [/(^|\/)\.git(\/|ignore$|attributes$)/, 'git metadata'],
  [/\.(mp4|mov|m4v|webm|mkv|avi|mp3|wav|m4a|aac)$/i, 'a media file (the emulator embeds its MP4)'],
];

/** Credential-looking literals (real token shapes, keys). */
const SECRETS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, 'a GitHub token'],
  [/\bnpm_[A-Za-z0-9]{36}\b/, 'an npm token'],
  [/\bnmv_[a-z]+_[A-Za-z0-9]{16,}\b/, 'a NemoVideo token'],
  [/\bBearer [A-Za-z0-9._-]{20,}/, 'a bearer token'],
];

/** First bytes of the emulator's embedded MP4 (base64 of `....ftypisom`). */
const EMBEDDED_MP4 = 'AAAAIGZ0eXBpc29t';

function pack(): PackResult {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const parsed = JSON.parse(out.slice(out.indexOf('['))) as PackResult[];
  const first = parsed[0];
  if (!first) throw new Error('npm pack --dry-run --json printed no package');
  return first;
}

/** Every file path package.json points at (main, module, types, bin, exports, typesVersions). */
function referencedFiles(pkg: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) out.add(value.slice(2));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const key of ['main', 'module', 'types', 'bin', 'exports', 'typesVersions']) {
    const v = pkg[key];
    walk(typeof v === 'string' && !v.startsWith('./') ? `./${v}` : v);
  }
  return [...out];
}

function checkFileList(result: PackResult, pkg: Record<string, unknown>): void {
  const paths = new Set(result.files.map((f) => f.path));
  for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!paths.has(required)) fail(`${required} is missing from the tarball`);
  }
  for (const ref of referencedFiles(pkg)) {
    if (!paths.has(ref)) fail(`package.json points at ${ref}, which is not in the tarball`);
  }
  for (const file of result.files) {
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(file.path)) fail(`${file.path} is ${what}: it must not be published`);
    }
  }
  const embedding = new Map<string, string[]>();
  for (const file of result.files) {
    if (!/\.(c?js|mjs|d\.c?ts|json|md|map)$/.test(file.path) && file.path !== 'LICENSE') continue;
    const text = readFileSync(`${ROOT}${file.path}`, 'utf8');
    for (const [pattern, what] of SECRETS) {
      const m = pattern.exec(text);
      if (m) fail(`${file.path} contains what looks like ${what}: "${m[0].slice(0, 24)}…"`);
    }
    if (text.includes(EMBEDDED_MP4) && !file.path.endsWith('.map')) {
      const format = file.path.endsWith('.cjs') ? 'cjs' : 'esm';
      embedding.set(format, [...(embedding.get(format) ?? []), file.path]);
      if (/^dist\/index\.c?js$/.test(file.path)) {
        fail(`${file.path} (the main entry) embeds the emulator's MP4: only nemovideo/testing may`);
      }
    }
  }
  // One copy per module format: a second one is the whole emulator bundled twice.
  for (const [format, files] of embedding) {
    if (files.length > 1) {
      fail(
        `${files.length} ${format} files embed the emulator's MP4 (${files.join(', ')}): bundle the emulator once (import it from 'nemovideo/testing' as an external, or share a chunk)`,
      );
    }
  }
  for (const [entry, format] of [
    ['dist/testing/index.js', 'esm'],
    ['dist/testing/index.cjs', 'cjs'],
  ] as const) {
    if (paths.has(entry) && !embedding.has(format)) {
      fail(`no ${format} file embeds the result MP4 that ${entry} (the emulator) serves`);
    }
  }
  const bin = pkg.bin;
  for (const target of typeof bin === 'string' ? [bin] : Object.values(bin ?? {})) {
    const path = String(target).replace(/^\.\//, '');
    if (
      paths.has(path) &&
      !readFileSync(`${ROOT}${path}`, 'utf8').startsWith('#!/usr/bin/env node')
    ) {
      fail(`${path} (bin) does not start with "#!/usr/bin/env node"`);
    }
  }
}

/** The SDK's runtime dependencies: these and no others (DEVELOPERS.md, issue #14). */
const RUNTIME_DEPENDENCIES = ['eventsource-parser', 'ky', 'zod'];

/** ES module imports: `import … from 'x'`, `import 'x'`, `export … from 'x'`, `import('x')`. */
const IMPORTED =
  /(?:^|\n)\s*(?:import|export)\s*(?:[\w*{}\s,$]*?\sfrom\s*)?["']([^"'.][^"']*)["']|\bimport\(\s*["']([^"'.][^"']*)["']\s*\)/g;
/** CommonJS requires, looked for in .cjs files only (an ES module has no `require`). */
const REQUIRED = /\brequire\(\s*["']([^"'.][^"']*)["']\s*\)/g;

/** `zod/mini` → `zod`, `@scope/pkg/x` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function distFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return distFiles(path);
    return /\.(c?js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

function checkDependencies(pkg: Record<string, unknown>): void {
  const deps = Object.keys((pkg.dependencies as Record<string, string> | undefined) ?? {}).sort();
  if (deps.join() !== RUNTIME_DEPENDENCIES.join()) {
    fail(
      `dependencies are ${deps.join(', ') || 'none'}; they must be exactly ${RUNTIME_DEPENDENCIES.join(', ')} (bundle what only the CLI or the emulator needs: tsup.config.ts, BUNDLED)`,
    );
  }
  const peers = Object.keys((pkg.peerDependencies as Record<string, string> | undefined) ?? {});
  const meta = (pkg.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>;
  for (const peer of peers) {
    if (meta[peer]?.optional !== true) fail(`peer dependency ${peer} must be optional`);
  }
  const allowed = new Set([...RUNTIME_DEPENDENCIES, ...peers]);
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const seen = new Map<string, Set<string>>();
  for (const file of distFiles(join(ROOT, 'dist'))) {
    const text = readFileSync(file, 'utf8');
    const where = relative(ROOT, file);
    const matches = [...text.matchAll(IMPORTED)];
    if (file.endsWith('.cjs')) matches.push(...text.matchAll(REQUIRED));
    for (const match of matches) {
      const specifier = match[1] ?? match[2] ?? '';
      if (builtins.has(specifier) || builtins.has(specifier.split('/')[0] ?? '')) continue;
      const name = packageName(specifier);
      if (!allowed.has(name)) seen.set(name, (seen.get(name) ?? new Set()).add(where));
    }
    if (/\.m?js$/.test(file) && text.includes('Dynamic require of')) {
      fail(
        `${where} carries esbuild's dynamic-require shim: a bundled CommonJS require that throws in ESM (see builtinRequiresAsImports in tsup.config.ts)`,
      );
    }
  }
  for (const [name, files] of seen) {
    fail(
      `${[...files].slice(0, 3).join(', ')} import${files.size === 1 ? 's' : ''} "${name}", which is not a dependency: a user's install would not have it (bundle it, or make it a dependency)`,
    );
  }
  console.log(
    `dependencies: ${deps.join(', ')}; optional peers: ${peers.join(', ') || 'none'}; dist imports nothing else`,
  );
}

async function checkPublint(): Promise<void> {
  const { messages, pkg } = await publint({ pkgDir: ROOT, strict: true, pack: 'npm' });
  for (const message of messages) {
    const text = formatMessage(message, pkg) ?? message.code;
    const line = `publint ${message.type}: ${text}`;
    if (message.type === 'suggestion') console.log(`  ${line}`);
    else fail(line);
  }
}

function checkAttw(): void {
  const bin = `${ROOT}node_modules/.bin/attw`;
  const child = spawnSync(bin, ['--pack', '.', '--format', 'ascii'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const output = `${child.stdout}${child.stderr}`.trim();
  if (child.status !== 0) {
    fail(`@arethetypeswrong/cli found problems:\n${output}`);
  } else {
    console.log(
      output
        .split('\n')
        .filter((l) => /problems|🌟/i.test(l))
        .join('\n') || '  attw: ok',
    );
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--build')) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(`${ROOT}dist/index.js`)) {
    console.error('dist/ is missing: run `npm run build` first (or pass --build).');
    process.exit(1);
  }
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as Record<string, unknown>;

  const result = pack();
  console.log(
    `npm pack: ${result.name}@${result.version}, ${result.entryCount} files, ${(result.size / 1024).toFixed(1)} KB packed, ${(result.unpackedSize / 1024).toFixed(1)} KB unpacked`,
  );
  for (const f of result.files) console.log(`  ${String(f.size).padStart(9)}  ${f.path}`);
  checkFileList(result, pkg);
  checkDependencies(pkg);

  console.log('publint (strict):');
  await checkPublint();
  console.log('@arethetypeswrong/cli --pack:');
  checkAttw();

  if (problems.length > 0) {
    console.error(`\ncheck:package found ${problems.length} problem(s):`);
    for (const p of problems) console.error(`  ✗ ${p}`);
    process.exit(1);
  }
  console.log('\ncheck:package: the tarball is clean.');
}

await main();

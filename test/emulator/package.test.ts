/**
 * The built `nemovideo/testing` entry in a project without msw: the core (createEmulator,
 * handle, listen, connectEmulator) loads and serves, ESM and CommonJS; only
 * `nemovideo/testing/msw` needs msw, and says so.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist/testing/index.js'));

/** A consumer project with the built package and its dependencies, but no msw. */
function projectWithoutMsw(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nemovideo-no-msw-'));
  const pkgDir = join(dir, 'node_modules/nemovideo');
  mkdirSync(pkgDir, { recursive: true });
  // Copies, not links: a link would resolve msw from this repository's node_modules.
  cpSync(join(root, 'package.json'), join(pkgDir, 'package.json'));
  cpSync(join(root, 'dist'), join(pkgDir, 'dist'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), target, 'dir');
  }
  return dir;
}

const ESM = `
import { connectEmulator, createEmulator } from 'nemovideo/testing';
const emulator = createEmulator({ renderDurationMs: 0 });
const token = await emulator.handle(new Request(emulator.baseUrl + '/api/auth/anonymous-token', {
  method: 'POST', headers: { 'X-Client-Id': 'no-msw' } }));
const server = await emulator.listen({ port: 0 });
const credits = await fetch(server.url + '/api/credits/balance/simple');
const stats = await connectEmulator(server.url).stats();
await emulator.close();
let msw;
try { await import('nemovideo/testing/msw'); msw = 'loaded'; } catch (e) { msw = String(e.code) + ' ' + e.message; }
console.log(JSON.stringify({ token: (await token.json()).code, credits: credits.status,
  counted: stats['GET /api/credits/balance/simple'].count, msw }));
`;

const CJS = `
const { createEmulator } = require('nemovideo/testing');
const emulator = createEmulator();
emulator.listen({ port: 0 }).then(async (server) => {
  const res = await fetch(server.url + '/api/auth/anonymous-token', { method: 'POST', headers: { 'X-Client-Id': 'cjs' } });
  await emulator.close();
  let msw;
  try { require('nemovideo/testing/msw'); msw = 'loaded'; } catch (e) { msw = String(e.code) + ' ' + e.message; }
  console.log(JSON.stringify({ token: (await res.json()).code, msw }));
});
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// CI builds before testing (.ci/run): there this must run, never skip.
describe.skipIf(!built && !process.env.CI)('the built testing entry without msw', () => {
  test('ESM and CommonJS: createEmulator, handle, listen, connectEmulator work; /msw names msw', () => {
    const dir = projectWithoutMsw();
    dirs.push(dir);
    expect(() => createRequire(join(dir, 'index.js')).resolve('msw')).toThrow();
    const run = (args: string[]) =>
      JSON.parse(execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' }));
    const esm = run(['--input-type=module', '-e', ESM]);
    expect(esm).toMatchObject({ token: 0, credits: 200, counted: 1 });
    expect(esm.msw).toMatch(/ERR_MODULE_NOT_FOUND .*'msw'/);
    const cjs = run(['-e', CJS]);
    expect(cjs.token).toBe(0);
    expect(cjs.msw).toMatch(/MODULE_NOT_FOUND .*'msw'/);
  });
});

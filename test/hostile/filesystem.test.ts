/**
 * #13 items 9, 12 and 13: local file-system failures surface as typed errors,
 * before any byte is spent where that can be checked first; the client id
 * file never follows a symlink.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describe as describeError, expectCleanNemoError, outcome, rejection } from './expect.js';
import { runProbeOnMount } from './run-probe.js';
import { clientIdFileIn, clientIdIn, NemoClient } from './sdk.js';
import { backend, closeAll, FILE_BYTES, hostile, PATHS } from './servers.js';

const TOKEN = 'usr-files-S3CRET-token';

let dir: string;
beforeEach(async () => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
  dir = await mkdtemp(join(tmpdir(), 'nemo-hostile-fs-'));
});
afterEach(async () => {
  await closeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('item 12: file-system failures of a download are typed, and come before the download', () => {
  it('a read-only target folder: a NemoError, and no GET of the file', async () => {
    const folder = join(dir, 'read-only');
    await mkdir(folder);
    const { result, how } = await runProbeOnMount('readonly-target', folder, 'read-only');
    expect(
      { nemo: result.outcome.nemo, gets: result.extra.gets },
      `${how}: ${result.outcome.name}: ${result.outcome.message} (codes ${result.outcome.codes})`,
    ).toEqual({ nemo: true, gets: 0 });
  }, 30_000);

  it('a long but legal file name (255 bytes): saved, or a NemoError before any GET', async () => {
    const api = await hostile(backend());
    const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
    const name = `${'v'.repeat(251)}.mp4`;
    const target = join(dir, name);
    // The name itself is legal here:
    await writeFile(target, 'probe');
    await rm(target);
    const result = await outcome(client.download(`${api.origin}/files/out.mp4`, target));
    if (result.ok) {
      expect(await readFile(target)).toEqual(FILE_BYTES);
      return;
    }
    expectCleanNemoError(result.error, ['S3CRET']);
    expect(api.count('GET', PATHS.file), 'GETs before the name was refused').toBe(0);
  });

  it('a directory as the target: a NemoError before the download starts', async () => {
    const api = await hostile(backend());
    const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
    const target = join(dir, 'a-folder.mp4');
    await mkdir(target);
    const error = await rejection(client.download(`${api.origin}/files/out.mp4`, target));
    expectCleanNemoError(error, ['S3CRET']);
    expect(api.count('GET', PATHS.file), 'GETs of the file before the target was refused').toBe(0);
    expect(await readdir(dir)).toEqual(['a-folder.mp4']);
  });
});

describe('item 12: the client id file', () => {
  it('a dangling client_id symlink: a NemoError (or a fresh id), never a raw ENOENT', async () => {
    const api = await hostile(backend());
    await symlink(join(dir, 'missing-folder', 'target'), clientIdFileIn(dir));
    const client = new NemoClient({ baseUrl: api.origin, ...clientIdIn(dir), logLevel: 'off' });
    const result = await outcome(client.credits.balance());
    if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
    expect(existsSync(join(dir, 'missing-folder')), 'nothing created through the link').toBe(false);
  });
});

describe('item 13: the client id file does not follow a symlink', () => {
  it('a symlink to a file holding another secret: that secret is never sent, the file is untouched', async () => {
    const api = await hostile(backend());
    const other = join(dir, 'other-secret.txt');
    const secret = 'OTHER-S3CRET-value-0123456789';
    await writeFile(other, `${secret}\n`);
    await symlink(other, clientIdFileIn(dir));
    const client = new NemoClient({ baseUrl: api.origin, ...clientIdIn(dir), logLevel: 'off' });
    const result = await outcome(client.credits.balance());
    const sent = api.requests.map((r) => JSON.stringify(r.headers)).join('\n');
    expect(sent, 'the linked file content went out as a header').not.toContain('OTHER-S3CRET');
    if (!result.ok) expectCleanNemoError(result.error, ['OTHER-S3CRET']);
    expect(await readFile(other, 'utf8')).toBe(`${secret}\n`);
  });

  it('a dangling symlink into an existing folder: no file is created through it', async () => {
    const api = await hostile(backend());
    const target = join(dir, 'elsewhere', 'written-through-the-link');
    await mkdir(join(dir, 'elsewhere'));
    await symlink(target, clientIdFileIn(dir));
    const client = new NemoClient({ baseUrl: api.origin, ...clientIdIn(dir), logLevel: 'off' });
    const result = await outcome(client.credits.balance());
    if (!result.ok) expectCleanNemoError(result.error, []);
    expect(
      existsSync(target),
      `the client id was written through the symlink (${result.ok ? 'call succeeded' : describeError(result.error)})`,
    ).toBe(false);
  });
});

describe('item 9: a local write failure during a download with renderId', () => {
  it('surfaces the disk error, not the fallback endpoint’s 404 (client.download and session.export)', async () => {
    const folder = join(dir, 'tiny');
    await mkdir(folder);
    const { result, how } = await runProbeOnMount('disk-full', folder, 'tiny');
    const diskError = /ENOSPC|EFBIG|no space|disk is full|file too large/i;
    const summary = (o: typeof result.outcome) => ({
      nemo: o.nemo,
      saysDisk: diskError.test(`${o.message} ${(o.codes ?? []).join(' ')}`),
      says404: /\b404\b/.test(o.message ?? ''),
    });
    const exported = result.extra.export as typeof result.outcome;
    expect(
      { download: summary(result.outcome), export: summary(exported) },
      `${how}: download → ${result.outcome.name}: ${result.outcome.message}; export → ${exported.name}: ${exported.message}`,
    ).toEqual({
      download: { nemo: true, saysDisk: true, says404: false },
      export: { nemo: true, saysDisk: true, says404: false },
    });
  }, 30_000);
});

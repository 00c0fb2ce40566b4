/**
 * Bad inputs give clear `isError` results (what happened, what to do), never a crash, and
 * nothing reaches the service that should not: an unknown session, an `.exe`, a missing
 * argument, a path outside the allowed folders, an export before there is anything to export.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  type McpHarness,
  newSession,
  ROOT,
  runSsePosts,
  type ServedEmulator,
  serveEmulator,
  startMcp,
  tempDir,
  textOf,
} from './helpers.js';

// Each file starts `nemovideo mcp` as a child process (TypeScript compiled on the fly): give
// start-up and the slower calls room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let served: ServedEmulator;
let base: ReturnType<typeof tempDir>;
let root: string;
let outside: string;
let mcp: McpHarness;

beforeAll(async () => {
  served = await serveEmulator();
  base = tempDir();
  root = join(base.path, 'work');
  outside = join(base.path, 'elsewhere');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.mp4'), 'not for upload');
  writeFileSync(join(root, 'setup.exe'), 'MZ');
  writeFileSync(join(root, 'clip.mp4'), new Uint8Array(2048));
  symlinkSync(join(outside, 'secret.mp4'), join(root, 'link.mp4'));
  symlinkSync(outside, join(root, 'linked-folder'));
  mcp = await startMcp({ apiUrl: served.url, cwd: root });
});

afterAll(async () => {
  await mcp?.close();
  await served?.close();
  base?.cleanup();
});

async function call(name: string, args: Record<string, unknown>) {
  return mcp.client.callTool({ name, arguments: args });
}

function uploads(): number {
  return served.emulator.requests.filter((r) => r.path.startsWith('/api/upload-video/')).length;
}

function renders(): number {
  return served.emulator.requests.filter(
    (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
  ).length;
}

describe('an unknown session', () => {
  test('get_timeline: SessionNotFoundError and how to get a session', async () => {
    const result = await call('get_timeline', { session_id: '123' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^SessionNotFoundError: .*123/);
    expect(textOf(result)).toMatch(/What to do: .*create_session/);
    expect(result.structuredContent).toBeUndefined();
  });

  test('send_message: says nothing was sent, and nothing was (the state read failed first)', async () => {
    const before = runSsePosts(served.emulator);
    const result = await call('send_message', { session_id: '123', message: 'add a title' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^SessionNotFoundError: /);
    expect(textOf(result)).toContain('Nothing was sent to the agent');
    expect(runSsePosts(served.emulator)).toBe(before);
  });

  test('upload_media and export_video: the same error', async () => {
    const upload = await call('upload_media', {
      session_id: '123',
      media: ['https://example.com/a.mp4'],
    });
    expect(upload.isError).toBe(true);
    expect(textOf(upload)).toMatch(/^SessionNotFoundError: /);
    const exported = await call('export_video', { session_id: '123' });
    expect(exported.isError).toBe(true);
    expect(textOf(exported)).toMatch(/^SessionNotFoundError: /);
  });
});

describe('files the service does not accept', () => {
  test('an .exe is refused before anything is sent, with the accepted formats', async () => {
    const sessionId = await newSession(mcp.client);
    const before = uploads();
    const result = await call('upload_media', { session_id: sessionId, media: ['setup.exe'] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^UnsupportedFileTypeError: .*setup\.exe/);
    expect(textOf(result)).toMatch(/What to do: .*mp4, mov, avi/);
    expect(uploads()).toBe(before);
  });

  test('a link to an .exe is refused by the service (code 4001)', async () => {
    const sessionId = await newSession(mcp.client);
    const result = await call('upload_media', {
      session_id: sessionId,
      media: ['https://example.com/setup.exe'],
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^UnsupportedFileTypeError: /);
  });

  test('a link that is not http(s)', async () => {
    const sessionId = await newSession(mcp.client);
    const result = await call('upload_media', {
      session_id: sessionId,
      media: ['ftp://example.com/a.mp4'],
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^InvalidLink: "ftp:\/\/example\.com\/a\.mp4" is not an http\(s\) link/,
    );
  });

  test('a missing file', async () => {
    const sessionId = await newSession(mcp.client);
    const result = await call('upload_media', { session_id: sessionId, media: ['nope.mp4'] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^FileNotFound: No file at "nope\.mp4"/);
  });

  test('a local file inside the folder uploads, with progress', async () => {
    const sessionId = await newSession(mcp.client);
    const seen: (string | undefined)[] = [];
    mcp.client.setNotificationHandler('notifications/progress', (n) => {
      seen.push(n.params.message);
    });
    const result = await mcp.client.callTool(
      { name: 'upload_media', arguments: { session_id: sessionId, media: ['./clip.mp4'] } },
      { onprogress: () => undefined },
    );
    expect(seen.at(-1)).toBe('uploading 100%');
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      files: [{ source: './clip.mp4', filename: 'clip.mp4', file_type: 'video' }],
    });
  });
});

describe('missing or malformed arguments', () => {
  test('a missing argument names it', async () => {
    const result = await call('upload_media', { session_id: '1' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Input validation error: .*media/);
    const noMessage = await call('send_message', { session_id: '1' });
    expect(noMessage.isError).toBe(true);
    expect(textOf(noMessage)).toMatch(/Input validation error: .*message/);
  });

  test('out-of-range and wrongly typed values', async () => {
    const wait = await call('send_message', { session_id: '1', message: 'x', wait_seconds: 5000 });
    expect(wait.isError).toBe(true);
    expect(textOf(wait)).toMatch(/wait_seconds/);
    const quality = await call('export_video', { session_id: '1', quality: '4k' });
    expect(quality.isError).toBe(true);
    expect(textOf(quality)).toMatch(/quality/);
    const id = await call('get_timeline', { session_id: 123 });
    expect(id.isError).toBe(true);
    expect(textOf(id)).toMatch(/session_id/);
    const slash = await call('get_timeline', { session_id: '../../etc' });
    expect(slash.isError).toBe(true);
  });

  test('an unknown render id', async () => {
    const result = await call('get_render_status', { render_id: 'render_1_x' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^UnknownRender: No render "render_1_x"/);
  });
});

describe('paths outside the allowed folders', () => {
  test('reading: absolute, relative and through a symlink; nothing is uploaded', async () => {
    const sessionId = await newSession(mcp.client);
    const before = uploads();
    for (const media of [
      join(outside, 'secret.mp4'),
      '../elsewhere/secret.mp4',
      'link.mp4',
      'linked-folder/secret.mp4',
      '/etc/passwd',
    ]) {
      const result = await call('upload_media', { session_id: sessionId, media: [media] });
      expect(result.isError, media).toBe(true);
      expect(textOf(result)).toMatch(
        /^PathNotAllowed: ".*" is outside the folders this server may read/,
      );
      expect(textOf(result)).toContain(root);
      expect(textOf(result)).toMatch(/--root/);
    }
    // One bad path in a list stops the whole call before anything is sent.
    const mixed = await call('upload_media', {
      session_id: sessionId,
      media: ['clip.mp4', '/etc/passwd'],
    });
    expect(mixed.isError).toBe(true);
    expect(uploads()).toBe(before);
  });

  test('writing: refused before any render starts', async () => {
    const sessionId = await newSession(mcp.client);
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
    await call('send_message', { session_id: sessionId, message: 'export as mp4' });
    const before = renders();
    for (const path of [
      join(outside, 'out.mp4'),
      '../elsewhere/out.mp4',
      'linked-folder/out.mp4',
      'linked-folder/new/deeper/out.mp4',
    ]) {
      const result = await call('export_video', { session_id: sessionId, path });
      expect(result.isError, path).toBe(true);
      expect(textOf(result)).toMatch(
        /^PathNotAllowed: ".*" is outside the folders this server may write/,
      );
    }
    expect(renders()).toBe(before);
    expect(() => readFileSync(join(outside, 'new'))).toThrow();
  });

  test('not an .mp4, or an existing file without overwrite', async () => {
    const sessionId = await newSession(mcp.client);
    await call('upload_media', { session_id: sessionId, media: ['https://example.com/a.mp4'] });
    await call('send_message', { session_id: sessionId, message: 'export as mp4' });
    const notMp4 = await call('export_video', { session_id: sessionId, path: 'video.mov' });
    expect(notMp4.isError).toBe(true);
    expect(textOf(notMp4)).toMatch(/^InvalidPath: "video\.mov" does not end in \.mp4/);
    writeFileSync(join(root, 'keep.mp4'), 'precious');
    const exists = await call('export_video', { session_id: sessionId, path: 'keep.mp4' });
    expect(exists.isError).toBe(true);
    expect(textOf(exists)).toMatch(
      /^FileExists: "keep\.mp4" already exists\.\nWhat to do: Pass overwrite: true/,
    );
    expect(readFileSync(join(root, 'keep.mp4'), 'utf8')).toBe('precious');
    const replaced = await call('export_video', {
      session_id: sessionId,
      path: 'keep.mp4',
      overwrite: true,
    });
    expect(replaced.isError).toBeFalsy();
    expect(readFileSync(join(root, 'keep.mp4')).subarray(4, 8).toString('latin1')).toBe('ftyp');
    // A folder gets the default name; missing folders are created inside the allowed one.
    const intoFolder = await call('export_video', { session_id: sessionId, path: 'exports/' });
    expect(intoFolder.structuredContent).toMatchObject({
      path: join(root, 'exports', `nemovideo-${sessionId}.mp4`),
    });
  });
});

describe('an export before there is anything to export', () => {
  test('DraftNotReadyError says to upload and ask the agent first', async () => {
    const sessionId = await newSession(mcp.client);
    const before = renders();
    const result = await call('export_video', { session_id: sessionId });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^DraftNotReadyError: /);
    expect(textOf(result)).toMatch(/What to do: Upload a video \(upload_media\).*send_message/);
    expect(renders()).toBe(before);
  });
});

describe('--root', () => {
  test('only the given folders are allowed', async () => {
    const media = join(base.path, 'media');
    mkdirSync(media, { recursive: true });
    writeFileSync(join(media, 'in.mp4'), new Uint8Array(1024));
    const rooted = await startMcp({ apiUrl: served.url, cwd: root, args: ['--root', media] });
    try {
      const sessionId = await newSession(rooted.client);
      const inside = await rooted.client.callTool({
        name: 'upload_media',
        arguments: { session_id: sessionId, media: ['in.mp4'] },
      });
      expect(inside.isError).toBeFalsy();
      // The working directory is not allowed any more.
      const cwdFile = await rooted.client.callTool({
        name: 'upload_media',
        arguments: { session_id: sessionId, media: [join(root, 'clip.mp4')] },
      });
      expect(cwdFile.isError).toBe(true);
      expect(textOf(cwdFile)).toMatch(/^PathNotAllowed: /);
      expect(textOf(cwdFile)).toContain(media);
    } finally {
      await rooted.close();
    }
  });

  test('a folder that does not exist is a usage error (exit 2)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        fileURLToPath(import.meta.resolve('tsx')),
        join(ROOT, 'src', 'cli', 'bin.ts'),
        'mcp',
        '--root',
        join(base.path, 'missing'),
      ],
      {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, NEMO_API_URL: served.url },
      },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--root .*missing: no such folder/);
    expect(stdout).toBe('');
  });
});

/**
 * The reference workflow of the contract (§3) through the public API, against
 * the emulator: once through msw, once over loopback HTTP.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { summarizeTimeline } from '../../src/helpers.js';
import { NemoClient, type NemoClientOptions } from '../../src/index.js';
import { createEmulator, type Emulator } from '../../src/testing/index.js';
import { mswHandlers } from '../../src/testing/msw.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-workflow-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function referenceWorkflow(emulator: Emulator, options: NemoClientOptions, out: string) {
  const client = new NemoClient({
    clientId: 'workflow-test',
    clientIdFile: false,
    logLevel: 'off',
    backend: { render: { pollIntervalMs: 0, maxPolls: 50 } },
    ...options,
  });
  const session = await client.sessions.create();
  const upload = await session.uploadUrl('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
  expect(upload.files).toHaveLength(1);
  expect(upload.files[0]?.fileType).toBe('video');

  const turn = await session.send('download this video in MP4 at 1080p');
  expect(turn.toolCalls.length).toBeGreaterThan(0);

  const state = await session.state();
  expect(state.draft?.tracks.map((t) => t.kind)).toContain('video');
  expect(summarizeTimeline(state.draft)).toMatch(/^Timeline \(1 track\): 1\. Video: /);

  const progress: number[] = [];
  const result = await session.export({
    to: out,
    onProgress: (p) => {
      if (p.stage === 'download' && p.percent !== undefined) progress.push(p.percent);
    },
  });
  expect(result.path).toBe(out);
  const bytes = await readFile(out);
  expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  expect(result.bytes).toBe(bytes.length);
  expect(progress.at(-1)).toBe(100);

  // One message, one POST; the CDN never saw a credential.
  expect(emulator.requests.filter((r) => r.path === '/run_sse')).toHaveLength(1);
  const cdn = emulator.requests.filter((r) => r.origin === 'cdn');
  expect(cdn.length).toBeGreaterThan(0);
  for (const r of cdn) {
    expect(r.headers.authorization).toBeUndefined();
    expect(r.headers['x-skill-source']).toBeUndefined();
  }
  // Every API request carried the attribution headers; only the anonymous-token one lacked a bearer.
  for (const r of emulator.requests.filter((x) => x.origin === 'api')) {
    expect(r.headers['x-skill-source']).toBe('nemovideo');
    if (r.path === '/api/auth/anonymous-token') expect(r.headers.authorization).toBeUndefined();
    else expect(r.headers.authorization).toMatch(/^Bearer nmv_usr_/);
  }
  expect((await client.credits.balance()).available).toBeLessThan(100);
}

describe('the reference workflow', () => {
  describe('through msw', () => {
    const emulator = createEmulator({ renderDurationMs: 0 });
    const server = setupServer(...mswHandlers(emulator));
    beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
    afterEach(() => emulator.reset());
    afterAll(() => server.close());

    it('uploads, edits, renders and downloads a valid MP4', async () => {
      await referenceWorkflow(emulator, {}, join(dir, 'msw.mp4'));
    });
  });

  describe('over loopback HTTP', () => {
    const emulator = createEmulator({ renderDurationMs: 0 });
    let url = '';
    let close: () => Promise<void> = async () => {};
    beforeAll(async () => {
      const server = await emulator.listen({ port: 0 });
      url = server.url;
      close = server.close;
    });
    afterAll(() => close());

    it('uploads, edits, renders and downloads a valid MP4', async () => {
      await referenceWorkflow(emulator, { baseUrl: url }, join(dir, 'http.mp4'));
      expect((await readdir(dir)).filter((f) => f.includes('.tmp') || f.includes('.part'))).toEqual(
        [],
      );
    });
  });
});

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeDraft,
  diffTimelines,
  type ExportProgress,
  encodeDraft,
  summarizeTimeline,
} from '../../src/helpers.js';
import { DownloadError, NemoClient, RenderFailedError, type Session } from '../../src/index.js';
import { resultMp4 } from '../../src/testing/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { useEmulatorServer } from '../helpers/msw.js';
import { drive } from './helpers.js';

const clock = new ManualClock();
const API = 'https://mega-api-prod.nemovideo.ai';

const { emulator } = useEmulatorServer({ clock: { now: () => clock.now() }, heartbeatMs: 0 });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-emu-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newClient() {
  return new NemoClient({
    clientId: 'render-tests',
    clientIdFile: false,
    logLevel: 'off',
    timeout: 0,
    clock,
  });
}

/** Drive the emulator's default agent over the raw wire (independent of the chat layer). */
async function say(client: NemoClient, session: Session, text: string) {
  const response = await fetch(`${API}/run_sse`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await client.getToken()}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: JSON.stringify({
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: session.id,
      new_message: { parts: [{ text }] },
    }),
  });
  expect(response.ok).toBe(true);
  await response.text();
}

async function editedSession() {
  const client = newClient();
  const session = await client.sessions.create();
  const upload = await fetch(`${API}/api/upload-video/nemo_agent/me/${session.id}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await client.getToken()}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ urls: ['https://example.com/city.mp4'], source_type: 'url' }),
  });
  expect(upload.ok).toBe(true);
  await say(client, session, 'download this video in MP4 at 1080p');
  return { client, session };
}

function resultBytes(): Uint8Array {
  return resultMp4();
}

describe('against the emulator', () => {
  it('reads the emulator draft, summarises it and round-trips it exactly', async () => {
    const { client, session } = await editedSession();
    const before = await session.state();
    await say(client, session, "add a title 'Urban Dreams'");
    await say(client, session, 'add background music');
    const after = await session.state();
    expect(summarizeTimeline(after.draft)).toMatch(
      /^Timeline \(3 tracks\): 1\. Video: .+ \(0-\d+s\) 2\. Title: "Urban Dreams" \(0-3s\) 3\. BGM: .+ \(0-\d+s, 35%\)$/,
    );
    const raw = emulator.session(session.id)?.draft;
    expect(JSON.stringify(encodeDraft(after.draft!))).toBe(JSON.stringify(raw));
    expect(decodeDraft(raw).tracks.map((t) => t.kind)).toEqual(['video', 'text', 'audio']);
    const changes = diffTimelines(before.draft, after.draft);
    expect(changes.tracksAdded.map((t) => t.kind)).toEqual(['text', 'audio']);
    expect(changes.summary).toMatch(/^added Title: "Urban Dreams" \(0-3s\); added BGM: /);
  });

  it.each(['top-level', 'wrapped'] as const)(
    'exports to a file (%s poll shape); the CDN never sees credentials',
    async (shape) => {
      emulator.configure({ renderShape: shape });
      const { session } = await editedSession();
      const events: ExportProgress[] = [];
      const target = join(dir, 'out.mp4');
      const result = await drive(
        clock,
        session.export({ to: target, pollInterval: 500, onProgress: (p) => events.push(p) }),
      );
      const expected = resultBytes();
      expect(Buffer.compare(await readFile(target), Buffer.from(expected))).toBe(0);
      expect(result.bytes).toBe(expected.byteLength);
      expect(result.url).toMatch(/^https:\/\/cdn\.emulator\.nemovideo\.test\/renders\//);
      expect(emulator.render(result.renderId)?.status).toBe('completed');
      const cdn = emulator.requests.filter((r) => r.origin === 'cdn');
      expect(cdn.length).toBeGreaterThan(0);
      for (const r of cdn) {
        expect(r.headers.authorization).toBeUndefined();
        expect(r.headers['x-skill-source']).toBeUndefined();
      }
      const start = emulator.requests.find(
        (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
      );
      expect(start?.headers['x-skill-source']).toBe('nemovideo');
      const render = events.filter((e) => e.stage === 'render').map((e) => e.percent);
      expect(render).toEqual([...render].sort((a, b) => a - b));
      expect(render.at(-1)).toBe(100);
      expect(events.at(-1)).toMatchObject({ stage: 'download', percent: 100 });
    },
  );

  it('retries a failed start once with a new id', async () => {
    const { session } = await editedSession();
    emulator.fail('POST /api/render/proxy/lambda', { status: 503 });
    const job = await session.render();
    const starts = emulator.requests.filter(
      (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
    );
    expect(starts).toHaveLength(2);
    expect(starts.map((r) => r.status)).toEqual([503, 200]);
    const ids = starts.map((r) =>
      r.body.type === 'json' ? (r.body.value as { id: string }).id : undefined,
    );
    expect(ids[1]).toBe(job.id);
    // The emulator does not read a faulted body; test/render/render.test.ts checks the two ids differ.
    expect(ids[0]).toBeUndefined();
    expect(emulator.render(job.id)).toBeDefined();
  });

  it('surfaces a failed render with the server reason', async () => {
    const { session } = await editedSession();
    emulator.failRenders('Lambda timeout', { times: 1, atProgress: 40 });
    const error = await drive(clock, session.export({ pollInterval: 500 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RenderFailedError);
    expect((error as RenderFailedError).reason).toBe('Lambda timeout');
  });

  it('cancels a render and reports it as cancelled', async () => {
    const { session } = await editedSession();
    const job = await session.render();
    await job.cancel();
    expect(emulator.render(job.id)?.status).toBe('cancelled');
    const error = await drive(clock, job.wait({ pollInterval: 10 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderFailedError);
  });

  it('falls back to the API download endpoint when the CDN download is cut', async () => {
    const { client, session } = await editedSession();
    const result = await drive(clock, (await session.render()).wait({ pollInterval: 500 }));
    emulator.fail('GET /renders/*', { cutAfterBytes: 1000 });
    const cut = await client.download(result.url, join(dir, 'cut.mp4')).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(DownloadError);
    expect(await readdir(dir)).toEqual([]);

    emulator.fail('GET /renders/*', { cutAfterBytes: 1000 });
    const target = join(dir, 'ok.mp4');
    const done = await client.download(result.url, target, { renderId: result.renderId });
    expect(done.url).toBe(`${API}/api/render/proxy/${result.renderId}/download`);
    expect(Buffer.compare(await readFile(target), Buffer.from(resultBytes()))).toBe(0);
    const fallback = emulator.requests.filter((r) => r.path.endsWith('/download'));
    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.headers.authorization).toMatch(/^Bearer nmv_usr_/);
    expect(await readdir(dir)).toEqual(['ok.mp4']);
  });
});

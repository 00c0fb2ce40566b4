import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExportProgress } from '../../src/helpers.js';
import { DraftNotReadyError, NemoClient, RenderFailedError } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';
import { drive, READY_DRAFT } from './helpers.js';

const server = useMswServer();
const SID = '5529798706024415232';
const CDN = 'https://cdn.example-render.test';
const MP4 = new Uint8Array(200_000).map((_, i) => i % 256);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup() {
  const clock = new ManualClock();
  const client = new NemoClient({
    token: 'nmv_usr_export_test_token',
    clientIdFile: false,
    logLevel: 'off',
    timeout: 0,
    maxRetries: 0,
    clock,
  });
  return { clock, session: client.sessions.open(SID) };
}

function backend(draft: unknown, finalPoll: () => Response) {
  const cdnHeaders: Headers[] = [];
  const started: { id: string; draft: unknown }[] = [];
  let polls = 0;
  server.use(
    http.get(`${BASE}/api/state/nemo_agent/me/${SID}/latest`, () =>
      ok({ session_id: SID, state: { draft } }),
    ),
    http.post(`${BASE}/api/render/proxy/lambda`, async ({ request }) => {
      started.push((await request.json()) as { id: string; draft: unknown });
      return HttpResponse.json({ success: true, data: {} });
    }),
    http.get(`${BASE}/api/render/proxy/lambda/:id`, () => {
      polls += 1;
      if (polls === 1) return HttpResponse.json({ status: 'pending', progress: 0 });
      if (polls === 2) return HttpResponse.json({ status: 'processing', progress: 60 });
      if (polls === 3) return HttpResponse.json({ status: 'processing', progress: 30 }); // goes back
      return finalPoll();
    }),
    http.get(`${CDN}/renders/:file`, ({ request }) => {
      cdnHeaders.push(request.headers);
      return new HttpResponse(MP4, {
        headers: { 'content-type': 'video/mp4', 'content-length': String(MP4.byteLength) },
      });
    }),
  );
  return { cdnHeaders, started };
}

describe('session.export()', () => {
  it('renders the current draft, waits, and downloads to a path without credentials on the CDN', async () => {
    const { clock, session } = setup();
    const { cdnHeaders, started } = backend(READY_DRAFT, () =>
      HttpResponse.json({
        status: 'completed',
        output: { url: `${CDN}/renders/out.mp4`, duration: 10, size: MP4.byteLength },
      }),
    );
    const events: ExportProgress[] = [];
    const target = join(dir, 'out.mp4');
    const result = await drive(
      clock,
      session.export({ to: target, pollInterval: 1000, onProgress: (p) => events.push(p) }),
    );
    expect(result).toMatchObject({
      url: `${CDN}/renders/out.mp4`,
      path: target,
      bytes: MP4.byteLength,
      durationSec: 10,
      sizeBytes: MP4.byteLength,
    });
    expect(result.renderId).toBe(started[0]?.id);
    expect(JSON.stringify(started[0]?.draft)).toBe(JSON.stringify(READY_DRAFT));
    expect(Buffer.compare(await readFile(target), Buffer.from(MP4))).toBe(0);
    expect(await readdir(dir)).toEqual(['out.mp4']);
    expect(cdnHeaders).toHaveLength(1);
    expect(cdnHeaders[0]?.get('authorization')).toBeNull();
    expect(cdnHeaders[0]?.get('x-skill-source')).toBeNull();

    const render = events.filter((e) => e.stage === 'render').map((e) => e.percent);
    const download = events.filter((e) => e.stage === 'download').map((e) => e.percent ?? -1);
    expect(render).toEqual([0, 60, 60, 100]); // never backwards
    expect(download).toEqual([...download].sort((a, b) => a - b));
    expect(download.at(-1)).toBe(100);
    const stages = events.map((e) => e.stage);
    expect(stages.indexOf('download')).toBe(stages.lastIndexOf('render') + 1);
  });

  it('without `to`, returns the result without downloading', async () => {
    const { clock, session } = setup();
    const { cdnHeaders } = backend(READY_DRAFT, () =>
      HttpResponse.json({
        success: true,
        data: { status: 'completed', outputUrl: `${CDN}/renders/x.mp4` },
      }),
    );
    const result = await drive(clock, session.export({ pollInterval: 1 }));
    expect(result.url).toBe(`${CDN}/renders/x.mp4`);
    expect(result.path).toBeUndefined();
    expect(cdnHeaders).toHaveLength(0);
  });

  it.each([
    ['no draft', null],
    ['an empty draft', {}],
    ['tracks without segments', { t: [{ tt: 0, sg: [] }, { tt: 1 }] }],
  ])('refuses to export %s, saying what to do, before rendering', async (_, draft) => {
    const { session } = setup();
    const { started } = backend(draft, () => HttpResponse.json({ status: 'completed' }));
    const error = await session.export({ to: join(dir, 'x.mp4') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DraftNotReadyError);
    expect((error as Error).message).toMatch(/upload a video/i);
    expect(started).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('raises RenderFailedError and writes nothing when the render fails', async () => {
    const { clock, session } = setup();
    backend(READY_DRAFT, () => HttpResponse.json({ status: 'failed', error: 'bad draft' }));
    const error = await drive(
      clock,
      session.export({ to: join(dir, 'x.mp4'), pollInterval: 1 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderFailedError);
    expect((error as RenderFailedError).reason).toBe('bad draft');
    expect(await readdir(dir)).toEqual([]);
  });
});

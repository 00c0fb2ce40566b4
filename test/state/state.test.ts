import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { decodeDraft, summarizeTimeline } from '../../src/helpers.js';
import {
  ConfigError,
  NemoClient,
  ResponseValidationError,
  SessionNotFoundError,
} from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const SID = '5529798706024415232';
const STATE_URL = `${BASE}/api/state/nemo_agent/me/${SID}/latest`;

function session() {
  const client = new NemoClient({
    token: 'nmv_usr_state_test_token',
    clientIdFile: false,
    maxRetries: 1,
    logLevel: 'off',
    retryTiming: { initialDelayMs: 1, maxDelayMs: 1 },
  });
  return client.sessions.open(SID);
}

const DRAFT = {
  t: [
    { tt: 0, sg: [{ id: 'v', st: 0, du: 10000, nm: 'city timelapse' }] },
    { tt: 1, sg: [{ id: 'a', st: 0, du: 10000, nm: 'Lo-fi', vol: 0.35 }] },
  ],
  d: 10000,
  m: { title: 'project' },
};

describe('session.state()', () => {
  it('GETs the latest state and decodes draft, media and canvas', async () => {
    let auth: string | null = null;
    const data = {
      session_id: SID,
      task_id: 'task_1',
      task_name: 'project',
      state: {
        draft: DRAFT,
        video_infos: [
          {
            cdn_url: 'https://cdn.x/city.mp4',
            filename: 'city.mp4',
            duration: 10,
            width: 1920,
            height: 1080,
            fps: 30,
            codec: 'h264',
          },
        ],
        generated_media: [{ kind: 'image' }],
        canvas_config: { width: 1080, height: 1920, aspect_ratio: '9:16' },
        video_analyses: { v: 'ok' },
      },
    };
    server.use(
      http.get(STATE_URL, ({ request }) => {
        auth = request.headers.get('authorization');
        return ok(data);
      }),
    );
    const state = await session().state();
    expect(auth).toBe('Bearer nmv_usr_state_test_token');
    expect(state.sessionId).toBe(SID);
    expect(state.taskId).toBe('task_1');
    expect(state.taskName).toBe('project');
    expect(summarizeTimeline(state.draft)).toBe(
      'Timeline (2 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%)',
    );
    expect(state.videoInfos).toEqual([
      {
        url: 'https://cdn.x/city.mp4',
        filename: 'city.mp4',
        durationSec: 10,
        width: 1920,
        height: 1080,
        fps: 30,
        raw: data.state.video_infos[0],
      },
    ]);
    expect(state.generatedMedia).toEqual([{ kind: 'image' }]);
    expect(state.canvas).toMatchObject({ width: 1080, height: 1920, aspectRatio: '9:16' });
    expect(state.videoAnalyses).toEqual({ v: 'ok' });
    expect(state.raw).toEqual(data);
  });

  it.each([
    ['absent', { state: { video_infos: [] } }],
    ['null', { state: { draft: null } }],
    ['no state at all', { session_id: SID }],
  ])('gives draft null when the draft is %s', async (_, data) => {
    server.use(http.get(STATE_URL, () => ok(data)));
    const state = await session().state();
    expect(state.draft).toBeNull();
    expect(state.videoInfos).toEqual([]);
    expect(state.generatedMedia).toEqual([]);
    expect(state.canvas).toBeUndefined();
    expect(state.sessionId).toBe(SID);
  });

  it('decodes an empty draft object as a timeline with no tracks', async () => {
    server.use(http.get(STATE_URL, () => ok({ session_id: SID, state: { draft: {} } })));
    const state = await session().state();
    expect(state.draft?.tracks).toEqual([]);
  });

  it('names the bad path of a malformed draft', async () => {
    const bad = {
      t: [
        { tt: 0, sg: [{}] },
        { tt: 1, sg: [{ du: { ms: 1 } }] },
      ],
    };
    server.use(http.get(STATE_URL, () => ok({ session_id: SID, state: { draft: bad } })));
    const error = await session()
      .state()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).path).toBe('data.state.draft.t[1].sg[0].du');
  });

  it('rejects a non-array video_infos naming the path', async () => {
    server.use(http.get(STATE_URL, () => ok({ state: { video_infos: 'none' } })));
    const error = await session()
      .state()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).path).toBe('data.state.video_infos');
  });

  it('retries a transient 503 (a read is safe to replay)', async () => {
    let calls = 0;
    server.use(
      http.get(STATE_URL, () => {
        calls += 1;
        return calls === 1
          ? new HttpResponse('busy', { status: 503 })
          : ok({ session_id: SID, state: { draft: DRAFT } });
      }),
    );
    const state = await session().state();
    expect(calls).toBe(2);
    expect(state.draft?.tracks).toHaveLength(2);
  });

  it('raises SessionNotFoundError on code 1002', async () => {
    server.use(http.get(STATE_URL, () => HttpResponse.json({ code: 1002, message: 'no session' })));
    await expect(session().state()).rejects.toBeInstanceOf(SessionNotFoundError);
  });
});

describe('a draft nested too deep (#13 item 10)', () => {
  /** A state whose one segment holds `levels` nested arrays (5 000 levels: about 10 KB). */
  function deepState(levels: number): string {
    const body = JSON.stringify({
      code: 0,
      data: { session_id: SID, state: { draft: { t: [{ tt: 0, sg: [{ id: 's', x: 0 }] }] } } },
    });
    return body.replace('"x":0', `"x":${'['.repeat(levels)}${']'.repeat(levels)}`);
  }

  it('state(): a ResponseValidationError naming where, not a RangeError', async () => {
    server.use(
      http.get(
        STATE_URL,
        () =>
          new HttpResponse(deepState(5000), { headers: { 'content-type': 'application/json' } }),
      ),
    );
    const error = await session()
      .state()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as Error).message).toMatch(/more than 128 levels deep/);
    expect((error as ResponseValidationError).path).toMatch(
      /^data\.state\.draft\.t\[0\]\.sg\[0\]\.x\[0\]/,
    );
  });

  it('the bound is 128 levels: the draft object itself is level 1', () => {
    // draft (1) → t (2) → track (3) → sg (4) → segment (5) → x: levels 6 and deeper
    const nested = (levels: number) =>
      JSON.parse(`{"t":[{"tt":0,"sg":[{"x":${'['.repeat(levels)}${']'.repeat(levels)}}]}]}`);
    expect(decodeDraft(nested(123)).tracks).toHaveLength(1);
    expect(() => decodeDraft(nested(124))).toThrow(ResponseValidationError);
  });

  it('render({ draft }) with a raw draft that deep: a ConfigError before anything is sent', async () => {
    let starts = 0;
    server.use(
      http.post(`${BASE}/api/render/proxy/lambda`, () => {
        starts++;
        return HttpResponse.json({ success: true, data: {} });
      }),
    );
    const draft = JSON.parse(
      `{"t":[{"tt":0,"sg":[{"x":${'['.repeat(5000)}${']'.repeat(5000)}}]}]}`,
    ) as Record<string, unknown>;
    const error = await session()
      .render({ draft })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/more than 128 levels deep/);
    expect(starts).toBe(0);
  });
});

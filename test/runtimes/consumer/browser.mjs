// The reference workflow in a browser page (bundled with esbuild, platform
// browser, no special configuration). The page is served from localhost; the
// emulator's API and CDN are two other loopback origins (CORS).
import { isNemoError, NemoClient } from 'nemovideo';
import { summarizeTimeline } from 'nemovideo/helpers';

const { apiUrl } = JSON.parse(decodeURIComponent(location.hash.slice(1)));

async function run() {
  const client = new NemoClient({
    baseUrl: apiUrl,
    attribution: { platform: 'chromium' },
    backend: { render: { pollIntervalMs: 50, maxPolls: 200 } },
  });
  const session = await client.sessions.create();
  const clip = new File(
    [new Uint8Array([0, 0, 0, 24, 102, 116, 121, 112, 109, 112, 52, 50])],
    'clip.mp4',
    {
      type: 'video/mp4',
    },
  );
  const uploaded = await session.upload(clip);
  const turn = await session.send('Put the uploaded video on the timeline in MP4 at 1080p');
  const state = await session.state();
  const chunks = [];
  const result = await session.export({
    pollInterval: 50,
    to: new WritableStream({ write: (c) => void chunks.push(c) }),
  });
  const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  const head = new TextDecoder().decode(chunks[0]?.slice(4, 8));
  return {
    ok: bytes === result.bytes && head === 'ftyp',
    runtime: navigator.userAgent,
    uploaded: uploaded.files.length,
    replyChars: turn.text.length,
    summary: summarizeTimeline(state.draft),
    bytes: bytes,
    tokenSource: client.tokenSource,
  };
}

run().then(
  (result) => {
    window.__result = result;
  },
  (error) => {
    window.__result = {
      ok: false,
      nemoError: isNemoError(error),
      error: `${error?.name}: ${error?.message}`,
      stack: String(error?.stack ?? ''),
    };
  },
);

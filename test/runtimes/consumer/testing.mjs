// `nemovideo/testing` from the packed tarball (ESM): the emulator through msw
// handlers and through its own loopback server, driving the real client.
//   node testing.mjs
import { setupServer } from 'msw/node';
import { NemoClient, toUpload } from 'nemovideo';
import { createEmulator } from 'nemovideo/testing';
import { mswHandlers } from 'nemovideo/testing/msw';

async function workflow(client) {
  const session = await client.sessions.create();
  await session.uploadUrl('https://media.example.com/city.mp4');
  await session.send('Put the uploaded video on the timeline in MP4 at 1080p');
  const chunks = [];
  const result = await session.export({
    pollInterval: 10,
    to: new WritableStream({ write: (c) => void chunks.push(c) }),
  });
  return { bytes: result.bytes, first: chunks[0]?.slice(4, 8) };
}

const results = {};
try {
  // 1. msw handlers, the default production base URL.
  const emulator = createEmulator({ renderDurationMs: 30 });
  const msw = setupServer(...mswHandlers(emulator));
  msw.listen({ onUnhandledRequest: 'error' });
  try {
    results.msw = await workflow(new NemoClient({ clientIdFile: false, clientId: 'consumer-msw' }));
  } finally {
    msw.close();
  }
  // 2. a loopback server.
  const served = createEmulator({ renderDurationMs: 30 });
  const server = await served.listen({ port: 0 });
  try {
    const client = new NemoClient({
      baseUrl: server.url,
      clientIdFile: false,
      clientId: 'consumer-listen',
    });
    results.listen = await workflow(client);
    // A file upload: the emulator parses it with busboy, bundled into its own chunk of the
    // package (not a dependency); only that streaming parser reports a hash.
    const session = await client.sessions.create();
    const upload = await session.upload(toUpload(new Uint8Array(4096), { filename: 'clip.mp4' }));
    results.upload = { hash: upload.files[0]?.hash };
  } finally {
    await server.close();
  }
  const ok =
    [results.msw, results.listen].every(
      (r) => r.bytes > 0 && new TextDecoder().decode(r.first) === 'ftyp',
    ) && /^[0-9a-f]{32}$/.test(results.upload.hash ?? '');
  console.log(
    `RUNTIME_RESULT ${JSON.stringify({ ok, results: { msw: results.msw.bytes, listen: results.listen.bytes, uploadHash: results.upload.hash } })}`,
  );
  if (!ok) process.exitCode = 1;
} catch (error) {
  console.log(
    `RUNTIME_RESULT ${JSON.stringify({ ok: false, error: `${error?.name}: ${error?.message}` })}`,
  );
  process.exitCode = 1;
}

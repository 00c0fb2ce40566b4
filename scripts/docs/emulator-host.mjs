// The emulator as a separate process, from the package installed in a consumer project
// (copied there by scripts/docs/consumer.ts, run with child_process.fork). It listens on
// loopback, tells its parent where, and answers {type:'requests'} with its request log
// (method, path, status, origin: no headers, so no token crosses the pipe).
//
//   fork('emulator-host.mjs', [JSON.stringify(createEmulatorOptions)])
import { createEmulator } from 'nemovideo/testing';

const options = JSON.parse(process.argv[2] ?? '{}');
const emulator = createEmulator(options);
const server = await emulator.listen({ port: 0 });

const summary = () =>
  emulator.requests.map((r) => ({
    origin: r.origin,
    method: r.method,
    path: r.path,
    status: r.status,
    at: r.at,
  }));

process.on('message', (message) => {
  if (message?.type === 'requests') process.send?.({ type: 'requests', requests: summary() });
});
const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.send?.({ type: 'listening', url: server.url, cdnUrl: server.cdnUrl });

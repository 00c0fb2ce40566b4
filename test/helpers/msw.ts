import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createEmulator, type EmulatorOptions } from '../../src/testing/index.js';
import { mswHandlers } from '../../src/testing/msw.js';

export const BASE = 'https://mega-api-prod.nemovideo.ai';

/** An msw server for one test file: every request must match a handler, or the test fails. */
export function useMswServer() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return server;
}

/** A JSON response in the `{code, data}` envelope. */
export function ok(data: unknown, init?: ResponseInit): Response {
  return Response.json({ code: 0, data }, init);
}

/**
 * The emulator behind msw for one test file: every request must match, and the emulator's state
 * (sessions, faults, request log) and any per-test handlers are reset after each test.
 */
export function useEmulatorServer(options?: EmulatorOptions) {
  const emulator = createEmulator(options);
  const server = setupServer(...mswHandlers(emulator));
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    emulator.reset();
    server.resetHandlers();
  });
  afterAll(() => server.close());
  return { emulator, server };
}

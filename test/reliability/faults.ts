import type { Emulator } from '../../src/testing/index.js';
import type { Rng } from './random.js';

/** A step of the reference workflow, where a fault can be armed just before. */
export type Step = 'session' | 'upload' | 'send' | 'state' | 'export';
export const STEPS: readonly Step[] = ['session', 'upload', 'send', 'state', 'export'];

/** One planned fault: a label for the counts, the step it is armed before, and how. */
export interface PlannedFault {
  kind: FaultKind;
  label: string;
  before: Step;
  arm(emulator: Emulator): void;
}

export type FaultKind =
  | '5xx'
  | '429'
  | '1001'
  | 'reset'
  | 'sse-cut'
  | 'sse-stall'
  | 'render-failed'
  | 'download-cut'
  | 'latency';

/** JSON routes of each step (the render poll and the CDN are under `export`). */
const ROUTES: Record<Step, readonly string[]> = {
  session: ['POST /api/tasks/me/with-session/nemo_agent', 'POST /api/auth/anonymous-token'],
  upload: ['POST /api/upload-video/nemo_agent/me/:sid'],
  send: ['GET /api/state/nemo_agent/me/:sid/latest', 'POST /run_sse'],
  state: ['GET /api/state/nemo_agent/me/:sid/latest'],
  export: [
    'GET /api/state/nemo_agent/me/:sid/latest',
    'POST /api/render/proxy/lambda',
    'GET /api/render/proxy/lambda/:id',
  ],
};

const KINDS: readonly FaultKind[] = [
  '5xx',
  '429',
  '1001',
  'reset',
  'sse-cut',
  'sse-stall',
  'render-failed',
  'download-cut',
  'latency',
];

/** Draw one fault from `rng`. */
export function drawFault(rng: Rng): PlannedFault {
  const kind = rng.pick(KINDS);
  switch (kind) {
    case '5xx': {
      const before = rng.pick(STEPS);
      const route = rng.pick(ROUTES[before]);
      const status = rng.pick([500, 502, 503, 504]);
      const times = rng.int(1, 3);
      return {
        kind,
        before,
        label: `${status}×${times} on ${route}`,
        arm: (e) => e.fail(route, { status, times, message: 'chaos: upstream failure' }),
      };
    }
    case '429': {
      const before = rng.pick(STEPS);
      const route = rng.pick(ROUTES[before]);
      const retryAfter = rng.pick([undefined, '0', '0.02']);
      return {
        kind,
        before,
        label: `429 (Retry-After ${retryAfter ?? 'none'}) on ${route}`,
        arm: (e) =>
          e.fail(route, {
            status: 429,
            message: 'chaos: slow down',
            ...(retryAfter === undefined ? {} : { headers: { 'Retry-After': retryAfter } }),
          }),
      };
    }
    case '1001': {
      const before = rng.pick(STEPS);
      return {
        kind,
        before,
        label: `tokens expired before ${before}`,
        arm: (e) => e.expireTokens(),
      };
    }
    case 'reset': {
      const before = rng.pick(STEPS);
      const route = rng.pick(ROUTES[before]);
      const bytes = rng.int(0, 20);
      return {
        kind,
        before,
        label: `connection reset after ${bytes} bytes on ${route}`,
        arm: (e) => e.fail(route, { cutAfterBytes: bytes, cutMode: 'error' }),
      };
    }
    case 'sse-cut': {
      const after = rng.int(0, 4);
      const mode = rng.pick(['error', 'close'] as const);
      return {
        kind,
        before: 'send',
        label: `SSE cut (${mode}) after ${after} events`,
        arm: (e) => e.fail('POST /run_sse', { cutAfterEvents: after, cutMode: mode }),
      };
    }
    case 'sse-stall': {
      const after = rng.int(0, 3);
      const stallWith = rng.pick(['silence', 'heartbeats'] as const);
      return {
        kind,
        before: 'send',
        label: `SSE stalled (${stallWith}) after ${after} events`,
        arm: (e) => e.fail('POST /run_sse', { stallAfterEvents: after, stallWith }),
      };
    }
    case 'render-failed': {
      const at = rng.int(0, 90);
      return {
        kind,
        before: 'export',
        label: `render fails at ${at}%`,
        arm: (e) => e.failRenders('chaos: lambda crashed', { times: 1, atProgress: at }),
      };
    }
    case 'download-cut': {
      const bytes = rng.int(0, 200_000);
      const times = rng.int(1, 3);
      const mode = rng.pick(['error', 'close'] as const);
      return {
        kind,
        before: 'export',
        label: `download cut (${mode}) after ${bytes} bytes ×${times}`,
        arm: (e) => e.fail('GET /renders/*', { cutAfterBytes: bytes, cutMode: mode, times }),
      };
    }
    case 'latency': {
      const before = rng.pick(STEPS);
      const route = rng.pick(ROUTES[before]);
      const delayMs = rng.int(5, 80);
      return {
        kind,
        before,
        label: `+${delayMs} ms on ${route}`,
        arm: (e) => e.fail(route, { delayMs }),
      };
    }
  }
}

/** The faults of workflow `index`: none for about one in six, else one to three. */
export function planFaults(rng: Rng): PlannedFault[] {
  if (rng.chance(1 / 6)) return [];
  return Array.from({ length: rng.int(1, 3) }, () => drawFault(rng));
}

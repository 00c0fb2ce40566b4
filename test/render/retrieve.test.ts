/**
 * #15.1: render jobs by id. A job started by one client is found, waited on
 * and cancelled by another (a process that never started it), from its id or
 * from what `toJSON()` gave.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError, NemoClient, RenderTimeoutError } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { useEmulatorServer } from '../helpers/msw.js';
import { drive, READY_DRAFT } from './helpers.js';

const clock = new ManualClock();
const { emulator } = useEmulatorServer({
  clock: { now: () => clock.now() },
  heartbeatMs: 0,
  renderDurationMs: 90_000,
});

function newClient(clientId: string) {
  return new NemoClient({ clientId, clientIdFile: false, logLevel: 'off', timeout: 0, clock });
}

async function startedElsewhere() {
  const first = newClient('first-process');
  const session = await first.sessions.create();
  const job = await session.render({ draft: READY_DRAFT });
  // The second client shares the user (same token), as a second process would after a crash.
  const token = await first.getToken();
  const second = new NemoClient({
    token,
    clientIdFile: false,
    logLevel: 'off',
    timeout: 0,
    clock,
  });
  return { job, session, second };
}

describe('client.renders.retrieve()', () => {
  it('finds a job by id: status(), wait() and cancel() work from a client that never started it', async () => {
    const { job, session, second } = await startedElsewhere();
    const found = await second.renders.retrieve(job.renderId);
    expect(found.renderId).toBe(job.renderId);
    // The contract's poll does not name the session: say it when you know it.
    expect(found.sessionId).toBeUndefined();
    const named = await second.renders.retrieve(job.renderId, { sessionId: session.id });
    expect(named.toJSON()).toEqual({ renderId: job.renderId, sessionId: session.id });
    expect(found.lastStatus?.status).toBe('pending');
    expect((await found.status()).status).toBe('pending');

    const result = await drive(clock, found.wait());
    expect(result.renderId).toBe(job.renderId);
    expect(result.url).toMatch(/\/renders\/render_.*\.mp4/);
    expect(emulator.render(job.renderId)?.status).toBe('completed');
  });

  it('cancels a job it did not start', async () => {
    const { job, second } = await startedElsewhere();
    const found = await second.renders.retrieve(job.renderId);
    await found.cancel();
    expect(emulator.render(job.renderId)?.status).toBe('cancelled');
  });

  it('rebuilds a job from toJSON(): { renderId, sessionId, startedAt }, and keeps the schedule’s pace', async () => {
    const { job, session, second } = await startedElsewhere();
    const saved = JSON.parse(JSON.stringify(job)) as unknown;
    expect(saved).toEqual({
      renderId: job.renderId,
      sessionId: session.id,
      startedAt: new Date(clock.now()).toISOString(),
    });
    await clock.advance(60_000); // the first process died a minute ago
    const again = await second.renders.retrieve(
      saved as Parameters<typeof second.renders.retrieve>[0],
    );
    expect(again.toJSON()).toEqual(saved);
    const before = clock.now();
    await drive(clock, again.wait());
    // 61 s, 91 s after the start: steady cadence, no fresh burst of 1, 2, 4 s polls
    expect(clock.now() - before).toBe(31_000);
  });

  it('an unknown id fails at retrieve() with the service’s error', async () => {
    const { second } = await startedElsewhere();
    const error = await second.renders.retrieve('render_0_unknown').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).httpStatus).toBe(404);
  });

  it('refuses what is neither an id nor a toJSON() object', async () => {
    const { second } = await startedElsewhere();
    for (const bad of ['', '  ', { sessionId: 'x' }, null, 42]) {
      await expect(second.renders.retrieve(bad as never)).rejects.toBeInstanceOf(ConfigError);
    }
  });

  it('RenderTimeoutError names the call that resumes the wait, and that call works', async () => {
    const { job, second } = await startedElsewhere();
    const error = await drive(clock, job.wait({ maxWait: 20_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderTimeoutError);
    const { renderId, message } = error as RenderTimeoutError;
    expect(renderId).toBe(job.renderId);
    const call = /\(await client\.renders\.retrieve\('([^']+)'\)\)\.wait\(\)/.exec(message);
    expect(call?.[1]).toBe(job.renderId);
    const resumed = await drive(clock, (await second.renders.retrieve(renderId)).wait());
    expect(resumed.renderId).toBe(job.renderId);
  });
});

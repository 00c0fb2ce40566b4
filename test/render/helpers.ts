import { flush, type ManualClock } from '../helpers/manual-clock.js';

/**
 * Settle `promise` while moving `clock` forward to each pending sleep in turn,
 * so poll loops run without real waiting. Sleeps longer than `maxAdvance`
 * (a download's overall deadline, an hour) are left alone: real I/O settles the
 * promise meanwhile.
 */
export async function drive<T>(
  clock: ManualClock,
  promise: Promise<T>,
  maxSteps = 2000,
  maxAdvance = 30 * 60_000,
): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < maxSteps && !settled; i++) {
    const next = clock.untilNext();
    if (next !== undefined && next <= maxAdvance) await clock.advance(next);
    else await flush();
  }
  return promise;
}

/** The emulator's example draft shape (docs/testing.md), with an unknown key to prove round-tripping. */
export const READY_DRAFT = {
  t: [
    {
      tt: 0,
      sg: [
        {
          id: 'seg_v1',
          st: 0,
          du: 10000,
          nm: 'city.mp4',
          src: 'https://cdn.x/city.mp4',
          fx: 'keep',
        },
      ],
    },
    { tt: 7, sg: [{ id: 'seg_t1', st: 0, du: 3000, nm: 'Title', txt: 'Urban Dreams' }] },
  ],
  d: 10000,
  m: { title: 'project', width: 1920, height: 1080 },
  zz: { unknown: true },
};

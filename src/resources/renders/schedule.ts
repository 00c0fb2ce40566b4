import type { BackendProfile } from '../../core/backend.js';

/** The part of the backend profile that shapes a render wait. */
export type PollSchedule = Pick<
  BackendProfile['render'],
  'firstPollDelayMs' | 'pollBackoff' | 'pollIntervalMs'
>;

/**
 * The wait before poll `n` (0-based) of a job: `firstPollDelayMs × pollBackoff^n`,
 * at most `pollIntervalMs`. With the defaults: 1, 2, 4, 8, 16, then 30 s.
 */
export function pollDelay(schedule: PollSchedule, n: number): number {
  const interval = Math.max(0, schedule.pollIntervalMs);
  const first = Math.min(interval, Math.max(0, schedule.firstPollDelayMs));
  const backoff = Math.max(1, schedule.pollBackoff);
  // 2^60 × 1 ms is far above any interval: stop growing before the float overflows.
  return Math.min(interval, first * backoff ** Math.min(n, 60));
}

/**
 * The wait from `ageMs` (time since the job started) to its next scheduled
 * poll. The schedule is a function of the job's age, so a second `wait()` on
 * an old job polls at the steady cadence instead of starting fast again.
 */
export function nextPollDelay(schedule: PollSchedule, ageMs: number): number {
  const age = Math.max(0, ageMs);
  let at = 0;
  for (let n = 0; ; n++) {
    const delay = pollDelay(schedule, n);
    if (delay <= 0) return 0;
    if (delay >= schedule.pollIntervalMs) {
      // Steady cadence from here on: jump straight to the first poll after `age`.
      if (at + delay > age) return at + delay - age;
      const steps = Math.floor((age - at) / delay) + 1;
      return at + steps * delay - age;
    }
    at += delay;
    if (at > age) return at - age;
  }
}

/** The times (ms after the job start) of its first `count` polls: for docs and tests. */
export function pollTimes(schedule: PollSchedule, count: number): number[] {
  const times: number[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    at += pollDelay(schedule, n);
    times.push(at);
  }
  return times;
}

/**
 * The request log (`emulator.requests`) and the counters per route (`emulator.stats()`).
 * Counters are kept apart from the log, so they stay exact when the log is capped.
 *
 * @module
 */

import type { EmulatorStats, RecordedRequest, RouteStats } from './types.js';

/** Every request received, and counters per route. */
export class RequestLog {
  /** Oldest first. */
  readonly requests: RecordedRequest[] = [];
  #stats = new Map<string, RouteStats>();

  constructor(readonly limit: number = Infinity) {}

  /** Log a request as it arrives. */
  add(record: RecordedRequest): void {
    this.requests.push(record);
    if (this.requests.length > this.limit) {
      // Drop in batches, so a capped log costs O(1) per request on average.
      this.requests.splice(0, Math.max(1, Math.ceil(this.limit / 10)));
    }
    this.#route(record.route).count++;
  }

  /** Note the status answered. */
  answered(record: RecordedRequest, status: number): void {
    record.status = status;
    const statuses = this.#route(record.route).statuses;
    const key = String(status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }

  /** Count bytes of a file body handed to the connection. */
  sent(record: RecordedRequest, bytes: number): void {
    record.bytesSent = (record.bytesSent ?? 0) + bytes;
    this.#route(record.route).bytesSent += bytes;
  }

  /** A copy of the counters. */
  stats(): EmulatorStats {
    const out: EmulatorStats = {};
    for (const [key, s] of this.#stats) {
      out[key] = { count: s.count, statuses: { ...s.statuses }, bytesSent: s.bytesSent };
    }
    return out;
  }

  reset(): void {
    this.requests.length = 0;
    this.#stats = new Map();
  }

  #route(key: string): RouteStats {
    let s = this.#stats.get(key);
    if (!s) {
      s = { count: 0, statuses: {}, bytesSent: 0 };
      this.#stats.set(key, s);
    }
    return s;
  }
}

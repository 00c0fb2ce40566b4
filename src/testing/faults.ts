/**
 * Fault injection: the registry of faults (`emulator.fail()`), the answer a fault gives in
 * place of the endpoint, and the body shaping of cut and stalled downloads. Stream faults of
 * `/run_sse` are applied by the SSE writer (sse.ts) from the fault the request took.
 *
 * @module
 */

import { statusForCode } from './errors.js';
import type { ErrorStatusMode, FaultHandle, FaultOptions } from './types.js';
import { compilePath, jsonResponse } from './util.js';

/** A registered fault. */
export interface Fault {
  id: string;
  /** The route as given (`'POST /run_sse'`, or a RegExp's source). */
  route: string;
  method: string | undefined;
  path: RegExp;
  options: FaultOptions;
  remaining: number;
}

/** A fault as listed by the control API. */
export interface FaultInfo {
  id: string;
  route: string;
  options: FaultOptions;
  remaining: number;
}

/** The faults in force. */
export class Faults {
  #faults: Fault[] = [];
  #next = 1;

  /** Register a fault; see `Emulator.fail()`. */
  add(route: string | RegExp, options: FaultOptions): FaultHandle & { readonly id: string } {
    let method: string | undefined;
    let path: RegExp;
    if (route instanceof RegExp) path = route;
    else {
      const m = /^(?:([A-Za-z]+|\*)\s+)?(\S+)$/.exec(route.trim());
      if (!m?.[2]) throw new TypeError(`emulator.fail: bad route "${route}"; use "POST /run_sse"`);
      method = m[1] && m[1] !== '*' ? m[1].toUpperCase() : undefined;
      path = compilePath(m[2]);
    }
    const times = options.times ?? 1;
    if (!(times > 0)) throw new TypeError(`emulator.fail: times must be positive, got ${times}`);
    const fault: Fault = {
      id: `f${this.#next++}`,
      route: route instanceof RegExp ? String(route) : route.trim(),
      method,
      path,
      options: { ...options },
      remaining: times,
    };
    this.#faults.push(fault);
    const remove = () => this.remove(fault.id);
    return {
      id: fault.id,
      get remaining() {
        return fault.remaining;
      },
      remove,
    };
  }

  /** Take one application of the first fault matching the request, if any. */
  take(method: string, path: string): Fault | undefined {
    for (const f of this.#faults) {
      if (f.remaining <= 0) continue;
      if (f.method && f.method !== method) continue;
      f.path.lastIndex = 0;
      if (!f.path.test(path)) continue;
      f.remaining--;
      if (f.remaining <= 0) this.remove(f.id);
      return f;
    }
    return undefined;
  }

  /** Remove a fault; false when there was none with this id. */
  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length < before;
  }

  list(): FaultInfo[] {
    return this.#faults.map((f) => ({
      id: f.id,
      route: f.route,
      options: { ...f.options },
      remaining: f.remaining,
    }));
  }

  clear(): void {
    this.#faults = [];
  }
}

/** True when the fault answers in place of the endpoint. */
export function answersInstead(o: FaultOptions): boolean {
  return o.status !== undefined || o.code !== undefined || o.body !== undefined;
}

/** The answer of a fault with `status`, `code` or `body`. */
export function faultResponse(o: FaultOptions, errorStatus: ErrorStatusMode): Response {
  const status = o.status ?? (o.code !== undefined ? statusForCode(o.code, errorStatus) : 200);
  const headers = { ...(o.headers ?? {}) };
  if (o.body !== undefined) {
    if (typeof o.body === 'string') {
      return new Response(o.body, {
        status,
        headers: { 'content-type': 'text/plain', ...headers },
      });
    }
    return jsonResponse(o.body, status, headers);
  }
  const message = o.message ?? 'Emulated failure';
  const body = o.code !== undefined ? { code: o.code, message, data: null } : { message };
  return jsonResponse(body, status, headers);
}

/** True when the fault shapes the endpoint's body (a cut or a stall after N bytes). */
export function shapesBody(o: FaultOptions): boolean {
  return o.cutAfterBytes !== undefined || o.stallAfterBytes !== undefined;
}

/**
 * The response with its body stopped after N bytes: cut (`cutAfterBytes`: a network error,
 * or a clean end with `cutMode: 'close'`) or stalled (`stallAfterBytes`: nothing more until
 * the client goes away or `open`'s closers run on reset/close).
 */
export function shapeBody(response: Response, o: FaultOptions, open: Set<() => void>): Response {
  const source = response.body;
  if (!source) return response;
  const stall = o.stallAfterBytes !== undefined;
  const limit = (stall ? o.stallAfterBytes : o.cutAfterBytes) ?? 0;
  let sent = 0;
  const reader = source.getReader();
  let release: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (sent >= limit) {
          await reader.cancel();
          if (stall) {
            // Hold the connection open: end it only when the emulator resets or closes.
            await new Promise<void>((resolve) => {
              release = () => {
                open.delete(close);
                resolve();
              };
              const close = () => {
                release?.();
                try {
                  controller.error(new Error('emulator: stalled download closed'));
                } catch {
                  // already closed
                }
              };
              open.add(close);
            });
            return;
          }
          if (o.cutMode === 'close') controller.close();
          else controller.error(new Error('emulator: connection cut (fault injection)'));
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        const room = limit - sent;
        const chunk = value.byteLength > room ? value.subarray(0, room) : value;
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel(reason) {
        release?.();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const headers = new Headers(response.headers);
  return new Response(body, { status: response.status, headers });
}

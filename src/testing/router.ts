/**
 * A small router in the manner of Hono: routes are data (method + path pattern → optional
 * middleware → handler), a handler gets a context and returns a `Response` or throws (errors
 * become responses in one place, the app). Middleware here resolves variables for the
 * handler (the authenticated user) or throws; it is declared on the route, not called by
 * the handler.
 *
 * Why not Hono itself: the emulator has twenty routes and its own node:http adaptor tuned
 * for streaming uploads with backpressure; Hono would add a bundled dependency to the
 * testing entry for a matcher this file does in a few lines.
 *
 * @module
 */

import { badRequest } from './errors.js';
import type { Fault } from './faults.js';
import type { RequestLog } from './log.js';
import type { Store } from './store.js';
import type { RecordedRequest } from './types.js';
import { compilePath, matchPath } from './util.js';

/** What every handler can reach: the state, the request log, the open streams. */
export interface Env {
  store: Store;
  log: RequestLog;
  /** Closers of open streams (SSE turns, stalled downloads), run on reset/close. */
  streams: Set<() => void>;
}

/** The context of one request. `vars` holds what the route's middleware resolved. */
export class Context<V = unknown> {
  constructor(
    readonly request: Request,
    readonly url: URL,
    readonly params: Readonly<Record<string, string>>,
    readonly record: RecordedRequest,
    readonly fault: Fault | undefined,
    readonly env: Env,
    /** Set once, by the route's middleware. */
    public vars: V,
  ) {}

  /** The JSON body (undefined when empty), recorded in the request log; 400 when not JSON. */
  async json(): Promise<unknown> {
    const text = await this.request.text();
    if (text.trim() === '') {
      this.record.body = { type: 'none' };
      return undefined;
    }
    try {
      const value: unknown = JSON.parse(text);
      this.record.body = { type: 'json', value };
      return value;
    } catch {
      this.record.body = { type: 'text', length: text.length, text: text.slice(0, 200) };
      throw badRequest('request body is not valid JSON');
    }
  }
}

/** A route handler. */
export type Handler<V = unknown> = (c: Context<V>) => Response | Promise<Response>;
/** Middleware: resolves the handler's variables from the request, or throws. */
export type Middleware<V> = (c: Context) => V | Promise<V>;

/** One entry of a route table. */
export interface Route {
  method: string;
  pattern: string;
  /** `'METHOD /pattern'`: the route's name in the request log and `stats()`. */
  key: string;
  re: RegExp;
  /** Run the middleware, then the handler. */
  run(c: Context): Promise<Response>;
}

/** A route without middleware. */
export function route(method: string, pattern: string, handler: Handler): Route;
/** A route whose handler gets what `middleware` resolves (e.g. the bearer's user). */
export function route<V>(
  method: string,
  pattern: string,
  middleware: Middleware<V>,
  handler: Handler<V>,
): Route;
export function route<V>(
  method: string,
  pattern: string,
  a: Handler | Middleware<V>,
  b?: Handler<V>,
): Route {
  const run: Route['run'] =
    b === undefined
      ? async (c) => (a as Handler)(c)
      : async (c) => {
          const vars = await (a as Middleware<V>)(c);
          return b(new Context(c.request, c.url, c.params, c.record, c.fault, c.env, vars));
        };
  return { method, pattern, key: `${method} ${pattern}`, re: compilePath(pattern), run };
}

/** The outcome of matching a request against a route table. */
export type Match =
  | { route: Route; params: Record<string, string> }
  | { route: undefined; methodNotAllowed: boolean };

/** A route table. */
export class Router {
  constructor(readonly routes: readonly Route[]) {}

  /** The first route matching method and path; else whether the path exists for another method. */
  match(method: string, path: string): Match {
    let methodNotAllowed = false;
    for (const r of this.routes) {
      const params = matchPath(r.re, path);
      if (!params) continue;
      if (r.method === method) return { route: r, params };
      methodNotAllowed = true;
    }
    return { route: undefined, methodNotAllowed };
  }
}

/**
 * The request pipeline (the app): log the request → match a route → apply a fault →
 * middleware and handler → turn a thrown error into its response (here, and only here) →
 * note the status. API and CDN requests have their own route tables; control API requests
 * (`/_emulator/…` on the API side) bypass the log, the counters and the faults.
 *
 * @module
 */

import { HttpError, toResponse } from './errors.js';
import { answersInstead, type Faults, faultResponse, shapeBody, shapesBody } from './faults.js';
import { CONTROL_PREFIX } from './handlers/control.js';
import { Context, type Env, type Router } from './router.js';
import type { RecordedRequest } from './types.js';
import { delay } from './util.js';

/** Route tables of the three sides. */
export interface Tables {
  api: Router;
  cdn: Router;
  control: Router;
}

/** Serves requests. */
export class App {
  constructor(
    readonly env: Env,
    readonly faults: Faults,
    readonly tables: Tables,
  ) {}

  /** Answer one request as the API or the CDN. */
  async fetch(request: Request, side: 'api' | 'cdn'): Promise<Response> {
    const { store, log } = this.env;
    const url = new URL(request.url);
    let path = url.pathname;
    if (side === 'api' && store.basePath !== '' && path.startsWith(`${store.basePath}/`)) {
      path = path.slice(store.basePath.length);
    }
    if (side === 'api' && path.startsWith(`${CONTROL_PREFIX}/`)) {
      return this.#control(request, url, path);
    }
    const method = request.method.toUpperCase();
    const match = this.tables[side].match(method, path);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const record: RecordedRequest = {
      origin: side,
      method,
      url: request.url,
      path,
      query: Object.fromEntries(url.searchParams),
      headers,
      body:
        method === 'GET' || method === 'HEAD' || !request.body
          ? { type: 'none' }
          : { type: 'unread' },
      at: store.now(),
      route: match.route ? match.route.key : `${method} (unmatched)`,
    };
    log.add(record);
    let response: Response;
    try {
      const fault = this.faults.take(method, path);
      if (fault?.options.delayMs) await delay(fault.options.delayMs, request.signal);
      if (fault && answersInstead(fault.options)) {
        response = faultResponse(fault.options, store.settings.errorStatus);
      } else if (!match.route) {
        throw match.methodNotAllowed
          ? new HttpError(405, { message: `Method ${method} not allowed on ${path}` })
          : new HttpError(404, { message: `Not found: ${method} ${path}` });
      } else {
        const c = new Context(request, url, match.params, record, fault, this.env, undefined);
        response = await match.route.run(c);
        if (fault && shapesBody(fault.options)) {
          response = shapeBody(response, fault.options, this.env.streams);
        }
      }
    } catch (error) {
      response = toResponse(error, store.settings);
    }
    log.answered(record, response.status);
    return response;
  }

  async #control(request: Request, url: URL, path: string): Promise<Response> {
    const method = request.method.toUpperCase();
    const match = this.tables.control.match(method, path);
    try {
      if (!match.route) {
        throw new HttpError(match.methodNotAllowed ? 405 : 404, {
          message: `control API: no ${method} ${path} (see docs/testing.md)`,
        });
      }
      const record: RecordedRequest = {
        origin: 'api',
        method,
        url: request.url,
        path,
        query: {},
        headers: {},
        body: { type: 'none' },
        at: this.env.store.now(),
        route: match.route.key,
      };
      const c = new Context(request, url, match.params, record, undefined, this.env, undefined);
      return await match.route.run(c);
    } catch (error) {
      // A control given bad arguments throws a TypeError/RangeError: the caller's mistake.
      if (error instanceof TypeError || error instanceof RangeError) {
        return toResponse(
          new HttpError(400, { message: `control API: ${error.message}` }),
          this.env.store.settings,
        );
      }
      return toResponse(error, this.env.store.settings);
    }
  }
}

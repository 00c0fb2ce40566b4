/**
 * Errors a handler throws, and the one place that turns them into responses. Handlers never
 * build error responses themselves: they throw, and `toResponse()` picks the wire shape the
 * contract gives that kind of failure (a JSON code, a bare HTTP status, a render envelope).
 *
 * @module
 */

import { CODES } from './protocol.js';
import type { ErrorStatusMode, RenderShape } from './types.js';
import { jsonResponse } from './util.js';

/** A failure carried by a JSON `code` (1001, 1002, 2001, 4001, 4002): `{"code","message","data":null}`. */
export class ApiCodeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A failure carried by the HTTP status, with a body given as is (400, 402, 404, 405, 429…). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** A failure of the render endpoints: `{"error"}` or `{"success":false,"error"}` by `renderShape`. */
export class RenderError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A failure answered in plain text, as a CDN does (404, expired URLs). */
export class PlainError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A malformed request: HTTP 400 `{"code":4000,"message"}` (4000 is emulator-specific). */
export function badRequest(message: string): HttpError {
  return new HttpError(400, { code: CODES.badRequest, message, data: null });
}

/** A bare status with `{"message"}` (no JSON code), e.g. 400 for a missing client id. */
export function statusError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): HttpError {
  return new HttpError(status, { message }, headers);
}

const SEMANTIC_STATUS: Record<number, number> = {
  [CODES.tokenInvalid]: 401,
  [CODES.sessionNotFound]: 404,
  [CODES.outOfCredits]: 403,
  [CODES.unsupportedType]: 415,
  [CODES.fileTooLarge]: 413,
};

/** The HTTP status sent with a JSON code: 200, or a matching status in `'semantic'` mode. */
export function statusForCode(code: number, mode: ErrorStatusMode): number {
  return mode === 'semantic' ? (SEMANTIC_STATUS[code] ?? 400) : 200;
}

/** What the error mapping needs to know of the current settings. */
export interface ErrorSettings {
  errorStatus: ErrorStatusMode;
  renderShape: RenderShape;
}

/** Turn anything a handler threw into the response the contract gives it. */
export function toResponse(error: unknown, settings: ErrorSettings): Response {
  if (error instanceof ApiCodeError) {
    return jsonResponse(
      { code: error.code, message: error.message, data: null },
      statusForCode(error.code, settings.errorStatus),
    );
  }
  if (error instanceof HttpError) return jsonResponse(error.body, error.status, error.headers);
  if (error instanceof PlainError) {
    return new Response(error.message, {
      status: error.status,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  if (error instanceof RenderError) {
    return jsonResponse(
      settings.renderShape === 'wrapped'
        ? { success: false, error: error.message }
        : { error: error.message },
      error.status,
    );
  }
  return jsonResponse(
    {
      code: 500,
      message: `emulator error: ${error instanceof Error ? error.message : String(error)}`,
    },
    500,
  );
}

import * as z from 'zod/mini';
import type { ClientContext } from '../../core/context.js';
import { idString } from '../../core/schema.js';
import type { RequestOptions } from '../../core/transport.js';
import { ConfigError } from '../../errors/errors.js';
import { Session } from './session.js';

const createSessionData = z.pipe(
  z.looseObject({
    session_id: idString,
    task_id: z.optional(z.nullable(idString)),
    user_id: z.optional(z.nullable(idString)),
  }),
  z.transform((d) => ({
    id: d.session_id,
    taskId: d.task_id ?? undefined,
    userId: d.user_id ?? undefined,
  })),
);

/** Options of {@link SessionsResource.create}. */
export interface CreateSessionOptions extends RequestOptions {
  /** ISO language code for the agent's replies (`en`, `zh-CN`, …). Default `en`. */
  language?: string | undefined;
  /** Task name. Default `project`. */
  taskName?: string | undefined;
}

/** `client.sessions`: editing sessions. */
export class SessionsResource {
  readonly #ctx: ClientContext;

  /** @internal Use `client.credits` / `client.sessions`. */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /**
   * Create an editing session.
   *
   * Replay policy: retried on 408/5xx/connection failures; a duplicate empty
   * session costs nothing, since credits are spent only by messages.
   *
   * @example
   * ```ts
   * const session = await client.sessions.create({ language: 'en' });
   * console.log(session.id); // "5529798706024415232"
   * ```
   */
  async create(options: CreateSessionOptions = {}): Promise<Session> {
    const { language, taskName, ...request } = options;
    const defaults = this.#ctx.backend.sessionDefaults;
    const info = await this.#ctx.transport.json({
      ...request,
      method: 'POST',
      path: this.#ctx.backend.paths.createSession,
      json: { task_name: taskName ?? defaults.taskName, language: language ?? defaults.language },
      replay: 'safe',
      schema: createSessionData,
      what: 'the create-session response',
    });
    return new Session(this.#ctx, info);
  }

  /**
   * A handle on an existing session, without a request. Its id is kept as a
   * string (session ids exceed `Number.MAX_SAFE_INTEGER`).
   *
   * @example
   * ```ts
   * const session = client.sessions.open('5529798706024415232');
   * const state = await session.state();
   * ```
   */
  open(id: string, info: { taskId?: string; userId?: string } = {}): Session {
    if (typeof id !== 'string' || id.trim() === '') {
      throw new ConfigError(
        `sessions.open() needs the session id as a non-empty string (got ${JSON.stringify(id)}). Keep ids as strings: they do not fit in a JS number.`,
      );
    }
    return new Session(this.#ctx, { id: id.trim(), taskId: info.taskId, userId: info.userId });
  }
}

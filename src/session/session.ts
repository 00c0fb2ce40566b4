import type { ClientContext } from '../core/context.js';

/** What identifies a session. */
export interface SessionInfo {
  id: string;
  taskId: string | undefined;
  userId: string | undefined;
}

/** Client internals per session, out of users' reach (see {@link contextOf}). */
const contexts = new WeakMap<Session, ClientContext>();

/** @internal The client context behind a session, for the layers. */
export function contextOf(session: Session): ClientContext {
  const ctx = contexts.get(session);
  if (!ctx) throw new Error('nemovideo internal error: session without a client');
  return ctx;
}

/**
 * An editing session: chat, uploads, state and render hang here.
 * Get one from `client.sessions.create()` or `client.sessions.open(id)`.
 */
export class Session {
  /** The session id, a numeric string. */
  readonly id: string;
  readonly taskId: string | undefined;
  readonly userId: string | undefined;

  constructor(ctx: ClientContext, info: SessionInfo) {
    contexts.set(this, ctx);
    this.id = info.id;
    this.taskId = info.taskId;
    this.userId = info.userId;
  }

  /** A plain description (no client internals). */
  toJSON(): SessionInfo {
    return { id: this.id, taskId: this.taskId, userId: this.userId };
  }

  // ── chat (layer: src/chat) ──

  // ── upload (layer: src/upload) ──

  // ── state (layer: src/state) ──

  // ── render and export (layer: src/render) ──
}

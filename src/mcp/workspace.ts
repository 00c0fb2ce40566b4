/**
 * What the server remembers while it runs: the client, the allowed folders, the sessions it
 * saw, the last chat turn of each session (so a turn that outlives its tool call can still be
 * reported) and the renders it started. One per server process; every connection shares it.
 *
 * @module
 */

import type { AllowedFolders } from './files.js';
import type { Scrubber } from './results.js';
import type { LastTurn, NextTool } from './schemas.js';
import type { NemoClient, RenderJob, RenderStatus, Session } from './sdk.js';

/** A chat turn sent by send_message. */
export interface TurnRecord {
  sessionId: string;
  message: string;
  sentAt: Date;
  status: LastTurn['status'];
  reply?: string | undefined;
  changes?: string | undefined;
  error?: string | undefined;
  nextTools?: NextTool[] | undefined;
}

/** A render started by export_video. */
export interface RenderRecord {
  id: string;
  /** Unknown for a render retrieved by id when the service does not say. */
  sessionId: string | undefined;
  job: RenderJob;
  last?: RenderStatus | undefined;
  /** Where export_video saved it. */
  path?: string | undefined;
}

/** The state shared by the tools. */
export class Workspace {
  readonly client: NemoClient;
  readonly folders: AllowedFolders;
  readonly scrubber: Scrubber;
  /** A line for the server log (stderr), credentials scrubbed. */
  readonly log: (message: string) => void;
  /** Aborted when the server shuts down: every call and background turn stops. */
  readonly shutdown = new AbortController();
  readonly turns = new Map<string, TurnRecord>();
  readonly renders = new Map<string, RenderRecord>();
  readonly #sessions = new Map<string, Session>();
  readonly #work = new Set<Promise<unknown>>();

  constructor(
    client: NemoClient,
    folders: AllowedFolders,
    scrubber: Scrubber,
    log: (message: string) => void,
  ) {
    this.client = client;
    this.folders = folders;
    this.scrubber = scrubber;
    this.log = (message) => log(scrubber.text(message));
  }

  /** The session with this id (opened lazily; the service says when it does not exist). */
  session(id: string): Session {
    let session = this.#sessions.get(id);
    if (!session) {
      session = this.client.sessions.open(id);
      this.#sessions.set(id, session);
    }
    return session;
  }

  /** Remember a session created here. */
  remember(session: Session): void {
    this.#sessions.set(session.id, session);
  }

  /** Ids of the sessions used through this server, oldest first. */
  get sessionIds(): string[] {
    return [...this.#sessions.keys()];
  }

  /** A signal that aborts on `signal` or on shutdown. */
  signal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.shutdown.signal]);
  }

  /** Track work that must finish (or clean up) before the process exits. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#work.add(promise);
    const done = () => this.#work.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** Stop everything and wait (at most `limitMs`) for the work in flight to clean up. */
  async close(limitMs: number): Promise<void> {
    this.shutdown.abort(new Error('The MCP server is shutting down.'));
    if (this.#work.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#work]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, limitMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * What every live connection shares: a cursor into the log, flow-controlled replay, the live
 * fast path that writes a shared batch, the slow-client cutoff, pause, and one end path.
 * Subclasses only know how to put bytes on their socket.
 *
 * The server's internal classes use TypeScript `private` rather than `#private` (STYLE): the
 * build targets ES2020, where `#fields` become a WeakMap lookup per access, and these are read
 * per connection per batch on the broadcast path. None of these classes is exported.
 */
import type { IncomingMessage } from 'node:http';
import type { Batch, EventLog } from './event-log';
import { toBatches } from './event-log';
import type { ResolvedHubOptions } from './options';
import type { HubConnection, HubTransport } from './types';

/**
 * How long a goodbye (close frame, end of stream) may take before the socket is destroyed. `ws`
 * alone waits 30 s for a close answer, which would hold `hub.close()` and a timer that long.
 */
export const CLOSE_GRACE_MS = 1000;

/** What a session needs from its hub. */
export interface SessionHost {
  readonly log: EventLog;
  readonly options: ResolvedHubOptions;
  /** Called once when the session has ended, whatever ended it. */
  removed(session: Session): void;
}

/** One live connection. Internal: users see its {@link HubConnection} facade. */
export abstract class Session {
  readonly id: string;
  readonly transport: HubTransport;
  readonly req: IncomingMessage;
  /** The facade handed out by `hub.connections()`. */
  readonly connection: HubConnection;
  /** Resolves once the connection has ended and the hub forgot it. */
  readonly ended: Promise<void>;
  protected readonly host: SessionHost;
  /** The id of the last event written; events after it are still owed. */
  protected cursor: number;
  private isPaused = false;
  private isDone = false;
  /** True while a replay waits for the socket to flush before writing more. */
  private waiting = false;
  private resolveEnded!: () => void;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(host: SessionHost, id: string, transport: HubTransport, req: IncomingMessage, cursor: number) {
    this.host = host;
    this.id = id;
    this.transport = transport;
    this.req = req;
    this.cursor = cursor;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.connection = Object.freeze({
      id,
      transport,
      req,
      close: () => this.drop(),
      pause: () => this.pause(),
    });
  }

  /** True once the hub was told to stop writing to it. */
  get paused(): boolean {
    return this.isPaused;
  }

  /** True once it ended. */
  get done(): boolean {
    return this.isDone;
  }

  /** Unsent bytes held for this connection. */
  abstract buffered(): number;
  /** Hard drop: destroy the socket. Must lead to {@link finish}. */
  abstract drop(): void;
  /** `disconnectAll`: a goodbye that asks the client to come back. */
  abstract restart(): void;
  /** `close`: a goodbye for good; resolves when the connection is gone. */
  abstract shutdown(): Promise<void>;
  /** Writes one heartbeat, if this transport has them. */
  abstract heartbeat(): void;
  /** Puts bytes on the socket; `flushed` runs once they left the process (or failed). */
  protected abstract write(batch: Batch, flushed?: () => void): void;

  /** Stop writing for good; see {@link HubConnection.pause}. */
  pause(): void {
    this.isPaused = true;
  }

  /**
   * A live batch from the hub's flush. A connection at the live head gets the shared frame; one
   * still replaying ignores it (its replay reads the log); one behind catches up from the log.
   */
  offer(batch: Batch): void {
    if (this.isDone || this.isPaused || this.waiting || this.cursor >= batch.last) return;
    if (this.cursor !== batch.first - 1) {
      this.replay();
      return;
    }
    // Checked before writing: a client is cut when it still holds more than the limit unsent
    // and more is coming, so one batch bigger than the limit does not cut a healthy reader.
    if (this.cutIfBacklogged()) return;
    this.write(batch);
    this.cursor = batch.last;
  }

  /**
   * Writes every held event after the cursor, pausing whenever half of `maxBufferedBytes` is
   * queued until the socket flushed: a large history must not trip the slow-client cutoff, nor
   * sit in memory as one huge write.
   */
  protected replay(): void {
    const soft = this.host.options.maxBufferedBytes / 2;
    while (!this.isDone && !this.isPaused && !this.waiting) {
      const entries = this.host.log.after(this.cursor);
      if (entries === null) {
        // It fell behind the ring while catching up: no lossless way on from here. Dropping it
        // makes the client reconnect, and that hello tells it `resumed: false`.
        this.drop();
        return;
      }
      if (entries.length === 0 || this.cutIfBacklogged()) return;
      for (const batch of toBatches(entries)) {
        if (this.buffered() + batch.size >= soft) {
          this.waiting = true;
          this.write(batch, () => {
            this.waiting = false;
            this.replay();
          });
        } else {
          this.write(batch);
        }
        this.cursor = batch.last;
        if (this.waiting) break;
      }
    }
  }

  /**
   * The slow-client cutoff: a client that stopped reading is destroyed once more than
   * `maxBufferedBytes` wait for it. Returns whether it was cut.
   */
  protected cutIfBacklogged(): boolean {
    if (this.isDone) return true;
    if (this.buffered() <= this.host.options.maxBufferedBytes) return false;
    this.drop();
    return true;
  }

  /**
   * Says goodbye (a close frame, the end of a stream) and destroys the socket if it has not
   * closed within {@link CLOSE_GRACE_MS}: a peer that stopped reading would never let a goodbye
   * through, and `close()` must still resolve. A paused connection is dropped at once.
   */
  protected goodbye(say: () => void): void {
    if (this.isDone) return;
    if (this.isPaused) {
      this.drop();
      return;
    }
    say();
    this.graceTimer ??= setTimeout(() => this.drop(), CLOSE_GRACE_MS);
  }

  /** The one end path: called by subclasses from their socket's close event. Idempotent. */
  protected finish(): void {
    if (this.isDone) return;
    clearTimeout(this.graceTimer);
    this.isDone = true;
    this.host.removed(this);
    this.resolveEnded();
  }
}

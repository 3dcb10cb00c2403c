/**
 * Long-polling (DESIGN §3 "Long-polling"): a request answered as soon as one or more events are
 * pending after its cursor, or after `pollTimeout` with an empty body. Never 204, which would
 * stop clients for good.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Batch, type ResumePoint } from './event-log';
import { Session, type SessionHost } from './session';
import { EVENT_STREAM_HEADERS } from './sse-session';
import { sseHello } from './wire';

/**
 * Writes a poll answer's body in one write: with a `Content-Length` when answered at once, or
 * after the headers a held poll sent when it began.
 */
function answer(res: ServerResponse, body: string | Buffer): void {
  if (res.writableEnded || res.destroyed) return;
  if (!res.headersSent) res.writeHead(200, EVENT_STREAM_HEADERS);
  res.end(body);
}

/**
 * Serves one poll request. Answers at once when it can (no cursor: the hello alone; events
 * pending: the hello when needed and one batch); otherwise returns a held {@link PollSession}
 * for the hub to track.
 */
export function servePoll(host: SessionHost, id: string, req: IncomingMessage, res: ServerResponse, start: ResumePoint): PollSession | null {
  const hb = host.options.heartbeat;
  if (!start.given) {
    // No cursor: the answer is the newest id to start from (DESIGN §3 "id").
    answer(res, sseHello({ heartbeat: hb, id: String(start.cursor) }));
    return null;
  }
  // The hello goes only at the start of an answer that could not be fully resumed.
  const prefix = start.resumed ? '' : sseHello({ heartbeat: hb, resumed: false });
  const entries = host.log.after(start.cursor);
  if (entries !== null && entries.length > 0) {
    answer(res, prefix + new Batch(entries).sse.toString('utf8'));
    return null;
  }
  return new PollSession(host, id, req, res, start.cursor, prefix);
}

/** A poll held open until an event or its timeout. */
export class PollSession extends Session {
  private readonly res: ServerResponse;
  private readonly prefix: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(host: SessionHost, id: string, req: IncomingMessage, res: ServerResponse, cursor: number, prefix: string) {
    super(host, id, 'poll', req, cursor);
    this.res = res;
    this.prefix = prefix;
    res.on('close', () => this.finish());
    // Headers now, body later: a client counts the poll as open from its headers, so a quiet
    // channel must not look like a black hole to its openTimeout (5 s against a 25 s poll).
    res.writeHead(200, EVENT_STREAM_HEADERS);
    res.flushHeaders();
    this.timer = setTimeout(() => this.answer(''), host.options.pollTimeout);
  }

  buffered(): number {
    return this.res.writableLength;
  }

  drop(): void {
    this.res.destroy();
  }

  restart(): void {
    if (this.paused) this.drop();
    else this.answer('');
  }

  shutdown(): Promise<void> {
    this.restart();
    return this.ended;
  }

  heartbeat(): void {
    // A held poll has no heartbeat: its answer, empty or not, is the client's proof of life.
  }

  override pause(): void {
    super.pause();
    clearTimeout(this.timer);
  }

  protected override replay(): void {
    // Behind the live head (only after a burst larger than the history): answer with what the
    // log holds, or empty so that the next poll learns of the gap through its hello.
    const entries = this.host.log.after(this.cursor);
    this.answer(entries && entries.length > 0 ? new Batch(entries).sse : '');
  }

  protected write(batch: Batch): void {
    this.answer(batch.sse);
  }

  private answer(body: string | Buffer): void {
    if (this.paused || this.done) return;
    clearTimeout(this.timer);
    // Concatenating Buffers keeps the shared batch bytes as they are.
    answer(this.res, this.prefix === '' ? body : Buffer.concat([Buffer.from(this.prefix), Buffer.from(body)]));
    // Answered is over: it is no longer a pending poll, even before the socket reports it.
    this.finish();
  }

  protected override finish(): void {
    clearTimeout(this.timer);
    super.finish();
  }
}

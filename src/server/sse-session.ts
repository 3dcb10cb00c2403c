/**
 * One SSE stream (DESIGN §3 "SSE"): the opening comment, the hello, replay, live events and
 * comment heartbeats on a response that never ends by itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Batch, ResumePoint } from './event-log';
import { Session, type SessionHost } from './session';
import { SSE_HEARTBEAT, SSE_OPEN_COMMENT, sseHello } from './wire';

/** Headers of a stream and of a poll answer; `no-cache` and `X-Accel-Buffering` keep proxies from buffering. */
export const EVENT_STREAM_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
} as const;

/** An SSE session. */
export class SseSession extends Session {
  private readonly res: ServerResponse;

  constructor(host: SessionHost, id: string, req: IncomingMessage, res: ServerResponse, start: ResumePoint) {
    super(host, id, 'sse', req, start.cursor);
    this.res = res;
    // Each event should leave at once, not wait for Nagle to fill a segment.
    req.socket.setNoDelay(true);
    res.on('close', () => this.finish());
    res.writeHead(200, EVENT_STREAM_HEADERS);
    const hello = sseHello({ heartbeat: host.options.heartbeat, resumed: start.resumed, id: start.given ? undefined : String(start.cursor) });
    res.write(SSE_OPEN_COMMENT + hello);
    this.replay();
  }

  buffered(): number {
    return this.res.writableLength;
  }

  drop(): void {
    this.res.destroy();
  }

  restart(): void {
    this.goodbye(() => this.res.end());
  }

  shutdown(): Promise<void> {
    this.restart();
    return this.ended;
  }

  heartbeat(): void {
    if (this.paused || this.res.writableEnded) return;
    if (!this.cutIfBacklogged()) this.res.write(SSE_HEARTBEAT);
  }

  protected write(batch: Batch, flushed?: () => void): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(batch.sse, flushed && (() => flushed()));
  }
}

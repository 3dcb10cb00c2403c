/**
 * One WebSocket connection: hello, replay, live frames, JSON pings and pongs, inbound messages
 * with acknowledgements, and the close codes of DESIGN §4/§5.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { Batch, ResumePoint } from './event-log';
import type { Inbox } from './inbox';
import { Session, type SessionHost } from './session';
import type { HubMessage, HubMessageContext } from './types';
import { WS_PING, WS_PONG, asItems, classifyInbound, wsAck, wsHello } from './wire';

/** Close codes the hub uses (RFC 6455 §7.4 and DESIGN §4). */
export const WsClose = {
  /** `close()`: the server goes away; clients retry. */
  goingAway: 1001,
  /** `authenticate` threw: a server error; clients retry. */
  internalError: 1011,
  /** `disconnectAll()`: a restart; clients retry. */
  serviceRestart: 1012,
  /** `authenticate` said no; clients refresh their token once. */
  unauthorized: 4401,
} as const;

/** A WebSocket session. */
export class WsSession extends Session {
  private readonly socket: WebSocket;
  private readonly inbox: Inbox;
  private readonly ctx: HubMessageContext;
  /** When the client last showed life: a frame or a pong. */
  private heardAt = Date.now();

  constructor(host: SessionHost, id: string, req: IncomingMessage, ws: WebSocket, start: ResumePoint, inbox: Inbox) {
    super(host, id, 'websocket', req, start.cursor);
    this.socket = ws;
    this.inbox = inbox;
    this.ctx = Object.freeze({ transport: 'websocket' as const, req, connection: this.connection });
    ws.on('message', (data, isBinary) => {
      this.heardAt = Date.now();
      this.onFrame(data, isBinary);
    });
    ws.on('pong', () => (this.heardAt = Date.now()));
    // 'close' always follows 'error' in ws; the error itself needs no answer.
    ws.on('error', () => {});
    ws.on('close', () => this.finish());
    this.sendText(wsHello({ heartbeat: host.options.heartbeat, resumed: start.resumed, id: start.given ? undefined : String(start.cursor) }));
    this.replay();
  }

  buffered(): number {
    return this.socket.bufferedAmount;
  }

  drop(): void {
    this.socket.terminate();
  }

  restart(): void {
    this.goodbye(() => this.socket.close(WsClose.serviceRestart, 'Service Restart'));
  }

  shutdown(): Promise<void> {
    this.goodbye(() => this.socket.close(WsClose.goingAway, 'Going Away'));
    return this.ended;
  }

  heartbeat(): void {
    if (this.paused) return;
    const timeout = this.host.options.clientTimeout;
    if (timeout > 0 && Date.now() - this.heardAt > timeout) {
      // Gone without a FIN: nothing but this would ever free the socket and its session.
      this.drop();
      return;
    }
    if (this.cutIfBacklogged()) return;
    // The JSON ping is what a browser's script can see (its liveness and rtt); the protocol ping
    // is answered by every WebSocket implementation by itself, so any client proves it is there.
    this.sendText(WS_PING);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  protected write(batch: Batch, flushed?: () => void): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    // A Buffer built once per batch and sent as a text frame: no re-encoding per socket.
    this.socket.send(batch.ws, { binary: false }, flushed && (() => flushed()));
  }

  private sendText(text: string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  /**
   * One inbound frame: a JSON object or an array of them. A frame that is not JSON is skipped
   * and the connection stays: closing 1007 would only make the client reconnect and send the
   * same bytes again, and 4400 would end it for good over one bad frame. Invalid items are
   * skipped and not acknowledged; valid ones are acknowledged together after `onMessage` ran,
   * duplicates included, so a client re-sending after a reconnect learns they arrived.
   */
  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.paused || this.done) return;
    let value: unknown;
    try {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      value = JSON.parse(text);
    } catch {
      return;
    }
    void isBinary; // binary frames are read as UTF-8 text too: lenient to odd clients.
    const messages: HubMessage[] = [];
    for (const raw of asItems(value)) {
      const item = classifyInbound(raw);
      if (item.kind === 'ping') this.sendText(WS_PONG);
      else if (item.kind === 'message') messages.push(item.message);
    }
    if (messages.length === 0) return;
    this.inbox.deliver(messages, this.ctx);
    // onMessage may have closed or paused this connection.
    if (!this.paused) this.sendText(wsAck(messages.map((m) => m.mid)));
  }
}

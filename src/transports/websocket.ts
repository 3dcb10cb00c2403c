/**
 * The WebSocket transport (DESIGN §3): JSON text frames, each one event object, one control
 * object (`type`), or an array of them delivered in order.
 */
import { SurewireError } from '../errors';
import type { WebSocketLike } from '../types';
import { guardListener, isObject, noop, parseJson, platform, redact, serialise } from './common';
import { idOf, toHello } from './event-stream';
import type { Failure, TransportFactory, WireEvent } from './transport';
import { buildUrl } from './url';

// readyState value; `WebSocketLike` does not promise the static constants.
const OPEN = 1;

/**
 * Opens a WebSocket to `ctx.url` (`http(s):` becomes `ws(s):`) with `lastEventId` and
 * `access_token` as query parameters, since browsers cannot set WebSocket headers.
 *
 * Outbound: one text frame per message, `{"event","data","mid"}` exactly as DESIGN §3 shows it,
 * so that the simplest server works; `send()` resolves once every frame of the batch is handed to
 * the socket.
 *
 * Failures: an `error` or `close` before `open` is `{kind:'network'}` (a browser cannot tell a
 * refused upgrade from a network error); a `close` after `open` is `{kind:'close', code, reason}`.
 * An `error` after open is not reported by itself: [spec] it is always followed by `close`, which
 * carries the code.
 */
export const createWebSocketTransport: TransportFactory = (ctx, listener) => {
  const out = guardListener(listener);
  const { token } = ctx;
  let socket: WebSocketLike | undefined;
  let opened = false;

  /** Detaches our handlers and closes the socket if it is not closed yet. */
  const release = (): void => {
    const s = socket;
    socket = undefined;
    if (!s) return;
    // No-ops rather than null: `ws` emits `error` when a CONNECTING socket is closed, and throws
    // when nobody listens for it.
    s.onopen = s.onmessage = s.onerror = s.onclose = noop;
    // [spec] close() on a CONNECTING socket fails the connection; browsers only log a warning,
    // and `ws` aborts the handshake. Waiting for `open` instead could hold a socket to a
    // black-holed server for ever. (CONNECTING or OPEN; close(1000) itself never throws.)
    if (s.readyState <= OPEN) s.close(1000);
  };

  const end = (failure: Failure): void => {
    release();
    out.end(failure);
  };
  const fail = (cause: unknown): void => end({ kind: 'network', cause });

  /** A control frame, when the socket is open; [spec] `send()` only throws while CONNECTING. */
  const sendControl = (type: string): void => {
    if (socket?.readyState === OPEN) socket.send(`{"type":"${type}"}`);
  };

  try {
    const s = (socket = new (platform(ctx, 'WebSocket'))(buildUrl(ctx.url, { lastEventId: ctx.lastEventId(), access_token: token || undefined }, true)));
    s.onopen = () => {
      opened = true;
      out.open();
    };
    s.onmessage = ({ data: raw }) => {
      out.activity();
      // Binary frames are not part of the protocol (DESIGN §3: JSON text frames).
      if (typeof raw != 'string') return out.bad('[binary frame]');
      const value = parseJson(raw, out);
      // Not JSON: reported by parseJson (JSON is never undefined).
      if (value === undefined) return;
      let batch: WireEvent[] = [];
      // An array frame is its members, in order.
      for (const member of [value].flat()) {
        const object = isObject(member);
        const control: Record<string, unknown> = object ? member : {};
        const { id, event, type, mids } = control;
        // `{id?, event?, data}` is an event; a field of the wrong type makes it a bad payload.
        if (object && type === undefined && (event === undefined || typeof event == 'string') && (id == null || typeof id == 'string' || typeof id == 'number')) {
          batch.push({ id: idOf(id), event: event || 'message', format: 'json', data: control.data });
          continue;
        }
        // Anything else keeps its place: deliver the events before it first.
        if (batch.length) out.events(batch);
        batch = [];
        // Answer pings at once: the peer measures its round trip with them.
        if (type == 'ping') sendControl('pong');
        else if (type == 'pong') out.pong();
        else if (type == 'hello') out.hello(toHello(control));
        else if (type == 'ack' && Array.isArray(mids)) {
          const strings = mids.filter((mid): mid is string => typeof mid == 'string');
          if (strings.length) out.ack(strings);
        } else if (type === undefined) out.bad(member === value ? raw : JSON.stringify(member), new Error('not an event or control object'));
        // Unknown control frames are ignored, so that servers can add new ones. A listener that
        // closed the transport meanwhile hears nothing more (the guard) and no pong goes out
        // (the socket is released).
      }
      if (batch.length) out.events(batch);
    };
    s.onerror = (ev) => {
      // [spec] after open a close event follows; report that one.
      // Never the event itself as the cause: its `target.url` carries the token. `ws` puts the
      // platform error on it; browsers tell nothing more than "error".
      if (!opened) fail(new Error('WebSocket error', { cause: redact((ev as { error?: unknown })?.error, token) }));
    };
    s.onclose = ({ code, reason }) =>
      opened
        ? // The reason is the server's text: it may quote what it refused, the token included.
          end({ kind: 'close', code, reason: redact(reason, token) as string })
        : fail(new Error(`WebSocket closed: ${code}`));
  } catch (cause) {
    // No WebSocket, a bad URL, or a constructor that throws (SyntaxError, quoting the URL, token
    // included: redact). Reported after the factory has returned: the client may not hold the
    // transport yet.
    queueMicrotask(() => fail(redact(cause, token)));
  }

  return {
    name: 'websocket',
    async send(batch) {
      const s = socket;
      if (!opened || s?.readyState !== OPEN) throw new SurewireError('SEND_FAILED', 'WebSocket not open');
      // [spec] send() only throws while CONNECTING; the batch is serialised whole first, so that
      // an unserialisable message sends nothing of it.
      for (const frame of serialise(batch, (messages) => messages.map((m) => JSON.stringify(m)))) s.send(frame);
    },
    ping: () => sendControl('ping'),
    close() {
      out.stop();
      release();
    },
  };
};

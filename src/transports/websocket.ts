/**
 * The WebSocket transport (DESIGN §3): JSON text frames, each one event object, one control
 * object (`type`), or an array of them delivered in order.
 */
import { SurewireError } from '../errors';
import type { WebSocketConstructor, WebSocketLike } from '../types';
import { guardListener, later, noop, redact } from './common';
import { idOf, toHello } from './event-stream';
import type { TransportFactory, WireEvent } from './transport';
import { buildUrl } from './url';

// readyState values; `WebSocketLike` does not promise the static constants.
const CONNECTING = 0;
const OPEN = 1;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `{id?, event?, data}` → a wire event, or undefined when a field has the wrong type. */
function toEvent(value: Json): WireEvent | undefined {
  const { id, event } = value;
  if ((event !== undefined && typeof event !== 'string') || (id != null && typeof id !== 'string' && typeof id !== 'number')) return undefined;
  return { id: idOf(id), event: (event as string) || 'message', format: 'json', data: value.data };
}

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
    try {
      // [spec] close() on a CONNECTING socket fails the connection; browsers only log a warning,
      // and `ws` aborts the handshake. Waiting for `open` instead could hold a socket to a
      // black-holed server for ever.
      if (s.readyState === CONNECTING || s.readyState === OPEN) s.close(1000);
    } catch {
      // Already closing; nothing else to release.
    }
  };

  const failBeforeOpen = (message: string, cause?: unknown): void => {
    release();
    out.end({ kind: 'network', cause: new Error(message, cause === undefined ? undefined : { cause }) });
  };

  const send = (frame: string): void => {
    try {
      if (socket?.readyState === OPEN) socket.send(frame);
    } catch {
      // The close that follows will report it.
    }
  };

  const control = (value: Json): void => {
    const { type } = value;
    // Answer pings at once: the peer measures its round trip with them.
    if (type === 'ping') send('{"type":"pong"}');
    else if (type === 'pong') out.pong();
    else if (type === 'hello') out.hello(toHello(value, undefined));
    else if (type === 'ack' && Array.isArray(value.mids)) {
      const mids = value.mids.filter((m): m is string => typeof m === 'string');
      if (mids.length > 0) out.ack(mids);
    }
    // Unknown control frames are ignored, so that servers can add new ones.
  };

  const onMessage = (ev: { data: unknown }): void => {
    out.activity();
    const raw = ev.data;
    if (out.done) return;
    if (typeof raw !== 'string') {
      const size = (raw as { byteLength?: number; size?: number })?.byteLength ?? (raw as { size?: number })?.size;
      out.bad(`[binary frame${size === undefined ? '' : ` of ${size} bytes`}]`, new Error('binary frames are not part of the surewire protocol; send JSON text frames'));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      out.bad(raw, cause);
      return;
    }
    const members = Array.isArray(value) ? value : [value];
    let batch: WireEvent[] = [];
    for (const member of members) {
      const event = isObject(member) && member.type === undefined ? toEvent(member) : undefined;
      if (event) {
        batch.push(event);
        continue;
      }
      // Anything else keeps its place: deliver the events before it first.
      if (batch.length > 0) out.events(batch);
      batch = [];
      if (isObject(member) && member.type !== undefined) control(member);
      else out.bad(Array.isArray(value) ? String(JSON.stringify(member)) : raw, new Error('a frame must be an event or control object, or an array of them'));
      if (out.done) return;
    }
    if (batch.length > 0) out.events(batch);
  };

  try {
    const WS = (typeof ctx.WebSocket === 'function' ? ctx.WebSocket : (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket);
    if (typeof WS !== 'function') {
      later(() => failBeforeOpen("No WebSocket implementation is available: pass `WebSocket` in the client options (in Node: `import WebSocket from 'ws'`)."));
    } else {
      const s = (socket = new WS(
        buildUrl(
          ctx.url,
          [
            ['lastEventId', ctx.lastEventId()],
            ['access_token', ctx.token || undefined],
          ],
          true,
        ),
      ));
      s.onopen = () => {
        opened = true;
        out.open();
      };
      s.onmessage = onMessage;
      s.onerror = (ev) => {
        // [spec] after open a close event follows; report that one.
        if (!opened) failBeforeOpen(`The WebSocket to ${ctx.url} failed before it opened.`, redact((ev as { error?: unknown })?.error ?? ev, ctx.token));
      };
      s.onclose = (ev) => {
        if (!opened) return failBeforeOpen(`The WebSocket to ${ctx.url} closed before it opened (code ${ev.code}).`);
        socket = undefined;
        // The reason is the server's text: it may quote what it refused, the token included.
        out.end({ kind: 'close', code: typeof ev.code === 'number' ? ev.code : 1006, reason: typeof ev.reason === 'string' ? (redact(ev.reason, ctx.token) as string) : '' });
      };
    }
  } catch (cause) {
    // The constructor throws SyntaxError for a bad URL, quoting it, token included: redact.
    const clean = redact(cause, ctx.token);
    later(() => failBeforeOpen(`The WebSocket to ${ctx.url} could not be created.`, clean));
  }

  return {
    name: 'websocket',
    send(batch) {
      const s = socket;
      if (out.done || !opened || s?.readyState !== OPEN) {
        return Promise.reject(new SurewireError('SEND_FAILED', 'The WebSocket is not open; the batch was not sent.'));
      }
      let frames: string[];
      try {
        frames = batch.map(({ event, data, mid }) => JSON.stringify({ event, data, mid }));
      } catch (cause) {
        return Promise.reject(new SurewireError('BAD_OPTIONS', `The batch cannot be sent: ${(cause as Error).message}`, { cause }));
      }
      try {
        for (const frame of frames) s.send(frame);
      } catch (cause) {
        return Promise.reject(new SurewireError('SEND_FAILED', 'The WebSocket refused the frame.', { cause: redact(cause, ctx.token) }));
      }
      return Promise.resolve();
    },
    ping: () => send('{"type":"ping"}'),
    close() {
      out.stop();
      release();
    },
  };
};

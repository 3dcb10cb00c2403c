/**
 * The WebSocket transport (DESIGN §3): JSON text frames, each one event object, one control
 * object (`type`), or an array of them delivered in order.
 */
import { SurewireError } from '../errors';
import type { OutboundMessage, WebSocketConstructor, WebSocketLike } from '../types';
import { guardListener, later, noop, redact } from './common';
import { idOf, toHello } from './event-stream';
import type { GuardedListener } from './common';
import type { Transport, TransportContext, TransportFactory, WireEvent } from './transport';
import { buildUrl } from './url';

// readyState values; `WebSocketLike` does not promise the static constants.
const CONNECTING = 0;
const OPEN = 1;

const PING_FRAME = '{"type":"ping"}';
const PONG_FRAME = '{"type":"pong"}';

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
  function release(): void {
    const s = socket;
    if (!s) return;
    socket = undefined;
    // No-ops rather than null: `ws` emits `error` when a CONNECTING socket is closed, and throws
    // when nobody listens for it.
    s.onopen = noop;
    s.onmessage = noop;
    s.onerror = noop;
    s.onclose = noop;
    try {
      // [spec] close() on a CONNECTING socket fails the connection; browsers only log a warning,
      // and `ws` aborts the handshake. Waiting for `open` instead could hold a socket to a
      // black-holed server for ever.
      if (s.readyState === CONNECTING || s.readyState === OPEN) s.close(1000);
    } catch {
      // Already closing; nothing else to release.
    }
  }

  function failBeforeOpen(message: string, cause?: unknown): void {
    release();
    out.end({ kind: 'network', cause: new Error(message, cause === undefined ? undefined : { cause }) });
  }

  function onMessage(ev: { data: unknown }): void {
    out.activity();
    if (out.done) return;
    const raw = ev.data;
    if (typeof raw !== 'string') {
      out.bad(describeBinary(raw), new Error('binary frames are not part of the surewire protocol; send JSON text frames'));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      out.bad(raw, cause);
      return;
    }
    if (Array.isArray(value)) onArray(value);
    else if (isObject(value)) onObject(value, raw);
    else out.bad(raw, new Error('a frame must be a JSON object or an array of objects'));
  }

  function onObject(value: Record<string, unknown>, raw: string): void {
    if (value.type !== undefined) {
      control(value);
      return;
    }
    const event = toEvent(value);
    if (event) out.events([event]);
    else out.bad(raw, new Error('an event needs a string `event` (or none) and a string or number `id` (or none)'));
  }

  function onArray(members: unknown[]): void {
    let batch: WireEvent[] | undefined;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      const event = isObject(member) && member.type === undefined ? toEvent(member) : undefined;
      if (event) {
        (batch ??= []).push(event);
        continue;
      }
      // Anything else keeps its place: deliver the events before it first.
      if (batch) {
        out.events(batch);
        batch = undefined;
      }
      if (out.done) return;
      if (isObject(member) && member.type !== undefined) control(member);
      else out.bad(stringify(member), new Error('an array frame must hold event or control objects'));
      if (out.done) return;
    }
    if (batch) out.events(batch);
  }

  function control(value: Record<string, unknown>): void {
    switch (value.type) {
      case 'ping':
        // Answer at once: the peer measures its round trip with it.
        try {
          if (socket && socket.readyState === OPEN) socket.send(PONG_FRAME);
        } catch {
          // The close that follows will report it.
        }
        return;
      case 'pong':
        out.pong();
        return;
      case 'hello':
        out.hello(toHello(value, undefined));
        return;
      case 'ack': {
        const mids = Array.isArray(value.mids) ? value.mids.filter((m): m is string => typeof m === 'string') : [];
        if (mids.length > 0) out.ack(mids);
        return;
      }
      default:
        // Unknown control frames are ignored, so that servers can add new ones.
        return;
    }
  }

  try {
    const WS = resolveWebSocket(ctx);
    if (!WS) {
      later(() => failBeforeOpen('No WebSocket implementation is available: pass `WebSocket` in the client options (in Node: `import WebSocket from \'ws\'`).'));
    } else {
      const url = buildUrl(
        ctx.url,
        [
          ['lastEventId', ctx.lastEventId()],
          ['access_token', ctx.token || undefined],
        ],
        true,
      );
      const s = new WS(url);
      socket = s;
      s.onopen = () => {
        if (out.done) return;
        opened = true;
        out.open();
      };
      s.onmessage = onMessage;
      s.onerror = (ev) => {
        if (opened) return; // [spec] a close event follows; report that one.
        failBeforeOpen(`The WebSocket to ${ctx.url} failed before it opened.`, redact(errorOf(ev), ctx.token));
      };
      s.onclose = (ev) => {
        if (!opened) {
          failBeforeOpen(`The WebSocket to ${ctx.url} closed before it opened (code ${ev.code}).`);
          return;
        }
        socket = undefined;
        out.end({ kind: 'close', code: typeof ev.code === 'number' ? ev.code : 1006, reason: typeof ev.reason === 'string' ? ev.reason : '' });
      };
    }
  } catch (cause) {
    // The constructor throws SyntaxError for a bad URL, quoting it, token included: redact.
    const clean = redact(cause, ctx.token);
    later(() => failBeforeOpen(`The WebSocket to ${ctx.url} could not be created.`, clean));
  }

  const transport: Transport = {
    name: 'websocket',
    send(batch: OutboundMessage[]): Promise<void> {
      const s = socket;
      if (out.done || !opened || !s || s.readyState !== OPEN) {
        return Promise.reject(new SurewireError('SEND_FAILED', 'The WebSocket is not open; the batch was not sent.'));
      }
      const frames: string[] = [];
      try {
        for (const m of batch) frames.push(JSON.stringify({ event: m.event, data: m.data, mid: m.mid }));
      } catch (cause) {
        return Promise.reject(new SurewireError('BAD_OPTIONS', 'The message data cannot be serialised with JSON.stringify (a cycle or a BigInt?); send plain JSON values.', { cause }));
      }
      try {
        for (const frame of frames) s.send(frame);
      } catch (cause) {
        return Promise.reject(new SurewireError('SEND_FAILED', 'The WebSocket refused the frame.', { cause: redact(cause, ctx.token) }));
      }
      return Promise.resolve();
    },
    ping(): void {
      const s = socket;
      if (out.done || !s || s.readyState !== OPEN) return;
      try {
        s.send(PING_FRAME);
      } catch {
        // The close that follows will report it.
      }
    },
    close(): void {
      out.stop();
      release();
    },
  };
  return transport;
};

function resolveWebSocket(ctx: TransportContext): WebSocketConstructor | undefined {
  if (typeof ctx.WebSocket === 'function') return ctx.WebSocket;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof global === 'function' ? (global as WebSocketConstructor) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `{id?, event?, data}` → a wire event, or undefined when a field has the wrong type. */
function toEvent(value: Record<string, unknown>): WireEvent | undefined {
  const { id, event } = value;
  if (event !== undefined && typeof event !== 'string') return undefined;
  if (id != null && typeof id !== 'string' && typeof id !== 'number') return undefined;
  return { id: idOf(id), event: event || 'message', format: 'json', data: value.data };
}

/** A short description of a binary frame (its bytes are not text we could show). */
function describeBinary(data: unknown): string {
  let size: number | undefined;
  if (data instanceof ArrayBuffer) size = data.byteLength;
  else if (ArrayBuffer.isView(data)) size = data.byteLength;
  else if (typeof Blob !== 'undefined' && data instanceof Blob) size = data.size;
  else if (Array.isArray(data)) size = data.reduce((n: number, part: { byteLength?: number }) => n + (part?.byteLength ?? 0), 0); // `ws` fragments
  return size === undefined ? '[binary frame]' : `[binary frame of ${size} bytes]`;
}

function errorOf(ev: unknown): unknown {
  const error = (ev as { error?: unknown } | null)?.error;
  return error ?? ev;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

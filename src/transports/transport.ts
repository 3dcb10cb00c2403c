/**
 * The seam between the client and the transports. A transport only moves bytes: it opens, turns
 * what arrives into {@link WireEvent}s, reports activity, sends a batch, and reports once how it
 * ended with a {@link Failure}. It knows nothing of backoff, resume bookkeeping, emitters or other
 * transports (DESIGN §1); the client classifies the failure (see `classify.ts`).
 */
import type { FetchLike, OutboundMessage, TransportName, WebSocketConstructor } from '../types';

/**
 * One inbound event before decoding. SSE and poll carry `data` as the raw text of the event's
 * data lines (`format: 'text'`); WebSocket frames are JSON already, so `data` is the parsed
 * value of the `data` member (`format: 'json'`). The client applies the `decode` option.
 */
export type WireEvent =
  | { id?: string; event: string; format: 'text'; data: string }
  | { id?: string; event: string; format: 'json'; data: unknown };

/** The optional hello a server sends first (DESIGN §3). */
export interface Hello {
  /** Server heartbeat interval in ms. */
  heartbeat?: number;
  /** Whether every event after the requested id was replayed. */
  resumed?: boolean;
  /** The newest id when the request carried no `lastEventId`: the client's starting cursor. */
  id?: string;
  /** The server acknowledges WebSocket sends by `mid` (`{"type":"ack","mids":[…]}`). */
  ack?: boolean;
}

/**
 * How a connection attempt or an open connection ended. Transports report what they saw; the
 * client decides what it means (retry, next transport, fatal, stop).
 */
export type Failure =
  /** Network error, refused, reset; any WebSocket failure before open; a fetch that threw. */
  | { kind: 'network'; cause?: unknown }
  /** The client's own `openTimeout` or a transport's request timeout. */
  | { kind: 'timeout' }
  /** A non-2xx HTTP answer (after redirects). `retryAfter` is the raw header value. */
  | { kind: 'http'; status: number; retryAfter?: string | null }
  /** HTTP 204: the server says stop. */
  | { kind: 'no-content' }
  /** A 2xx answer with a content type other than `text/event-stream`. */
  | { kind: 'content-type'; contentType: string | null }
  /** The WebSocket closed with a close frame (or 1006 when it had none) after open. */
  | { kind: 'close'; code: number; reason: string }
  /** The server ended the SSE stream cleanly (EOF). */
  | { kind: 'ended' }
  /** The client's liveness monitor found no inbound byte for `heartbeat.timeout`. */
  | { kind: 'dead' };

/** Everything a transport needs for one connection, resolved by the client before it starts. */
export interface TransportContext {
  /** The endpoint URL for this transport, without surewire's query parameters. */
  url: string;
  /** `POST` endpoint for sends over HTTP transports; `false` when sending is disabled. */
  sendUrl: string | false;
  /**
   * The current resume cursor. Read it at the moment of each request: the poll transport asks
   * again before every poll, so it always carries the newest delivered id.
   */
  lastEventId(): string | undefined;
  /** The token resolved for this attempt, if any. Never log it. */
  token?: string;
  /** Extra HTTP headers resolved for this attempt. */
  headers: Record<string, string>;
  /** Send cookies with HTTP requests (`credentials: 'include'`). */
  withCredentials: boolean;
  /** How long one HTTP request (a long-poll, or a send) may take before it counts as a network failure, in ms. */
  pollRequestTimeout: number;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
}

/** What a transport reports. Calls after `end` or after the client's `close()` are ignored. */
export interface TransportListener {
  /** The connection is established (WebSocket open; HTTP 2xx with `text/event-stream`). */
  open(): void;
  /** Some inbound bytes or a frame arrived (comments, pings and empty polls included). */
  activity(): void;
  /** Complete events, in arrival order. Half-received events are never reported. */
  events(batch: WireEvent[]): void;
  hello(hello: Hello): void;
  /** SSE `retry: N` with a valid N. */
  retry(ms: number): void;
  /** A pong answering the client's ping. */
  pong(): void;
  /** The server acknowledged these WebSocket sends. */
  ack(mids: string[]): void;
  /** An inbound payload that could not be parsed; the connection goes on. */
  bad(raw: string, cause?: unknown): void;
  /** The connection ended. Called at most once, never after `close()`. */
  end(failure: Failure): void;
}

/** One live connection attempt. */
export interface Transport {
  readonly name: TransportName;
  /**
   * Hands a batch to the server. WebSocket: resolves once every message is handed to the open
   * socket. HTTP: one `POST` of a JSON array, resolving on any 2xx; rejects with a
   * `SurewireError` whose code is `SEND_REJECTED` (4xx other than 408/429: do not retry) or
   * `SEND_FAILED` (network, 408, 429, 5xx: retry later with the same `mid`s).
   */
  send(batch: OutboundMessage[]): Promise<void>;
  /** WebSocket only: send `{"type":"ping"}`; the answer arrives through `listener.pong`. */
  ping?(): void;
  /** Client-initiated close: release everything, report nothing more. Safe to call twice. */
  close(): void;
}

/** Starts one connection attempt at once. Must not throw: failures go through `listener.end`. */
export type TransportFactory = (ctx: TransportContext, listener: TransportListener) => Transport;

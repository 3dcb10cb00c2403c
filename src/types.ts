import type { SurewireError } from './errors';

/** The transports surewire speaks, in the default order of preference. */
export type TransportName = 'websocket' | 'sse' | 'poll';

/** Where the client is in its life: `idle → connecting → open → reconnecting → … → closed`. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * A map from event name to the type of its `data`, e.g.
 * `{ message: { user: string; text: string }; typing: { user: string } }`. Interfaces work too.
 */
export type EventMap = Record<string, unknown>;

/**
 * An immutable snapshot of the connection, replaced (never mutated) on every change, so that it
 * can feed React's `useSyncExternalStore` together with `onStatus`.
 */
export interface Status {
  readonly state: ConnectionState;
  /** The transport in use or being tried; `null` while idle, closed, or waiting between attempts. */
  readonly transport: TransportName | null;
  /** The id of the last delivered event that carried one: the resume cursor. */
  readonly lastEventId?: string;
  /** Failed attempts in a row since the last stable connection (0 when all is well). */
  readonly attempt: number;
  /**
   * From the server's hello: `true` when every event after our cursor was replayed, `false` when
   * some were no longer held (a gap: refetch your state). Undefined when the server said nothing.
   */
  readonly resumed?: boolean;
  /** Round-trip time in ms of the last WebSocket ping the client sent. */
  readonly rtt?: number;
  /** The error behind the last state change, if one was. Fatal when the state is `closed`. */
  readonly error?: SurewireError;
}

/** What a handler learns about an event besides its data. */
export interface MessageMeta {
  /** The event's own id, when the server gave one. */
  readonly id?: string;
  readonly event: string;
  readonly transport: TransportName;
}

/**
 * One inbound event as seen by `onMessage`: a union over the event map, so that
 * `switch (message.event)` narrows `message.data`.
 */
export type InboundMessage<E extends object = EventMap> = {
  [K in keyof E & string]: MessageMeta & { readonly event: K; readonly data: E[K] };
}[keyof E & string];

/** One outbound message on the wire: `mid` is unique per message so servers can drop retries. */
export interface OutboundMessage {
  event: string;
  data: unknown;
  mid: string;
}

/** The slice of the WebSocket API surewire uses; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  // `any` parameters: under strictFunctionTypes a handler property is checked contravariantly,
  // and neither the DOM's `(ev: Event) => any` nor `ws`'s own event types would be assignable
  // to a narrower shape. surewire reads `data`, `code`, `reason` and `error` from them.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: the browser's global, or `import WebSocket from 'ws'` in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The slice of the `fetch` response surewire reads. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly url?: string;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** The request options surewire passes to `fetch`. */
export interface RequestInitLike {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  credentials?: 'include' | 'same-origin' | 'omit';
  cache?: 'no-store';
  redirect?: 'follow';
}

/** A `fetch` implementation: the global one, or any function with this shape. */
export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

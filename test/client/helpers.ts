/**
 * Test rig for the client state machine: a unique mock-socket URL per test, a scripted `fetch`
 * whose responses stream from controllable `ReadableStream`s, and recorders of everything the
 * client shows through its public API. Nothing here reaches into the client's internals.
 */
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, beforeEach, vi } from 'vitest';
import { createClient, type Client } from '../../src/client';
import type { SurewireError } from '../../src/errors';
import type { ClientOptions } from '../../src/options';
import type { FetchLike, InboundMessage, RequestInitLike, Status, WebSocketConstructor } from '../../src/types';

export { MockWebSocket, Server };
export const WebSocket = MockWebSocket as unknown as WebSocketConstructor;

let seq = 0;
/** A fresh base URL: mock-socket's NetworkBridge is a singleton keyed by URL. */
export function uniqueBase(): { base: string; ws: string } {
  const host = `rt${++seq}-${Math.random().toString(36).slice(2, 8)}.test`;
  return { base: `http://${host}/rt`, ws: `ws://${host}/rt/ws` };
}

/** Fake timers for everything the client and mock-socket use; `setImmediate` stays real for {@link flush}. */
export function useFakeTime(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

/** Lets every pending promise (fetch answers, stream reads) settle without moving fake time. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Moves fake time by `ms` (mock-socket delivers through 4 ms timers), settling promises on the way. */
export async function advance(ms: number): Promise<void> {
  await flush();
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

// ---------------------------------------------------------------- scripted fetch

/** A response body the test writes to as it goes. */
export interface LiveStream {
  readonly response: Response;
  push(text: string): void;
  end(): void;
  fail(error?: Error): void;
  /** True once the client cancelled the body (it closed the transport). */
  readonly cancelled: boolean;
}

export function liveStream(init: { status?: number; headers?: Record<string, string> } = {}): LiveStream {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    response: new Response(body, { status: init.status ?? 200, headers: { 'content-type': 'text/event-stream', ...init.headers } }),
    push(text) {
      if (text !== '' && !closed && !cancelled) controller.enqueue(encoder.encode(text));
    },
    end() {
      if (closed || cancelled) return;
      closed = true;
      controller.close();
    },
    fail(error = new TypeError('network error')) {
      if (closed || cancelled) return;
      closed = true;
      controller.error(error);
    },
    get cancelled() {
      return cancelled;
    },
  };
}

/** A finished event-stream response. */
export function sse(text: string, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  const s = liveStream(init);
  s.push(text);
  s.end();
  return s.response;
}

export function status(code: number, headers: Record<string, string> = {}, body: string | null = null): Response {
  return new Response(code === 204 || code === 205 || code === 304 ? null : body, { status: code, headers });
}

export type Route = 'sse' | 'poll' | 'send';
export interface FetchCall {
  route: Route;
  url: string;
  init: RequestInitLike;
  /** Parsed JSON body for sends. */
  json?: unknown;
  query: URLSearchParams;
}
type Answer = Response | LiveStream | Error | 'hang' | ((call: FetchCall) => Response | LiveStream | Error | 'hang' | Promise<Response | LiveStream>);

/**
 * A fetch that answers each route from its own script, in order; when a script runs dry the
 * route's fallback answers (default: hang until aborted).
 */
export function scriptedFetch() {
  const calls: FetchCall[] = [];
  const scripts: Record<Route, Answer[]> = { sse: [], poll: [], send: [] };
  const fallback: Partial<Record<Route, Answer>> = {};
  const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  const answer = async (call: FetchCall, a: Answer, signal: AbortSignal | undefined): Promise<Response> => {
    const value = typeof a === 'function' ? await a(call) : a;
    if (value instanceof Error) throw value;
    if (value === 'hang') {
      return new Promise<Response>((_, reject) => {
        const abort = () => reject(new DOMException('The operation was aborted.', 'AbortError'));
        if (signal?.aborted) abort();
        signal?.addEventListener('abort', abort, { once: true });
      });
    }
    return value instanceof Response ? value : value.response;
  };

  const fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const route = (u.pathname.split('/').pop() ?? '') as Route;
    const call: FetchCall = { route, url, init, query: u.searchParams, json: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    for (const w of [...waiters]) if (w.test()) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    const next = scripts[route]?.shift() ?? fallback[route] ?? 'hang';
    return answer(call, next, init.signal);
  };

  return {
    fetch: vi.fn(fetch),
    calls,
    /** Queue answers for a route. */
    on(route: Route, ...answers: Answer[]) {
      scripts[route].push(...answers);
      return this;
    },
    /** The answer once a route's script is empty. */
    otherwise(route: Route, a: Answer) {
      fallback[route] = a;
      return this;
    },
    of(route: Route) {
      return calls.filter((c) => c.route === route);
    },
    until(test: () => boolean): Promise<void> {
      if (test()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

// ---------------------------------------------------------------- recording client

export interface Rig<In extends object> {
  client: Client<In>;
  statuses: Status[];
  errors: SurewireError[];
  messages: InboundMessage<In>[];
  states(): string[];
  /** Distinct consecutive `state/transport` pairs, for readable assertions on the path taken. */
  path(): string[];
  log: Array<[string, Record<string, unknown> | undefined]>;
  codes(): string[];
}

/** Creates the client with autoConnect off, records everything, then connects (unless told not to). */
export function rig<In extends object = Record<string, unknown>>(options: ClientOptions, connect = true): Rig<In> {
  const log: Array<[string, Record<string, unknown> | undefined]> = [];
  const client = createClient<In>({ debug: (m, d) => log.push([m, d]), ...options, autoConnect: false });
  const statuses: Status[] = [];
  const errors: SurewireError[] = [];
  const messages: InboundMessage<In>[] = [];
  client.onStatus((s) => statuses.push(s));
  client.onError((e) => errors.push(e));
  client.onMessage((m) => messages.push(m));
  if (connect) client.connect();
  return {
    client,
    statuses,
    errors,
    messages,
    log,
    states: () => statuses.map((s) => s.state),
    path() {
      const out: string[] = [];
      for (const s of statuses) {
        const label = `${s.state}${s.transport ? ':' + s.transport : ''}`;
        if (out[out.length - 1] !== label) out.push(label);
      }
      return out;
    },
    codes: () => errors.map((e) => e.code),
  };
}

/** The text of an SSE event block. */
export function block(fields: { id?: string; event?: string; data: unknown; retry?: number }): string {
  let out = '';
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`;
  const data = typeof fields.data === 'string' ? fields.data : JSON.stringify(fields.data);
  for (const line of data.split('\n')) out += `data: ${line}\n`;
  return out + '\n';
}

export const helloBlock = (data: Record<string, unknown>, id?: string): string => block({ event: 'surewire:hello', id, data });

/** mock-socket's WebSocket, recording every URL the client opens. */
export function trackedWebSocket(): { WebSocket: WebSocketConstructor; urls: string[]; query(i?: number): URLSearchParams } {
  const urls: string[] = [];
  class Tracked extends MockWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      urls.push(String(url));
      super(url, protocols);
    }
  }
  return { WebSocket: Tracked as unknown as WebSocketConstructor, urls, query: (i = urls.length - 1) => new URL(urls[i]!).searchParams };
}

/** A mock-socket server that counts connections and records what clients send. */
export function wsServer(url: string, onConnection?: (socket: MockServerSocket, index: number) => void) {
  const server = new Server(url);
  const sockets: MockServerSocket[] = [];
  const received: unknown[] = [];
  server.on('connection', (socket) => {
    const s = socket as unknown as MockServerSocket;
    sockets.push(s);
    s.on('message', (data: unknown) => received.push(JSON.parse(String(data))));
    onConnection?.(s, sockets.length - 1);
  });
  return {
    server,
    sockets,
    received,
    /** Frames the client sent that are not pings. */
    messages: () => received.filter((m) => (m as { type?: string }).type === undefined),
    send(frame: unknown, i = sockets.length - 1) {
      sockets[i]!.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    close(code: number, reason = '', i = sockets.length - 1) {
      sockets[i]!.close({ code, reason });
    },
    stop: () => server.stop(),
  };
}

export interface MockServerSocket {
  send(data: string): void;
  close(options?: { code?: number; reason?: string }): void;
  on(type: 'message' | 'close', cb: (data: unknown) => void): void;
  readyState: number;
}

/** Backoff without jitter, so that delays can be asserted exactly. */
export const steady = { jitter: 'none', initialDelay: 1000, maxDelay: 30_000 } as const;

/**
 * Registers fake time for each test and a cleanup list run after it; returns rigs and servers
 * that are closed after the test, and `cleanups` for anything else a test must undo.
 */
export function useRigs() {
  const cleanups: Array<() => void> = [];
  beforeEach(useFakeTime);
  afterEach(() => {
    for (const fn of cleanups.splice(0)) fn();
    vi.useRealTimers();
  });
  return {
    cleanups,
    /** A rig whose client is closed after the test. */
    setup(...args: Parameters<typeof rig>) {
      const r = rig(...args);
      cleanups.push(() => r.client.close());
      return r;
    },
    /** A mock-socket server stopped after the test. */
    server(...args: Parameters<typeof wsServer>) {
      const s = wsServer(...args);
      cleanups.push(() => s.stop());
      return s;
    },
    /** Sets `navigator.onLine` (back to the prototype's getter after the test) and fires `online`/`offline`. */
    setOnline(value: boolean) {
      Object.defineProperty(window.navigator, 'onLine', { configurable: true, get: () => value });
      cleanups.push(() => void delete (window.navigator as { onLine?: boolean }).onLine);
      window.dispatchEvent(new Event(value ? 'online' : 'offline'));
    },
  };
}

/**
 * Test servers and raw clients for surewire/server: real `node:http` servers on 127.0.0.1:0,
 * `ws` clients and `fetch`, all torn down by `stopAll()` in `afterEach`.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createHub, type Hub, type HubOptions } from '../../src/server/index';

/** A running hub on a real server. */
export interface TestServer {
  hub: Hub;
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:port{path}` */
  base: string;
  /** `ws://127.0.0.1:port{path}/ws` */
  wsUrl: string;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers a teardown step for `stopAll`. */
export function onStop(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Runs every teardown, newest first. */
export async function stopAll(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

/** Closes an http server, dropping whatever connections are left. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts a hub attached to a fresh server under `/rt` (a fallback app answers `app`). */
export async function startHub(options: HubOptions = {}, path = '/rt'): Promise<TestServer> {
  const hub = createHub(options);
  const server = http.createServer((_req, res) => res.end('app'));
  hub.attach(server, { path });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onStop(async () => {
    await hub.close();
    await closeServer(server);
  });
  return { hub, server, port, base: `http://127.0.0.1:${port}${path}`, wsUrl: `ws://127.0.0.1:${port}${path}/ws` };
}

/** A parsed SSE event block (comments dropped). */
export interface SseBlock {
  id?: string;
  event?: string;
  data: string;
}

/** Parses complete SSE text (LF only, as the hub writes it) into blocks. */
export function parseSse(text: string): SseBlock[] {
  const blocks: SseBlock[] = [];
  for (const raw of text.split('\n\n')) {
    const lines = raw.split('\n').filter((l) => l !== '' && !l.startsWith(':'));
    if (lines.length === 0) continue;
    const block: SseBlock = { data: '' };
    const data: string[] = [];
    for (const line of lines) {
      const i = line.indexOf(':');
      const field = line.slice(0, i);
      const value = line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') block.id = value;
      else if (field === 'event') block.event = value;
      else if (field === 'data') data.push(value);
    }
    block.data = data.join('\n');
    blocks.push(block);
  }
  return blocks;
}

/** An open SSE (or poll) response read incrementally. */
export interface SseReader {
  res: Response;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `test`; rejects if the stream ends first. */
  until(test: (text: string) => boolean): Promise<string>;
  /** Resolves when the body ended. */
  ended: Promise<string>;
  cancel(): Promise<void>;
}

/** Opens an SSE stream with fetch and reads it in the background. */
export async function openSse(url: string, init: RequestInit = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  let text = '';
  const waiters: { test: (t: string) => boolean; resolve: (t: string) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.test(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(text);
      }
    }
  };
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        check();
      }
    } catch {
      // aborted or reset: counts as the end
    }
    for (const w of waiters.splice(0)) w.reject(new Error(`stream ended before the expected text; got ${JSON.stringify(text)}`));
    return text;
  })();
  onStop(() => controller.abort());
  return {
    res,
    text: () => text,
    until(test) {
      if (test(text)) return Promise.resolve(text);
      return new Promise((resolve, reject) => waiters.push({ test, resolve, reject }));
    },
    ended,
    async cancel() {
      controller.abort();
      await ended;
    },
  };
}

/** A `ws` client that records every frame. */
export interface WsClient {
  ws: WebSocket;
  /** Raw text of every frame, in order. */
  frames: string[];
  /** Every JSON object received, arrays flattened, in order. */
  messages: Record<string, unknown>[];
  /** Resolves once `test` holds for the messages received so far. */
  until(test: (messages: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
}

/** Opens a `ws` client and waits for the upgrade; rejects on a refused upgrade. */
export async function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
  const ws = new WebSocket(url, options);
  const frames: string[] = [];
  const messages: Record<string, unknown>[] = [];
  const waiters: { test: (m: Record<string, unknown>[]) => boolean; resolve: (m: Record<string, unknown>[]) => void; reject: (e: Error) => void }[] = [];
  ws.on('message', (data) => {
    const text = data.toString();
    frames.push(text);
    const value = JSON.parse(text) as Record<string, unknown> | Record<string, unknown>[];
    messages.push(...(Array.isArray(value) ? value : [value]));
    for (const w of [...waiters]) {
      if (w.test(messages)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`closed ${code} before the expected messages; got ${JSON.stringify(messages)}`));
      resolve({ code, reason: reason.toString() });
    });
  });
  onStop(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  ws.on('error', () => {});
  return {
    ws,
    frames,
    messages,
    until(test) {
      if (test(messages)) return Promise.resolve(messages);
      return new Promise((resolve, reject) => waiters.push({ test, resolve, reject }));
    },
    closed,
    send: (value) => ws.send(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}

/** Resolves with the status of a refused upgrade (raw, so nothing retries or hides it). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.on('error', () => {});
  });
}

/** A raw TCP client for a WebSocket that completes the handshake and then never reads again. */
export async function openStalledWs(port: number, path: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  onStop(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  if (!first.toString('latin1').startsWith('HTTP/1.1 101')) throw new Error(`handshake failed: ${first.toString('latin1')}`);
  socket.pause();
  return socket;
}

/** A raw TCP client for an SSE stream that reads the headers and then never reads again. */
export async function openStalledSse(port: number, path: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  onStop(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  if (!first.toString('latin1').startsWith('HTTP/1.1 200')) throw new Error(`SSE failed: ${first.toString('latin1')}`);
  socket.pause();
  return socket;
}

/** Resolves when `emitter` emits `event`. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (value: T) => resolve(value)));
}

/**
 * Waits for a condition the hub exposes no event for (connection counts), checking every 5 ms.
 * Used only where there is nothing to await.
 */
export async function waitFor(test: () => boolean, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

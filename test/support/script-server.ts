/**
 * A scripted test server for the bad-input and leak suites: a real `node:http` server on
 * 127.0.0.1:0 (plus a `ws` server on the same port) whose every request or WebSocket connection
 * is answered by the next step of a script, so that one test can say "first a good stream with
 * events 1–2, then a 503 with Retry-After, then a good stream with 3–4".
 *
 * Every request is recorded (method, URL, headers, time) so that tests can assert what the client
 * carried (cursor, token) and when it came back.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeServer, listen } from './helpers';

export interface Seen {
  kind: 'http' | 'ws';
  method: string;
  /** The path and query as the client sent it. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  at: number;
  /** The POST body, once read (sends). */
  body?: string;
}

export type HttpStep = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;
export type WsStep = (ws: WebSocket, seen: Seen) => void;

export interface ScriptServer {
  port: number;
  /** `http://127.0.0.1:{port}` */
  origin: string;
  /** Every request and upgrade in arrival order. */
  seen: Seen[];
  /** Requests to one path (e.g. `/sse`), in order. */
  to(path: string): Seen[];
  /** Scripts for a path: each new request takes the next step; the last one repeats. */
  on(path: string, ...steps: HttpStep[]): void;
  /** Scripts for WebSocket upgrades on `/ws`. */
  onWs(...steps: WsStep[]): void;
  /** Resolves once `count` requests to `path` (or `ws`) have arrived. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Seen>;
  /** Open TCP connections to this server. */
  readonly openSockets: number;
  /** Resolves when no TCP connection to this server is open. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startScriptServer(): Promise<ScriptServer> {
  const seen: Seen[] = [];
  const scripts = new Map<string, HttpStep[]>();
  const counters = new Map<string, number>();
  let wsSteps: WsStep[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const drainWaiters = new Set<() => void>();
  const sockets$ = { open: 0 };

  const record = (s: Seen) => {
    seen.push(s);
    for (const w of [...waiters]) w();
  };
  const next = <T>(key: string, steps: T[]): T | undefined => {
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    return steps[Math.min(n, steps.length - 1)];
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const s: Seen = { kind: 'http', method: req.method ?? 'GET', url: req.url ?? '/', path: url.pathname, query: url.searchParams, headers: req.headers, at: Date.now() };
    const steps = scripts.get(url.pathname);
    const step = steps && next(url.pathname, steps);
    if (req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        s.body = body;
        record(s);
        if (step) step(req, res, s);
        else res.writeHead(204).end();
      });
      return;
    }
    record(s);
    if (step) step(req, res, s);
    else res.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    sockets$.open++;
    socket.on('close', () => {
      sockets.delete(socket);
      sockets$.open--;
      if (sockets$.open === 0) for (const w of [...drainWaiters]) w();
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const s: Seen = { kind: 'ws', method: 'GET', url: req.url ?? '/', path: url.pathname, query: url.searchParams, headers: req.headers, at: Date.now() };
    record(s);
    const step = wsSteps.length > 0 ? next('ws', wsSteps) : undefined;
    if (!step) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      step(ws, s);
    });
  });
  const port = await listen(server);

  const matches = (path: string) => (s: Seen) => (path === 'ws' ? s.kind === 'ws' : s.kind === 'http' && s.path === path);

  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    seen,
    to: (path) => seen.filter(matches(path)),
    on(path, ...steps) {
      scripts.set(path, steps);
      counters.set(path, 0);
    },
    onWs(...steps) {
      wsSteps = steps;
      counters.set('ws', 0);
    },
    waitFor(path, count, timeoutMs = 10_000) {
      return new Promise<Seen>((resolve, reject) => {
        const check = () => {
          const list = seen.filter(matches(path));
          if (list.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(list[count - 1]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} requests to ${path} within ${timeoutMs} ms; got ${seen.filter(matches(path)).length}: ${seen.map((s) => s.url).join(' ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    get openSockets() {
      return sockets$.open;
    },
    drained(timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        if (sockets$.open === 0) return resolve();
        const done = () => {
          drainWaiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          drainWaiters.delete(done);
          reject(new Error(`${sockets$.open} TCP connection(s) still open after ${timeoutMs} ms`));
        }, timeoutMs);
        drainWaiters.add(done);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => wss.close(() => r()));
      await closeServer(server);
    },
  };
}

// ---- steps -------------------------------------------------------------------------------

/** An SSE block for event `n` with id `n` and JSON data `{ n }` (or the given raw data). */
export const sseEvent = (n: number, data: string = JSON.stringify({ n }), event = 'tick'): string => `id: ${n}\nevent: ${event}\ndata: ${data}\n\n`;

/** Answers 200 text/event-stream, writes `body`, then ends (`end`), hangs (`hang`) or resets (`reset`). */
export function stream(body: string | Buffer | (string | Buffer)[], after: 'end' | 'hang' | 'reset' = 'hang', headers: Record<string, string> = {}): HttpStep {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...headers });
    for (const part of Array.isArray(body) ? body : [body]) res.write(part);
    if (after === 'end') res.end();
    else if (after === 'reset') setImmediate(() => res.socket?.destroy());
  };
}

/** Like `stream(body, 'hang')`, plus an SSE comment every `everyMs`: a healthy, live stream. */
export function liveStream(body: string, everyMs = 100): HttpStep {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(body);
    const timer = setInterval(() => res.write(':\n\n'), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** A poll answer: the body, in one 200 text/event-stream response. */
export function pollAnswer(body: string): HttpStep {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** Answers with a status, headers and a short body. */
export function status(code: number, headers: Record<string, string> = {}, body = ''): HttpStep {
  return (_req, res) => {
    res.writeHead(code, { 'Content-Type': 'text/plain', ...headers });
    res.end(body);
  };
}

/** Never answers (the request hangs until the client gives up). */
export const never: HttpStep = () => {};

/** WebSocket: sends each frame, then closes with `code` (1006: terminate), or stays open. */
export function wsFrames(frames: (string | Buffer | object)[], close?: { code: number; reason?: string } | 'terminate'): WsStep {
  return (ws) => {
    for (const f of frames) {
      if (Buffer.isBuffer(f)) ws.send(f, { binary: true });
      else ws.send(typeof f === 'string' ? f : JSON.stringify(f));
    }
    if (close === 'terminate') ws.terminate();
    else if (close) ws.close(close.code, close.reason);
  };
}

/** The WebSocket event object for `n`. */
export const wsEvent = (n: number) => ({ id: String(n), event: 'tick', data: { n } });

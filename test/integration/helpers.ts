/**
 * Real servers on 127.0.0.1 port 0 for the client's integration tests, and ways to await what a
 * client shows (no sleeps where an event can be awaited).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WS from 'ws';
import type { Client } from '../../src/client';
import type { SurewireError } from '../../src/errors';
import type { InboundMessage, Status, WebSocketConstructor } from '../../src/types';

/** The `ws` package's WebSocket, as the client's `WebSocket` option (Node 20 has no global one). */
export const WebSocket = WS as unknown as WebSocketConstructor;

export interface TestServer {
  server: Server;
  /** `http://127.0.0.1:{port}` */
  origin: string;
  /** Every TCP socket the server accepted, and whether it is still open. */
  sockets: Set<Socket>;
  openSockets(): number;
  /** Resolves once no accepted socket is open. */
  allSocketsClosed(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startServer(
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<TestServer> {
  const server = createServer(onRequest);
  if (onUpgrade) server.on('upgrade', onUpgrade);
  const sockets = new Set<Socket>();
  const open = new Set<Socket>();
  const closeWaiters = new Set<() => void>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      if (open.size === 0) for (const w of [...closeWaiters]) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    sockets,
    openSockets: () => open.size,
    allSocketsClosed(timeoutMs = 5000) {
      if (open.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          closeWaiters.delete(done);
          reject(new Error(`${open.size} server socket(s) still open after ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          closeWaiters.delete(done);
          resolve();
        };
        closeWaiters.add(done);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with the first status for which `test` holds (the current one included). */
export function untilStatus(client: Pick<Client, 'status' | 'onStatus'>, test: (s: Status) => boolean, timeoutMs = 10_000): Promise<Status> {
  if (test(client.status)) return Promise.resolve(client.status);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`status never matched; last: ${JSON.stringify(client.status)}`));
    }, timeoutMs);
    const off = client.onStatus((s) => {
      if (!test(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/** Records every message and error of a client; `until(n)` resolves once n messages arrived. */
export function collect<In extends object>(client: Client<In>) {
  const messages: InboundMessage<In>[] = [];
  const errors: SurewireError[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  client.onMessage((m) => {
    messages.push(m);
    for (const w of [...waiters]) if (messages.length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  client.onError((e) => errors.push(e));
  return {
    messages,
    errors,
    until(n: number, timeoutMs = 15_000): Promise<void> {
      if (messages.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${messages.length} of ${n} messages after ${timeoutMs} ms; errors: ${errors.map((e) => e.code).join(',')}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

/** Counts of the process's active resources by type (Timeout, TCPSocketWrap, …). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * Tracks the timers the client starts while installed. `own()` lists live timers created directly
 * by the client's modules (src/*.ts and src/transports/, not src/server/); `caused()` also those
 * created further down on the client's behalf (e.g. `ws`'s close-handshake timer). Fired or
 * cleared timers drop out. Needed because `process.getActiveResourcesInfo()` stops counting an
 * interval once it has fired (Node 20).
 */
export function trackClientTimers() {
  const CLIENT = /[\\/]src[\\/](?!server[\\/])[\w/-]+\.ts/;
  const live = new Map<unknown, { own: boolean; label: string }>();
  const real = { setTimeout, clearTimeout, setInterval, clearInterval };
  const g = globalThis as unknown as Record<string, unknown>;
  const note = (handle: unknown, kind: string, ms: number | undefined) => {
    const frames = (new Error().stack ?? '').split('\n').slice(3);
    if (!frames.some((f) => CLIENT.test(f))) return;
    live.set(handle, { own: CLIENT.test(frames[0] ?? ''), label: `${kind}(${ms}) ${frames[0]?.trim()}` });
  };
  g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle: unknown = real.setTimeout(
      (...a: unknown[]) => {
        live.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    note(handle, 'setTimeout', ms);
    return handle;
  };
  g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = real.setInterval(fn, ms, ...args);
    note(handle, 'setInterval', ms);
    return handle;
  };
  g.clearTimeout = (h: Parameters<typeof clearTimeout>[0]) => {
    live.delete(h);
    real.clearTimeout(h);
  };
  g.clearInterval = (h: Parameters<typeof clearInterval>[0]) => {
    live.delete(h);
    real.clearInterval(h);
  };
  return {
    own: () => [...live.values()].filter((t) => t.own).map((t) => t.label),
    caused: () => [...live.values()].map((t) => t.label),
    restore() {
      Object.assign(g, real);
    },
  };
}

/**
 * After `close()`, over real sockets: the hub counts no connection, the server sees every TCP
 * connection of the client closed, and the process holds no more timers than before.
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransportName } from '../../src/index';
import { createProgress, startHub, type HubServer } from '../support/helpers';
import { CLIENT_SRC, HUB_SRC, trackTimerOrigins, type TimerOrigins } from '../support/timer-origins';
import { watch } from '../support/watch';

let hs: HubServer | undefined;
let origins: TimerOrigins;
beforeEach(() => {
  origins = trackTimerOrigins();
});
afterEach(async () => {
  origins.restore();
  await hs?.close();
  hs = undefined;
});

/** Counts the TCP connections open on `server`, with a waiter for "all closed". */
function tcpCounter(server: http.Server) {
  let open = 0;
  const progress = createProgress();
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => {
      open--;
      progress.bump();
    });
  });
  return {
    get open() {
      return open;
    },
    zero: (ms = 5000) => progress.until(() => open === 0, ms, () => `${open} TCP connection(s) still open`),
  };
}

/**
 * The pending timers created by `path` once they have settled. Both ends of a socket see its
 * close at slightly different moments, and no event says "both done": so re-check on every turn
 * of the event loop (setImmediate is not a timer), for at most `ms`.
 */
async function settledTimers(path: RegExp, ms = 2000): Promise<string[]> {
  const deadline = Date.now() + ms;
  while (origins.pending(path).length > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  return origins.pending(path);
}

/** Counts requests in flight on `server` (an SSE stream or a held poll is one until it closes). */
function requestCounter(server: http.Server) {
  let open = 0;
  const progress = createProgress();
  server.on('request', (_req, res) => {
    open++;
    res.on('close', () => {
      open--;
      progress.bump();
    });
  });
  return {
    get open() {
      return open;
    },
    zero: (ms = 3000) => progress.until(() => open === 0, ms, () => `${open} request(s) still open`),
  };
}

describe.each(['websocket', 'sse', 'poll'] as TransportName[])('%s: nothing stays open after close()', (transport) => {
  it('no hub connection, no open request or WebSocket, no extra timer', async () => {
    hs = await startHub({ heartbeat: 200, pollTimeout: 300 });
    const tcp = tcpCounter(hs.server);
    const requests = requestCounter(hs.server);
    const w = watch({ url: hs.url, transports: [transport], heartbeat: { interval: 100, timeout: 1000 } });
    await w.until(() => w.client.status.lastEventId !== undefined);
    for (let i = 1; i <= 3; i++) hs.hub.publish('tick', { n: i });
    await w.ticks(3);
    // Heartbeats, pings and (for poll) a few empty answers go by.
    await w.until(() => w.client.status.state === 'open' && tcp.open > 0);
    expect(origins.pending(CLIENT_SRC).length).toBeGreaterThan(0); // liveness, stability, pings…

    w.client.close();
    // A WebSocket's TCP connection closes; an HTTP stream or held poll is aborted (its idle
    // keep-alive socket belongs to fetch's pool, which closes it on its own schedule).
    if (transport === 'websocket') await tcp.zero();
    else await requests.zero();
    const stats = hs.hub.stats();
    expect(stats.connections).toEqual({ websocket: 0, sse: 0, poll: 0 });
    expect(stats.bufferedBytes).toBe(0);
    // The client holds none; the hub's own heartbeat timer stops with its last connection.
    expect(await settledTimers(CLIENT_SRC)).toEqual([]);
    expect(await settledTimers(HUB_SRC)).toEqual([]);
    expect(w.ns).toEqual([1, 2, 3]);
  });
});

describe('the hub after close()', () => {
  it('holds no timer once close() resolved (its clients then close cleanly too)', async () => {
    hs = await startHub({ heartbeat: 100 });
    const clients = (['websocket', 'sse', 'poll'] as TransportName[]).map((t) => watch({ url: hs!.url, transports: [t] }));
    await Promise.all(clients.map((w) => w.until(() => w.client.status.state === 'open')));
    expect(origins.pending(HUB_SRC).length).toBeGreaterThan(0);
    await hs.close();
    hs = undefined;
    expect(await settledTimers(HUB_SRC)).toEqual([]);
    for (const w of clients) w.client.close();
    expect(await settledTimers(CLIENT_SRC)).toEqual([]);
  });
});

/**
 * After `close()`, over real sockets: the hub counts no connection, the server sees every TCP
 * connection of the client closed, and the process holds no more timers than before.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '../../src/index';
import { createProgress, startHub, type HubServer } from '../support/helpers';
import { watch } from '../support/watch';

let hs: HubServer | undefined;
afterEach(async () => {
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

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Waits until at most `limit` timers are pending. Both ends of a socket see its close at slightly
 * different moments (ws clears its close timer on its own 'close'), and no event says "both
 * done": so re-check on every turn of the event loop (setImmediate adds no Timeout), for at
 * most `ms`.
 */
async function timersSettle(limit: number, ms = 2000): Promise<number> {
  const deadline = Date.now() + ms;
  while (timers() > limit && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  return timers();
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
    const baseline = timers();
    const w = watch({ url: hs.url, transports: [transport], heartbeat: { interval: 100, timeout: 1000 } });
    await w.until(() => w.client.status.lastEventId !== undefined);
    for (let i = 1; i <= 3; i++) hs.hub.publish('tick', { n: i });
    await w.ticks(3);
    // Heartbeats, pings and (for poll) a few empty answers go by.
    await w.until(() => w.client.status.state === 'open' && tcp.open > 0);
    expect(timers()).toBeGreaterThan(baseline);

    w.client.close();
    // A WebSocket's TCP connection closes; an HTTP stream or held poll is aborted (its idle
    // keep-alive socket belongs to fetch's pool, which closes it on its own schedule).
    if (transport === 'websocket') await tcp.zero();
    else await requests.zero();
    const stats = hs.hub.stats();
    expect(stats.connections).toEqual({ websocket: 0, sse: 0, poll: 0 });
    expect(stats.bufferedBytes).toBe(0);
    // The hub's own heartbeat timer stops with its last connection; the client holds none.
    expect(await timersSettle(baseline)).toBeLessThanOrEqual(baseline);
    expect(w.ns).toEqual([1, 2, 3]);
  });
});

describe('the hub after close()', () => {
  it('holds no connection and no timer, and its server can close', async () => {
    hs = await startHub({ heartbeat: 100 });
    const baseline = timers();
    const clients = (['websocket', 'sse', 'poll'] as TransportName[]).map((t) => watch({ url: hs!.url, transports: [t] }));
    await Promise.all(clients.map((w) => w.until(() => w.client.status.state === 'open')));
    await hs.close();
    hs = undefined;
    for (const w of clients) w.client.close();
    expect(await timersSettle(baseline)).toBeLessThanOrEqual(baseline);
  });
});

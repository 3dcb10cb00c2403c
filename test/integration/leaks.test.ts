// @vitest-environment node
/**
 * close() leaves the process as it found it: a fresh hub (so that no earlier test's sockets are
 * still winding down), one client per transport with pings running, then close() — every
 * server socket closes and the process holds no more timers than before the clients existed.
 */
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { createClient } from '../../src/client';
import { createHub, type Hub } from '../../src/server/index';
import type { TransportName } from '../../src/types';
import { WebSocket, activeResources, startServer, trackClientTimers, untilStatus, type TestServer } from './helpers';

let srv: TestServer;
let hub: Hub;
beforeAll(async () => {
  hub = createHub({ heartbeat: 1000, pollTimeout: 1000 });
  srv = await startServer();
  hub.attach(srv.server, { path: '/rt' });
});
afterAll(async () => {
  await hub.close();
  await srv.close();
});

it('close() leaves no open handle: every server socket closes and no client timer remains', async () => {
  const timers = () => activeResources().Timeout ?? 0;
  const baseline = timers();
  const clientTimers = trackClientTimers();
  onTestFinished(() => clientTimers.restore());
  const transports: TransportName[] = ['websocket', 'sse', 'poll'];
  const clients = transports.map((t) => createClient({ url: `${srv.origin}/rt`, WebSocket, transports: [t], heartbeat: { interval: 200 } }));
  await Promise.all(clients.map((c) => untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined)));
  hub.publish('tick', { n: 1 });
  await Promise.all(clients.map((c) => untilStatus(c, (s) => s.lastEventId !== '0')));
  expect(srv.openSockets()).toBeGreaterThanOrEqual(3);
  expect(clientTimers.own().length).toBeGreaterThan(0); // the clients' own timers are seen here…
  for (const c of clients) c.close();
  const leftAtClose = clientTimers.own();
  await srv.allSocketsClosed(5000);
  await expect.poll(() => hub.stats().connections, { timeout: 5000 }).toEqual({ websocket: 0, sse: 0, poll: 0 });
  // …and gone after close(), synchronously. (The hub's heartbeat timer existed at the baseline.)
  expect(leftAtClose).toEqual([]);
  expect(clientTimers.caused()).toEqual([]); // ws's close-handshake timer too, once the server hung up
  await expect.poll(timers, { timeout: 3000 }).toBeLessThanOrEqual(baseline);
  expect(clients.every((c) => c.status.state === 'closed')).toBe(true);
});

// @vitest-environment node
/**
 * Progress resets the backoff: a connection that delivered a new event id counts as working, so
 * cutting it again and again reconnects within `initialDelay` each time (fast resume), while
 * cuts of a connection that delivers nothing new keep escalating (no hammering of a server that
 * crash-loops). DESIGN §4's 5 s stability rule still applies on top.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import { createHub, type Hub } from '../../src/server/index';
import { WebSocket, collect, startServer, untilStatus, type TestServer } from './helpers';

let srv: TestServer;
let hub: Hub;

beforeAll(async () => {
  hub = createHub({ heartbeat: 1000 });
  srv = await startServer();
  hub.attach(srv.server, { path: '/rt' });
});
afterAll(async () => {
  await hub.close();
  await srv.close();
});

it.each(['websocket', 'sse'] as const)('%s: cuts after progress keep the delay cap at initialDelay; cuts without progress raise it', async (transport) => {
  const delays: { delay: number; attempt: number }[] = [];
  const c = createClient<{ tick: { n: number } }>({
    url: `${srv.origin}/rt`,
    transports: [transport],
    WebSocket,
    reconnect: { initialDelay: 100, maxDelay: 10_000, jitter: 'none' },
    debug: (message, details) => {
      const m = /^reconnecting in (\d+) ms/.exec(message);
      if (m) delays.push({ delay: Number(m[1]), attempt: Number(details?.attempt) });
    },
  });
  try {
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined);
    // With progress: each connection delivers a new event, then is cut.
    for (let i = 1; i <= 4; i++) {
      hub.publish('tick', { n: i });
      await got.until(i);
      for (const conn of hub.connections()) conn.close();
      await untilStatus(c, (s) => s.state === 'reconnecting');
      await untilStatus(c, (s) => s.state === 'open');
    }
    expect(delays.map((d) => d.delay)).toEqual([100, 100, 100, 100]);
    // Without progress: cut as soon as it opens, before anything new arrives.
    for (let i = 0; i < 3; i++) {
      for (const conn of hub.connections()) conn.close();
      await untilStatus(c, (s) => s.state === 'reconnecting');
      await untilStatus(c, (s) => s.state === 'open');
    }
    // The connection after the 4th cut delivered nothing new either: the count was already 1.
    expect(delays.slice(4).map((d) => d.delay)).toEqual([200, 400, 800]);
    expect(got.messages.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
  } finally {
    c.close();
  }
});

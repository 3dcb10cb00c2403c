// @vitest-environment node
/**
 * A long-poll on a quiet channel is held by the hub for its poll timeout; the client must count
 * it as open from its headers, not mistake it for a black hole when `openTimeout` passes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import { createHub, type Hub } from '../../src/server/index';
import { collect, startServer, untilStatus, type TestServer } from './helpers';

let srv: TestServer;
let hub: Hub;

beforeAll(async () => {
  hub = createHub({ heartbeat: 1000, pollTimeout: 4000 });
  srv = await startServer();
  hub.attach(srv.server, { path: '/rt' });
});
afterAll(async () => {
  await hub.close();
  await srv.close();
});

it('a poll reconnecting with a cursor on a quiet channel opens, and stays open past openTimeout', async () => {
  const openTimeout = 300;
  const c = createClient<{ tick: { n: number } }>({
    url: `${srv.origin}/rt`,
    transports: ['poll'],
    openTimeout,
    reconnect: { initialDelay: 20, maxDelay: 100 },
  });
  try {
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined);
    hub.publish('tick', { n: 1 });
    await got.until(1);
    // Cut the held poll: the reconnect carries a cursor, nothing is pending, so the hub holds it.
    await expect.poll(() => hub.stats().connections.poll, { timeout: 5000 }).toBe(1);
    for (const conn of hub.connections()) conn.close();
    await untilStatus(c, (s) => s.state === 'reconnecting');
    await untilStatus(c, (s) => s.state === 'open');
    const opened = Date.now();
    // The window in which a poll counted open only from its answer would time out (several
    // openTimeouts); there is no event to await here, the absence of a failure is the point.
    await new Promise((resolve) => setTimeout(resolve, openTimeout * 4));
    expect(Date.now() - opened).toBeGreaterThanOrEqual(openTimeout * 4 - 5);
    expect(got.errors.filter((e) => e.code === 'OPEN_TIMEOUT')).toEqual([]);
    expect(c.status.state).toBe('open');
    hub.publish('tick', { n: 2 });
    await got.until(2);
    expect(got.messages.map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);
  } finally {
    c.close();
  }
});

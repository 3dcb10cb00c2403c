// @vitest-environment node
/**
 * Sends against the real hub and its size limit (`maxMessageBytes`, DESIGN §5): a batch that is
 * too large as a whole is split, and a message too large on its own does not keep the WebSocket
 * in a 1009 → reconnect → re-send loop with every later send stuck behind it.
 */
import { afterEach, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/client';
import { createHub, type Hub, type HubMessage } from '../../src/server/index';
import type { ClientOptions } from '../../src/options';
import { WebSocket, startServer, untilStatus, type TestServer } from './helpers';

const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function hubWith(maxMessageBytes: number): Promise<{ url: string; received: HubMessage[] }> {
  const received: HubMessage[] = [];
  const hub: Hub = createHub({ heartbeat: 1000, pollTimeout: 2000, maxMessageBytes, onMessage: (msg) => received.push(msg) });
  const srv: TestServer = await startServer();
  hub.attach(srv.server, { path: '/rt' });
  stops.push(() => srv.close(), () => hub.close());
  return { url: `${srv.origin}/rt`, received };
}
function client(options: ClientOptions): Client<Record<string, unknown>> {
  const c = createClient<Record<string, unknown>>({ WebSocket, reconnect: { initialDelay: 5, maxDelay: 20 }, ...options });
  stops.push(() => c.close());
  return c;
}
const outcome = (p: Promise<void>) => p.then(() => 'sent', (e: { code: string; status?: number }) => `${e.code} ${e.status ?? ''}`.trim());

it('SSE: sends queued while not open go in batches the hub accepts, however large together (413 splits them)', async () => {
  const { url, received } = await hubWith(65_536);
  const c = client({ url, transports: ['sse'], autoConnect: false });
  const text = 'x'.repeat(40_000);
  const sends = [1, 2, 3].map((n) => outcome(c.send('chat', { n, text })));
  const tooBig = outcome(c.send('chat', { text: 'y'.repeat(70_000) }));
  c.connect();
  expect(await Promise.all(sends)).toEqual(['sent', 'sent', 'sent']);
  expect(await tooBig).toBe('SEND_REJECTED 413');
  expect(received.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3]);
});

it('WebSocket: a message over the limit closes 1009 once; it alone is not sent again, the sends after it go', async () => {
  const { url, received } = await hubWith(1024);
  const c = client({ url, transports: ['websocket'] });
  const closes: number[] = [];
  c.onError((e) => e.closeCode && closes.push(e.closeCode));
  await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined); // the hello: acknowledgements on
  await c.send('before', 0);
  await expect.poll(() => received.length).toBe(1);
  // Handed to the socket in one tick: the hub closes at the big one, the small one never read.
  await Promise.all([c.send('big', 'x'.repeat(4096)), c.send('small', 1)]);
  await untilStatus(c, (s) => s.state === 'reconnecting');
  await untilStatus(c, (s) => s.state === 'open');
  await c.send('marker', 2);
  await expect.poll(() => received.map((m) => m.event)).toEqual(['before', 'small', 'marker']);
  expect(closes).toEqual([1009]);
});

// @vitest-environment node
/**
 * The client against the real reference hub on 127.0.0.1: each transport's happy path, resume
 * across hard connection cuts with nothing lost or repeated.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/client';
import { createHub, type Hub, type HubMessage } from '../../src/server/index';
import type { ClientOptions } from '../../src/options';
import type { TransportName } from '../../src/types';
import { WebSocket, collect, startServer, untilStatus, type TestServer } from './helpers';

type Events = { tick: { n: number }; hi: { from: string } };

let srv: TestServer;
let hub: Hub;
const received: HubMessage[] = [];
const clients: Client<Events>[] = [];

beforeAll(async () => {
  hub = createHub({ heartbeat: 1000, pollTimeout: 2000, onMessage: (msg) => received.push(msg) });
  srv = await startServer();
  hub.attach(srv.server, { path: '/rt' });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await hub.close();
  await srv.close();
});

function client(options: Partial<ClientOptions>): Client<Events> {
  const c = createClient<Events>({ url: `${srv.origin}/rt`, WebSocket, reconnect: { initialDelay: 20, maxDelay: 100 }, ...options });
  clients.push(c);
  return c;
}

const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'poll'];

describe.each(TRANSPORTS)('%s against the hub', (transport) => {
  it('happy path: opens, receives published events in order, sends, tracks the cursor', async () => {
    const c = client({ transports: [transport] });
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open');
    // The hello has set the cursor: events published from now on are not missed.
    await untilStatus(c, (s) => s.lastEventId !== undefined);
    const ids = [1, 2, 3, 4, 5].map((n) => hub.publish('tick', { n }));
    await got.until(5);
    expect(got.messages.map((m) => m.data)).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(got.messages.map((m) => m.id)).toEqual(ids);
    expect(got.messages.every((m) => m.transport === transport && m.event === 'tick')).toBe(true);
    expect(c.status).toMatchObject({ state: 'open', transport, lastEventId: ids[4] });

    const before = received.length;
    await c.send('hi', { from: transport });
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(before + 1);
    expect(received.at(-1)).toMatchObject({ event: 'hi', data: { from: transport }, mid: expect.any(String) });
    expect(got.errors).toEqual([]);
  });

  it('resumes across hard cuts: every one of N events exactly once, in order', async () => {
    const N = 150;
    const c = client({ transports: [transport] });
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined);
    const start = Number(c.status.lastEventId);
    let published = 0;
    let cut = 0;
    let wantCut = false;
    // Publish in small bursts; every 30 events, drop every connection like a network cut.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < 5 && published < N; i++) hub.publish('tick', { n: ++published });
        if (published % 30 === 0) wantCut = true;
        // A poll client may be between two polls at that moment: cut at the next tick it is connected.
        if (wantCut && hub.connections().length > 0) {
          wantCut = false;
          for (const conn of hub.connections()) {
            conn.close();
            cut++;
          }
        }
        if (published >= N) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await got.until(N);
    const ns = got.messages.map((m) => (m.data as { n: number }).n);
    expect(ns).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(got.messages.map((m) => Number(m.id))).toEqual(Array.from({ length: N }, (_, i) => start + i + 1));
    expect(cut).toBeGreaterThan(0); // connections were cut…
    expect(got.errors.every((e) => !e.fatal)).toBe(true); // …and survived
    expect(c.status.state).toBe('open');
  });
});

describe('one ws:// base URL', () => {
  it.each(TRANSPORTS)('serves %s too: HTTP transports and sends go to http://', async (transport) => {
    const c = client({ url: `${srv.origin.replace(/^http/, 'ws')}/rt`, transports: [transport] });
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined);
    const id = hub.publish('tick', { n: 1 });
    await got.until(1);
    expect(got.messages[0]).toMatchObject({ id, data: { n: 1 }, transport });
    const before = received.length;
    await c.send('hi', { from: `ws-base ${transport}` });
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(before + 1);
    expect(got.errors).toEqual([]);
  });
});

describe("lastEventId: '' (an empty value restored from storage)", () => {
  it('poll: is no cursor — the hello id becomes one, the next poll is held, and a published event arrives', async () => {
    let polls = 0;
    const c = client({ transports: ['poll'], lastEventId: '', fetch: (url, init) => (polls++, fetch(url, init as RequestInit)) as never });
    const got = collect(c);
    await untilStatus(c, (s) => s.state === 'open' && s.lastEventId !== undefined && s.lastEventId !== '');
    hub.publish('tick', { n: 1 });
    await got.until(1);
    expect(got.messages.map((m) => m.data)).toEqual([{ n: 1 }]);
    // The hello poll, the held one the event answered, and the next held one: not a poll per hello.
    expect(polls).toBeLessThan(6);
  });
});

// @vitest-environment node
/**
 * Precise scenarios against small raw servers (`node:http`, `ws`) on 127.0.0.1, one per case:
 * fallback when earlier endpoints refuse, a black-holed upgrade, 4401 with a refreshed token,
 * Retry-After and the cursor on the wire, a silent stream, and close() while connecting.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, type Client } from '../../src/client';
import { createHub, type Hub } from '../../src/server/index';
import type { SurewireError } from '../../src/errors';
import type { ClientOptions } from '../../src/options';
import { WebSocket, collect, startServer, trackClientTimers, untilStatus, type TestServer } from './helpers';

const servers: TestServer[] = [];
const hubs: Hub[] = [];
const clients: Client<Record<string, unknown>>[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  for (const h of hubs) await h.close();
  for (const s of servers) await s.close();
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
function client(options: ClientOptions): Client<Record<string, unknown>> {
  const c = createClient<Record<string, unknown>>({ WebSocket, reconnect: { initialDelay: 20, maxDelay: 100 }, ...options });
  clients.push(c);
  return c;
}
/** Holds an upgrade without ever answering; hangs up its end once the client hangs up (server sockets are half-open). */
function blackHole(held: Duplex[], socket: Duplex): void {
  held.push(socket);
  socket.resume();
  socket.on('end', () => socket.destroy());
}
const path = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://x').pathname;
const query = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://x').searchParams;
function eventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.flushHeaders();
}

describe('fallback', () => {
  it('websocket → sse → poll when the upgrade is destroyed and SSE answers 404; reconnects go straight to poll', async () => {
    const hub = createHub({ heartbeat: 1000, pollTimeout: 1000 });
    hubs.push(hub);
    const seen: string[] = [];
    let upgrades = 0;
    const s = await server(
      (req, res) => {
        seen.push(path(req));
        if (path(req) === '/rt/sse') return void res.writeHead(404).end();
        req.url = req.url!.slice('/rt'.length); // hub.handle sees paths relative to its mount
        hub.handle(req, res);
      },
      (_req, socket) => {
        upgrades++;
        socket.destroy();
      },
    );
    const c = client({ url: `${s.origin}/rt` });
    const got = collect(c);
    await untilStatus(c, (st) => st.state === 'open' && st.lastEventId !== undefined);
    expect(c.status.transport).toBe('poll');
    expect(got.errors.map((e) => e.code)).toEqual(['NETWORK', 'NOT_OFFERED']);
    expect(upgrades).toBe(1);
    expect(seen.filter((p) => p === '/rt/sse')).toHaveLength(1);
    hub.publish('chat', { text: 'over poll' });
    await got.until(1);
    expect(got.messages[0]).toMatchObject({ event: 'chat', data: { text: 'over poll' }, transport: 'poll' });
    // A cut: the reconnect starts with the transport that opened, the blocked ones are not waited for.
    for (const conn of hub.connections()) conn.close();
    hub.publish('chat', { text: 'after the cut' });
    await got.until(2);
    expect(upgrades).toBe(1);
    expect(seen.filter((p) => p === '/rt/sse')).toHaveLength(1);
    expect(got.messages.map((m) => (m.data as { text: string }).text)).toEqual(['over poll', 'after the cut']);
  });

  it('a black-holed upgrade (no answer) is abandoned after openTimeout for the next transport', async () => {
    const held: Duplex[] = [];
    const s = await server(
      (req, res) => {
        eventStream(res);
        res.write(': hello\n\n');
      },
      (_req, socket) => blackHole(held, socket), // never answered
    );
    const c = client({ url: `${s.origin}/rt`, openTimeout: 300 });
    const t0 = Date.now();
    await untilStatus(c, (st) => st.state === 'open');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(c.status.transport).toBe('sse');
    expect(c.status.error).toBeUndefined();
    // The abandoned handshake was torn down by the client: the server sees its socket close.
    await expect.poll(() => held.length > 0 && held.every((sock) => sock.destroyed), { timeout: 3000 }).toBe(true);
  });

  it('an SSE stream that opens but never sends a byte (a buffering proxy) falls back to poll', async () => {
    const s = await server((req, res) => {
      if (path(req) === '/rt/sse') return eventStream(res); // headers, then silence
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('id: 1\ndata: {"via":"poll"}\n\n');
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['sse', 'poll'], heartbeat: { timeout: 300 } });
    const got = collect(c);
    await got.until(1);
    expect(got.messages[0]).toMatchObject({ id: '1', data: { via: 'poll' }, transport: 'poll' });
    expect(got.errors[0]).toMatchObject({ code: 'HEARTBEAT_TIMEOUT' });
  });
});

describe('the wire', () => {
  it('WebSocket 4401: the token is asked again and the reconnect carries it, with the cursor', async () => {
    const s = await server();
    const wss = new WebSocketServer({ server: s.server });
    const urls: URLSearchParams[] = [];
    wss.on('connection', (socket, req) => {
      const q = query(req);
      urls.push(q);
      if (q.get('access_token') !== 'fresh') return socket.close(4401, 'expired');
      socket.send(JSON.stringify([{ id: '8', event: 'e', data: 8 }, { id: '9', event: 'e', data: 9 }]));
    });
    let calls = 0;
    const c = client({ url: `${s.origin}/rt`, transports: ['websocket'], token: async () => (++calls === 1 ? 'stale' : 'fresh'), lastEventId: '7' });
    const got = collect(c);
    await got.until(2);
    expect(urls.map((q) => [q.get('access_token'), q.get('lastEventId')])).toEqual([
      ['stale', '7'],
      ['fresh', '7'],
    ]);
    expect(got.errors.map((e) => [e.code, e.closeCode])).toEqual([['UNAUTHORIZED', 4401]]);
    expect(c.status.lastEventId).toBe('9');
    c.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it('SSE: Retry-After is waited for; the cursor goes as query and Last-Event-ID; split CRLF chunks decode', async () => {
    const requests: Array<{ at: number; lastEventId: string | null; header: string | undefined; auth: string | undefined }> = [];
    const s = await server((req, res) => {
      requests.push({ at: Date.now(), lastEventId: query(req).get('lastEventId'), header: req.headers['last-event-id'] as string | undefined, auth: req.headers.authorization });
      if (requests.length === 1) return void res.writeHead(503, { 'retry-after': '1' }).end();
      eventStream(res);
      if (requests.length === 2) {
        res.write('id: 1\r\ndata: {"n":');
        setTimeout(() => res.end('1}\r\n\r\nid: 2\r\nevent: other\r\ndata: {"n":2}\r\n\r\n'), 20);
      } else res.write('id: 3\ndata: {"n":3}\n\n');
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['sse'], token: 'tkn', headers: { 'X-App': 'test' } });
    const got = collect(c);
    await got.until(3);
    expect(got.messages.map((m) => [m.id, m.event, m.data])).toEqual([
      ['1', 'message', { n: 1 }],
      ['2', 'other', { n: 2 }],
      ['3', 'message', { n: 3 }],
    ]);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(requests.map((r) => [r.lastEventId, r.header])).toEqual([
      [null, undefined],
      [null, undefined],
      ['2', '2'],
    ]);
    expect(requests.every((r) => r.auth === 'Bearer tkn')).toBe(true);
  });

  it('SSE retry: sets the base delay of the next reconnect', async () => {
    const at: number[] = [];
    const s = await server((_req, res) => {
      at.push(Date.now());
      eventStream(res);
      if (at.length === 1) res.end('retry: 600\nid: 1\ndata: 1\n\n');
      else res.write('id: 2\ndata: 2\n\n');
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['sse'], reconnect: { initialDelay: 10, maxDelay: 10_000, jitter: 'none' } });
    const got = collect(c);
    await got.until(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(550);
  });
});

describe('a server that breaks the protocol', () => {
  it('poll: answers every poll at once with nothing; the client paces its polls with backoff instead of spinning', async () => {
    let polls = 0;
    const s = await server((_req, res) => {
      polls++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end();
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['poll'], reconnect: { initialDelay: 200, maxDelay: 200, jitter: 'none' } });
    const ended = await new Promise<SurewireError[]>((resolve) => {
      const errors: SurewireError[] = [];
      c.onError((e) => errors.push(e) === 2 && resolve(errors));
    });
    expect(ended.map((e) => e.code)).toEqual(['STREAM_ENDED', 'STREAM_ENDED']);
    // Two quick empty answers end a round; a loaded machine may make some slower than "at once".
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(polls).toBeLessThan(100);
    expect(c.status).toMatchObject({ state: 'reconnecting', attempt: 2 });
  });
});

describe('servers the reference hub is not', () => {
  it.each(['🎉-1', 'שלום-1', ' padded '])('SSE reconnects after an event whose id no header can carry as it is (%j): the query carries it', async (id) => {
    const cursors: Array<[string | null, string | undefined]> = [];
    const s = await server((req, res) => {
      cursors.push([query(req).get('lastEventId'), req.headers['last-event-id'] as string | undefined]);
      eventStream(res);
      if (cursors.length === 1) res.end(`id: ${id}\ndata: "a"\n\n`);
      else res.write('data: "b"\n\n');
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['sse'], heartbeat: false });
    const got = collect(c);
    await got.until(2);
    expect(got.messages.map((m) => m.data)).toEqual(['a', 'b']);
    expect(cursors).toEqual([
      [null, undefined],
      [id, undefined],
    ]);
  });

  it('poll: a server that sends nothing, headers included, until its poll timeout still lets a resumed poll open (openTimeout gives way to pollTimeout)', async () => {
    const HOLD = 1500;
    const held = new Set<ServerResponse>();
    const s = await server((req, res) => {
      const reply = (body: string): void => {
        held.delete(res);
        if (!res.writableEnded && !res.destroyed) res.writeHead(200, { 'content-type': 'text/event-stream' }).end(body);
      };
      if (query(req).get('lastEventId') === null) return reply('event: surewire:hello\nid: 0\ndata: {}\n\n');
      held.add(res);
      setTimeout(() => reply(''), HOLD);
    });
    const c = client({ url: `${s.origin}/rt`, transports: ['poll'], openTimeout: 500, heartbeat: false });
    const errors = collect(c).errors;
    await untilStatus(c, (st) => st.state === 'open');
    await expect.poll(() => held.size, { timeout: 5000 }).toBe(1);
    for (const res of held) res.socket?.destroy();
    await untilStatus(c, (st) => st.state === 'reconnecting');
    await untilStatus(c, (st) => st.state === 'open', 3 * HOLD);
    expect(errors.map((e) => e.code)).not.toContain('OPEN_TIMEOUT');
  });
});

describe('close()', () => {
  it('while connecting to a black hole: no timer, no socket left', async () => {
    const held: Duplex[] = [];
    const s = await server(undefined, (_req, socket) => blackHole(held, socket));
    const timers = trackClientTimers();
    onTestFinished(() => timers.restore());
    const c = client({ url: `${s.origin}/rt`, transports: ['websocket'], openTimeout: 10_000 });
    await expect.poll(() => held.length, { timeout: 3000 }).toBe(1);
    expect(timers.own()).toEqual([expect.stringContaining('setTimeout(10000)')]); // the open timeout
    c.close();
    expect(timers.own()).toEqual([]);
    await s.allSocketsClosed(3000);
    expect(timers.caused()).toEqual([]);
  });
});

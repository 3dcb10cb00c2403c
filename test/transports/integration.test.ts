/**
 * The transports against real servers on 127.0.0.1 (not our hub: a minimal `node:http` server
 * and a `ws` WebSocketServer written here, one endpoint per scenario), with Node's own `fetch`.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createPollTransport } from '../../src/transports/poll';
import { createSseTransport } from '../../src/transports/sse';
import type { WireEvent } from '../../src/transports/transport';
import { createWebSocketTransport } from '../../src/transports/websocket';
import type { WebSocketConstructor } from '../../src/types';
import { context, recorder } from './helpers';

const text = (data: string, id?: string, event = 'message'): WireEvent => ({ id, event, format: 'text', data });

let http: Server;
let base: string;
/** Every request the HTTP server saw: path, query cursor, header cursor, auth. */
const seen: Array<{ path: string; query: string | null; header: string | undefined; auth: string | undefined }> = [];
/** Requests whose connection closed, by path. */
const closedRequests: string[] = [];
const posted: unknown[] = [];

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url!, base);
  const cursor = url.searchParams.get('lastEventId');
  seen.push({ path: url.pathname, query: cursor, header: req.headers['last-event-id'] as string | undefined, auth: req.headers.authorization });
  req.on('close', () => closedRequests.push(url.pathname));
  switch (url.pathname) {
    case '/sse':
      sse(res);
      res.write(': open\n\n');
      res.write('event: surewire:hello\ndata: {"heartbeat":15000,"resumed":true}\n\n');
      res.write('id: 1\nevent: chat\ndata: {"n":1}\n\n');
      res.write('id: 2\ndata: two\n\nid: 3\ndata: thr');
      setTimeout(() => res.end('ee\n\n'), 5);
      return;
    case '/redirect':
      res.writeHead(307, { location: `/sse${url.search}` }).end();
      return;
    case '/poll': {
      // A tiny log of ids 1..6, two per answer; no cursor: hello with the newest id "0".
      if (cursor === null) {
        sse(res);
        res.end('event: surewire:hello\nid: 0\ndata: {"heartbeat":15000}\n\n');
        return;
      }
      const from = Number(cursor);
      if (from >= 6) {
        res.writeHead(204).end();
        return;
      }
      sse(res);
      res.end(`id: ${from + 1}\ndata: e${from + 1}\n\n: comment\n\nid: ${from + 2}\ndata: e${from + 2}\n\n`);
      return;
    }
    case '/poll-redirect':
      res.writeHead(302, { location: `/poll${url.search}` }).end();
      return;
    case '/cut':
      sse(res);
      res.write('id: 1\ndata: whole\n\nid: 2\ndata: to');
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    case '/hold':
      sse(res);
      res.write(': held\n\n');
      return;
    case '/send': {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        posted.push({ contentType: req.headers['content-type'], auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

let wss: WebSocketServer;
let wsBase: string;
const wsConnections: Array<{ url: string; messages: string[]; closed: Promise<[number, Buffer]> }> = [];
let hang: NetServer;
const hangSockets = new Set<Socket>();

beforeAll(async () => {
  http = createServer(handle);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');

  // Accepts TCP connections and never answers the upgrade: for close() while CONNECTING.
  hang = createNetServer((s) => {
    hangSockets.add(s);
    s.resume();
    s.on('close', () => hangSockets.delete(s));
  });
  hang.listen(0, '127.0.0.1');
  await once(hang, 'listening');
  wsBase = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on('connection', (socket, req) => {
    const messages: string[] = [];
    const closed = once(socket, 'close') as Promise<[number, Buffer]>;
    wsConnections.push({ url: req.url!, messages, closed });
    socket.on('message', (data) => {
      const raw = String(data);
      messages.push(raw);
      const msg = JSON.parse(raw);
      if (msg.type === 'ping') socket.send('{"type":"pong"}');
      else if (msg.mid) socket.send(JSON.stringify({ type: 'ack', mids: [msg.mid] }));
    });
    socket.send('{"type":"hello","heartbeat":15000,"resumed":true}');
    socket.send(JSON.stringify([{ id: '5', event: 'chat', data: { n: 5 } }, { id: '6', data: 'six' }]));
    socket.send('{"id":"7","data":[7]}');
    socket.send('{"type":"ping"}');
  });
});

afterAll(async () => {
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

describe('SSE against a node:http server', () => {
  it('delivers hello and events in order with their ids, joining a body split across writes, then ends', async () => {
    const rec = recorder();
    createSseTransport(context({ url: `${base}/sse`, cursor: '0', token: 't1' }), rec);
    expect(await rec.ended).toEqual({ kind: 'ended' });
    expect(rec.calls.find((c) => c.type === 'hello')).toEqual({ type: 'hello', hello: { heartbeat: 15000, resumed: true } });
    expect(rec.eventList()).toEqual([text('{"n":1}', '1', 'chat'), text('two', '2'), text('three', '3')]);
    expect(seen.find((s) => s.path === '/sse')).toEqual({ path: '/sse', query: '0', header: '0', auth: 'Bearer t1' });
  });

  it('follows a redirect', async () => {
    const rec = recorder();
    createSseTransport(context({ url: `${base}/redirect`, cursor: '9' }), rec);
    expect(await rec.ended).toEqual({ kind: 'ended' });
    expect(rec.eventList().map((e) => e.id)).toEqual(['1', '2', '3']);
    expect(seen.filter((s) => s.query === '9').map((s) => s.path)).toEqual(['/redirect', '/sse']);
  });

  it('reports a connection cut mid-event as a network failure, without the torn event', async () => {
    const rec = recorder();
    createSseTransport(context({ url: `${base}/cut` }), rec);
    const failure = await rec.ended;
    expect(failure.kind).toBe('network');
    expect(rec.eventList()).toEqual([text('whole', '1')]);
  });

  it('close() closes the connection: the server sees it', async () => {
    const rec = recorder();
    const t = createSseTransport(context({ url: `${base}/hold` }), rec);
    await rec.until((c) => c.some((x) => x.type === 'activity'));
    const before = closedRequests.filter((p) => p === '/hold').length;
    t.close();
    await until(() => closedRequests.filter((p) => p === '/hold').length > before);
    expect(rec.types()).toEqual(['open', 'activity']);
  });

  it('reports 404 as an http failure', async () => {
    const rec = recorder();
    createSseTransport(context({ url: `${base}/nowhere` }), rec);
    expect(await rec.ended).toEqual({ kind: 'http', status: 404, retryAfter: null });
  });

  it('sends a batch with POST', async () => {
    const rec = recorder();
    const t = createSseTransport(context({ url: `${base}/hold`, sendUrl: `${base}/send`, token: 'tk' }), rec);
    await rec.opened;
    await t.send([{ event: 'typing', data: { user: 'ann' }, mid: 'p1' }]);
    expect(posted.at(-1)).toEqual({ contentType: 'application/json', auth: 'Bearer tk', body: [{ event: 'typing', data: { user: 'ann' }, mid: 'p1' }] });
    t.close();
  });
});

describe('long-poll against a node:http server', () => {
  it('polls at once, carrying the newest id each time, until the server says 204', async () => {
    let cursor: string | undefined;
    const rec = recorder({
      hello: (h) => void (cursor = h.id),
      events: (b) => {
        for (const e of b) if (e.id) cursor = e.id;
      },
    });
    const start = seen.length;
    createPollTransport(context({ url: `${base}/poll`, lastEventId: () => cursor }), rec);
    expect(await rec.ended).toEqual({ kind: 'no-content' });
    expect(rec.eventList()).toEqual([1, 2, 3, 4, 5, 6].map((n) => text(`e${n}`, String(n))));
    const polls = seen.slice(start).filter((s) => s.path === '/poll');
    expect(polls.map((s) => s.query)).toEqual([null, '0', '2', '4', '6']);
    expect(polls.map((s) => s.header)).toEqual([undefined, '0', '2', '4', '6']);
  });

  it('follows a redirect on every poll', async () => {
    let cursor: string | undefined = '2';
    const rec = recorder({
      events: (b) => {
        for (const e of b) if (e.id) cursor = e.id;
      },
    });
    createPollTransport(context({ url: `${base}/poll-redirect`, lastEventId: () => cursor }), rec);
    expect(await rec.ended).toEqual({ kind: 'no-content' });
    expect(rec.eventList().map((e) => e.id)).toEqual(['3', '4', '5', '6']);
  });

  it('reports a response cut mid-event as a network failure, without the torn event', async () => {
    const rec = recorder();
    createPollTransport(context({ url: `${base}/cut` }), rec);
    expect((await rec.ended).kind).toBe('network');
    expect(rec.eventList()).toEqual([text('whole', '1')]);
  });

  it('reports a held request past pollRequestTimeout as network, and the server sees it closed', async () => {
    const rec = recorder();
    const before = closedRequests.filter((p) => p === '/hold').length;
    createPollTransport(context({ url: `${base}/hold`, pollRequestTimeout: 150 }), rec);
    const failure = await rec.ended;
    expect(failure).toEqual({ kind: 'network', cause: new Error('poll timed out') });
    await until(() => closedRequests.filter((p) => p === '/hold').length > before);
  });

  it('close() closes the pending request: the server sees it', async () => {
    const rec = recorder();
    const t = createPollTransport(context({ url: `${base}/hold` }), rec);
    await rec.until((c) => c.filter((x) => x.type === 'activity').length === 2);
    const before = closedRequests.filter((p) => p === '/hold').length;
    t.close();
    await until(() => closedRequests.filter((p) => p === '/hold').length > before);
    expect(rec.types()).toEqual(['open', 'activity', 'activity']);
  });
});

describe('WebSocket against a ws server', () => {
  const WS = WebSocket as unknown as WebSocketConstructor;

  it('delivers hello, array and single frames in order, answers pings, sends, and closes cleanly', async () => {
    const rec = recorder();
    const t = createWebSocketTransport(context({ url: `${wsBase}/rt/ws?v=1`, cursor: '4', token: 'se cret', WebSocket: WS }), rec);
    await rec.until((c) => c.filter((x) => x.type === 'events').length === 2);
    const conn = wsConnections.at(-1)!;
    expect(conn.url).toBe('/rt/ws?v=1&lastEventId=4&access_token=se%20cret');
    expect(rec.calls.filter((c) => c.type !== 'activity').map((c) => c.type)).toEqual(['open', 'hello', 'events', 'events']);
    expect(rec.batches()).toEqual([
      [
        { id: '5', event: 'chat', format: 'json', data: { n: 5 } },
        { id: '6', event: 'message', format: 'json', data: 'six' },
      ],
      [{ id: '7', event: 'message', format: 'json', data: [7] }],
    ]);
    await until(() => conn.messages.includes('{"type":"pong"}'));

    t.ping!();
    await rec.until((c) => c.some((x) => x.type === 'pong'));
    await t.send([{ event: 'typing', data: { user: 'ann' }, mid: 'w1' }]);
    await rec.until((c) => c.some((x) => x.type === 'ack'));
    expect(rec.calls.find((c) => c.type === 'ack')).toEqual({ type: 'ack', mids: ['w1'] });
    expect(conn.messages).toContain('{"event":"typing","data":{"user":"ann"},"mid":"w1"}');

    t.close();
    const [code] = await conn.closed;
    expect(code).toBe(1000);
    expect(rec.types()).not.toContain('end');
  });

  it('reports a server close after open with its code', async () => {
    const rec = recorder();
    createWebSocketTransport(context({ url: `${wsBase}/ws`, WebSocket: WS }), rec);
    await rec.opened;
    await until(() => wsConnections.length > 0 && [...wss.clients].length > 0);
    for (const client of wss.clients) client.close(4001, 'bye');
    expect(await rec.ended).toEqual({ kind: 'close', code: 4001, reason: 'bye' });
  });

  it('reports a refused connection as network before open', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const rec = recorder();
    createWebSocketTransport(context({ url: `http://127.0.0.1:${port}/ws`, WebSocket: WS }), rec);
    expect((await rec.ended).kind).toBe('network');
    expect(rec.types()).toEqual(['end']);
  });

  it('close() while the handshake is pending releases the TCP connection without an uncaught error', async () => {
    const rec = recorder();
    const port = (hang.address() as AddressInfo).port;
    const t = createWebSocketTransport(context({ url: `http://127.0.0.1:${port}/ws`, WebSocket: WS }), rec);
    await until(() => hangSockets.size === 1);
    t.close();
    await until(() => hangSockets.size === 0);
    // `ws` emits its handshake-abort error on the next tick: it must find our no-op handler.
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.calls).toEqual([]);
  });
});

/** Waits for a condition the servers flip asynchronously (no fixed sleeps). */
async function until(condition: () => boolean, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

// The bench server: one node:http server on 127.0.0.1 that serves the pages and bundles, collects
// results, and hosts every system under test on one origin (so that no CORS preflight skews the
// HTTP clients): native WebSocket / SSE / long-poll endpoints, surewire hubs under /h/<name>/, and
// two socket.io servers (/sio/ plain, /sio-r/ with connection-state recovery).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, normalize } from 'node:path';
import { WebSocketServer } from 'ws';
import { Server as SocketIOServer } from 'socket.io';
import { Feed, wsSink, sseSink, sioSink, sseText } from './feed.mjs';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.map': 'application/json' };
const POLL_MAX_EVENTS = 512; // same cap as the hub's BATCH_MAX_EVENTS, so poll baselines compare clients, not servers
const POLL_TIMEOUT = 25_000;

export async function createBenchServer({ roots }) {
  const feeds = new Map(); // name → Feed (+ extras)
  const hubs = new Map(); // name → { hub, ws: 'ok' | 'refuse' | 'blackhole' }
  const waiters = new Map(); // token → { resolve, reject, timer }
  const handlers = new Map(); // token → { go?, progress?, ready? }
  const held = new Set(); // black-holed upgrade sockets
  const streams = new Map(); // feed name → Set of { cut() } (native SSE/WS connections)
  const sockets = new Set();

  const server = http.createServer();
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const track = (feedName, conn) => {
    let set = streams.get(feedName);
    if (!set) streams.set(feedName, (set = new Set()));
    set.add(conn);
    return () => set.delete(conn);
  };

  const body = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  async function onRequest(req, res) {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    const q = url.searchParams;
    try {
      if (p.startsWith('/h/')) return hubRequest(req, res, p, url.search);
      if (req.method === 'GET' && (p.startsWith('/pages/') || p.startsWith('/assets/') || p.startsWith('/dist/'))) {
        const [, top, ...rest] = p.split('/');
        const file = normalize(join(roots[top], ...rest));
        if (!file.startsWith(roots[top])) return end(res, 403);
        const data = await readFile(file).catch(() => null);
        if (!data) return end(res, 404);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        return res.end(data);
      }
      if (p === '/favicon.ico') return end(res, 204);
      const token = q.get('token');
      const h = token && handlers.get(token);
      if (req.method === 'POST' && p === '/result') {
        const text = await body(req);
        end(res, 204);
        const w = waiters.get(token);
        if (w) {
          waiters.delete(token);
          clearTimeout(w.timer);
          try {
            w.resolve(JSON.parse(text));
          } catch (e) {
            w.reject(e);
          }
        }
        return;
      }
      if (req.method === 'POST' && p === '/go') {
        end(res, 204);
        return h?.go?.();
      }
      if (req.method === 'POST' && p === '/progress') {
        end(res, 204);
        return h?.progress?.(Number(q.get('n')));
      }
      if (req.method === 'POST' && p === '/ready') {
        // Held until the scenario starts: the answer tells the page when to stop.
        if (!h?.ready) return end(res, 404);
        const answer = await h.ready(q.get('c'));
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(answer));
      }
      if (p === '/native/sse') return nativeSse(req, res, q);
      if (p === '/native/poll') return nativePoll(req, res, q);
      end(res, 404);
    } catch (err) {
      if (!res.headersSent) end(res, 500);
      console.error('[bench server]', err);
    }
  }

  function end(res, status) {
    res.writeHead(status, { 'content-length': 0 });
    res.end();
  }

  function nativeSse(req, res, q) {
    const name = q.get('feed');
    const feed = feeds.get(name);
    if (!feed) return end(res, 404);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(':\n\n');
    // A conforming SSE server: replay what the client missed after Last-Event-ID, then go live.
    const last = Number(req.headers['last-event-id'] ?? q.get('lastEventId') ?? NaN);
    if (Number.isFinite(last) && feed.published > last) res.write(sseText(feed.after(last)));
    const remove = feed.add(sseSink(res));
    const untrack = track(name, { cut: () => res.socket?.destroy() });
    res.on('close', () => {
      remove();
      untrack();
    });
  }

  function nativePoll(req, res, q) {
    const feed = feeds.get(q.get('feed'));
    if (!feed) return end(res, 404);
    const after = Number(q.get('after') ?? 0);
    const answer = () => {
      const batch = feed.after(after, POLL_MAX_EVENTS);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.end(sseText(batch));
    };
    if (feed.published > after) return answer();
    let timer;
    const wake = () => {
      feed.pollWaiters.delete(wake);
      clearTimeout(timer);
      if (!res.writableEnded && !res.destroyed) answer();
    };
    timer = setTimeout(wake, POLL_TIMEOUT);
    feed.pollWaiters.add(wake);
    res.on('close', () => {
      feed.pollWaiters.delete(wake);
      clearTimeout(timer);
    });
  }

  function hubRequest(req, res, p, search) {
    const [, , name, ...rest] = p.split('/');
    const entry = hubs.get(name);
    if (!entry) return end(res, 404);
    req.url = `/${rest.join('/')}${search}`;
    entry.hub.handle(req, res, () => end(res, 404));
  }

  function onUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (p.startsWith('/sio/') || p.startsWith('/sio-r/')) return; // socket.io's own listeners
    if (p === '/native/ws') {
      const name = url.searchParams.get('feed');
      const feed = feeds.get(name);
      if (!feed) return socket.destroy();
      return wss.handleUpgrade(req, socket, head, (ws) => {
        const remove = feed.add(wsSink(ws));
        const untrack = track(name, { cut: () => ws.terminate() });
        ws.on('close', () => {
          remove();
          untrack();
        });
      });
    }
    if (p.startsWith('/h/')) {
      const name = p.split('/')[2];
      const entry = hubs.get(name);
      if (!entry) return socket.destroy();
      if (entry.ws === 'refuse') {
        // A proxy that refuses upgrades: the browser sees a failed handshake.
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (entry.ws === 'blackhole') {
        // A proxy that swallows upgrades: never answered; only the client's openTimeout helps.
        held.add(socket);
        socket.on('close', () => held.delete(socket));
        socket.on('error', () => {});
        return;
      }
      if (!entry.hub.handleUpgrade(req, socket, head)) socket.destroy();
      return;
    }
    socket.destroy();
  }

  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);

  // socket.io: websocket-only for fairness (no long-poll handshake before the upgrade).
  const sioOpts = { transports: ['websocket'], destroyUpgrade: false, serveClient: false, perMessageDeflate: false, cors: undefined };
  const sio = new SocketIOServer(server, { ...sioOpts, path: '/sio/' });
  const sioR = new SocketIOServer(server, { ...sioOpts, path: '/sio-r/', connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true } });
  for (const io of [sio, sioR]) {
    io.on('connection', (s) => {
      const feed = s.handshake.query.feed;
      if (!s.recovered) s.join(feed);
      const h = handlers.get(feed);
      h?.sioConnect?.(s);
    });
  }

  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    server,
    sio,
    sioR,
    /** A feed reachable as ?feed=name on the native endpoints and socket.io (room `name`). */
    addFeed(name, opts) {
      const feed = new Feed(opts);
      feeds.set(name, feed);
      if (opts?.sio) feed.add(sioSink(opts.sio.to(name)));
      return feed;
    },
    removeFeed(name) {
      feeds.delete(name);
      for (const c of streams.get(name) ?? []) c.cut();
      streams.delete(name);
    },
    /** Destroys every native SSE/WS connection of a feed without a goodbye, like a network cut. */
    cutNative(name) {
      const list = [...(streams.get(name) ?? [])];
      for (const c of list) c.cut();
      return list.length;
    },
    /** Destroys the TCP socket under every socket.io connection of `io`. */
    cutSio(io) {
      let n = 0;
      for (const s of io.of('/').sockets.values()) {
        const ws = s.conn.transport?.socket;
        if (ws?.terminate) {
          ws.terminate();
          n++;
        }
      }
      return n;
    },
    addHub(name, hub, ws = 'ok') {
      hubs.set(name, { hub, ws });
    },
    /** Unregisters a name without closing its hub (one hub may serve several names). */
    removeHubEntry(name) {
      hubs.delete(name);
    },
    async removeHub(name) {
      const e = hubs.get(name);
      hubs.delete(name);
      if (e) await e.hub.close();
    },
    on(token, h) {
      handlers.set(token, h);
      return () => handlers.delete(token);
    },
    /** Resolves with the JSON a page POSTs to /result?token=…; rejects after `ms`. */
    expect(token, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(token);
          reject(new Error(`no result for ${token} within ${ms} ms`));
        }, ms);
        waiters.set(token, { resolve, reject, timer });
      });
    },
    async close() {
      for (const s of held) s.destroy();
      for (const [name] of hubs) await this.removeHub(name);
      sio.close();
      sioR.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// The surewire demo server: static files, a hub under /rt, a ticker, a chat, and a few
// demo-only endpoints that break the connection on purpose so the client can be seen surviving it.
//
//   npm run demo                 → http://127.0.0.1:8080   (PORT / HOST to change)
//   import { startDemo } from './demo/server.mjs'   → tests start it in-process on port 0
//
// Plain JS on purpose: it imports the built `dist/server.mjs`, exactly what `surewire/server`
// resolves to for a user, and needs no build step of its own.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, extname, join, normalize, sep } from 'node:path';

// `surewire/server` as built by `npm run build`; say so when it is missing.
const { createHub } = await import('../dist/server.mjs').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/server.mjs')) throw err;
  throw new Error('dist/server.mjs is missing: run `npm run build` first (`npm run demo` builds, then starts the demo).', { cause: err });
});

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const dist = join(root, 'dist');

/** Where the hub lives; the page connects to `{origin}/rt?cid=…`. */
const RT = '/rt';
const MAX_CHAT_TEXT = 500;
const MAX_USER = 40;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * The ESM build keeps `mitt` and `eventsource-parser` external, as npm users' bundlers expect.
 * For a bundler-free browser the ESM page maps the bare names with an import map to these two
 * URLs, which serve the packages' own ESM entry points (resolved the way Node resolves `import`).
 */
const VENDOR = {
  '/node_modules/mitt/dist/mitt.mjs': () => import.meta.resolve('mitt'),
  '/node_modules/eventsource-parser/dist/index.js': () => import.meta.resolve('eventsource-parser'),
};

/** The demo's pages and their assets, by URL path. Nothing else under demo/ is served. */
const PAGES = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/esm.html': 'esm.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};

/**
 * Starts the demo.
 * @param {{ port?: number, host?: string, tickerMs?: number, heartbeat?: number, history?: number }} [options]
 *   `port` 0 picks a free port; `tickerMs` is the ticker period (500 ms by default, faster in
 *   tests); `heartbeat` is the hub's heartbeat in ms (2000: short, so a stall shows in seconds).
 * @returns {Promise<{ url: string, hub: any, flags: { blockWebSocket: boolean, disableSse: boolean }, close(): Promise<void> }>}
 */
export async function startDemo({ port = 8080, host = '127.0.0.1', tickerMs = 500, heartbeat = 2000, history = 1000 } = {}) {
  const hub = createHub({
    path: RT, // handleUpgrade then takes exactly /rt/ws
    history,
    heartbeat,
    onMessage(msg) {
      if (msg.event !== 'chat') return;
      const chat = cleanChat(msg.data);
      if (chat) hub.publish('chat', chat);
    },
  });

  /** Server-wide switches, shared by every tab: they model a network or a proxy, not one user. */
  const flags = { blockWebSocket: false, disableSse: false };

  let seq = 0;
  const ticker = setInterval(() => {
    seq += 1;
    hub.publish('tick', { seq, at: Date.now() });
  }, tickerMs);

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', String(err?.message ?? err));
      else res.destroy();
    });
  });

  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const path = url.pathname;

    if (path === RT || path.startsWith(RT + '/')) {
      // "Disable SSE": answer like a server that does not offer it, so the client moves on to poll.
      if (flags.disableSse && path === RT + '/sse') return send(res, 404, 'text/plain; charset=utf-8', 'SSE disabled by the demo\n');
      // Mounted like Express's `app.use('/rt', hub.handle)`: the hub sees `/sse?…`, `/poll?…`.
      req.originalUrl = req.url;
      const rest = req.url.slice(RT.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      return hub.handle(req, res, () => send(res, 404, 'text/plain; charset=utf-8', 'Not found\n'));
    }
    if (path.startsWith('/demo/')) return control(req, res, path, url.searchParams);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    if (path in PAGES) return serveFile(res, join(here, PAGES[path]));
    if (path in VENDOR) return serveFile(res, fileURLToPath(VENDOR[path]()));
    if (path.startsWith('/dist/')) {
      let name;
      try {
        name = decodeURIComponent(path.slice('/dist/'.length));
      } catch {
        return notFound(res);
      }
      const file = normalize(join(dist, name));
      const ext = extname(file);
      if (!file.startsWith(dist + sep) || !['.js', '.mjs', '.map'].includes(ext)) return notFound(res);
      return serveFile(res, file);
    }
    return notFound(res);
  }

  /** The demo-only controls. POST only, and same-origin when the browser says where it is from. */
  function control(req, res, path, params) {
    if (path === '/demo/state' && req.method === 'GET') return json(res, 200, state());
    if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}`) return json(res, 403, { error: 'cross-origin control request' });
    const on = params.get('on') !== '0';
    const cid = params.get('cid');
    switch (path) {
      case '/demo/block-ws':
      case '/demo/disable-sse':
        flags[path === '/demo/block-ws' ? 'blockWebSocket' : 'disableSse'] = on;
        // Every open tab shows the switches: tell them through the hub itself.
        hub.publish('flags', { ...flags, tickerMs });
        return json(res, 200, state());
      case '/demo/drop': {
        const mine = connectionsOf(cid);
        for (const c of mine) c.close();
        return json(res, 200, { dropped: mine.length, transports: mine.map((c) => c.transport) });
      }
      case '/demo/stall': {
        const mine = connectionsOf(cid);
        for (const c of mine) c.pause();
        return json(res, 200, { stalled: mine.length, transports: mine.map((c) => c.transport) });
      }
      case '/demo/restart': {
        const count = hub.connections().length;
        // Answer at once: this tab's own connections are among those being closed.
        hub.disconnectAll().catch(() => {});
        return json(res, 200, { restarted: count });
      }
      default:
        return json(res, 404, { error: 'unknown control' });
    }
  }

  /** The live connections whose request URL carries `cid` (the page puts it in its client URL). */
  function connectionsOf(cid) {
    if (!cid) return [];
    return hub.connections().filter((c) => cidOf(c) === cid);
  }

  function state() {
    const conns = hub.connections();
    return {
      ...flags,
      tickerMs,
      heartbeat,
      seq,
      connections: conns.map((c) => ({ id: c.id, transport: c.transport, cid: cidOf(c) })),
    };
  }

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://demo.invalid').pathname;
    // "Block WebSocket": a proxy that kills upgrades. The browser only sees a failed handshake.
    if (flags.blockWebSocket || path !== RT + '/ws') return void socket.destroy();
    if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
  });

  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(undefined);
      });
    });
  } catch (err) {
    // EADDRINUSE and the like: stop what already runs, so the caller's process can exit.
    clearInterval(ticker);
    await hub.close();
    throw err;
  }
  const address = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing;
  return {
    url,
    hub,
    flags,
    close() {
      closing ??= (async () => {
        clearInterval(ticker);
        await hub.close();
        await new Promise((resolve) => {
          server.close(() => resolve(undefined));
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function cidOf(conn) {
  try {
    return new URL(conn.req.url ?? '/', 'http://demo.invalid').searchParams.get('cid');
  } catch {
    return null;
  }
}

/** Accepts `{ user, text }` strings only; trims and caps them. Anything else is ignored. */
function cleanChat(data) {
  if (!data || typeof data !== 'object') return null;
  const { user, text } = data;
  if (typeof user !== 'string' || typeof text !== 'string') return null;
  const u = user.trim().slice(0, MAX_USER) || 'anon';
  const t = text.trim().slice(0, MAX_CHAT_TEXT);
  return t ? { user: u, text: t, at: Date.now() } : null;
}

async function serveFile(res, file) {
  let body;
  try {
    body = await readFile(file);
  } catch {
    return notFound(res, file.startsWith(dist) ? 'Not built yet: run `npm run build`.\n' : undefined);
  }
  send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', body);
}

function notFound(res, text = 'Not found\n') {
  send(res, 404, 'text/plain; charset=utf-8', text);
}

function json(res, status, value) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

// Run directly: `node demo/server.mjs`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  let demo;
  try {
    demo = await startDemo({ port, host });
  } catch (err) {
    // A second `npm run demo`, or anything else on the port: say what to do, not a stack.
    if (err?.code !== 'EADDRINUSE') throw err;
    console.error(`port ${port} is in use: PORT=${port + 1} npm run demo`);
    process.exit(1);
  }
  console.log(`surewire demo: ${demo.url}  (ESM page: ${demo.url}/esm.html)`);
  const stop = () => {
    demo.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

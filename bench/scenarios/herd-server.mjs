// Herd server process (forked by herd.mjs): one server for `lib`, records the arrival time of
// every new connection attempt, and "restarts" all connections on command.
//   surewire:  createHub().attach(server); restart = hub.disconnectAll() (history kept, close 1012)
//   socketio:  socket.io Server with defaults; restart = close every engine.io connection
//   rws / raw: ws WebSocketServer; restart = close(1012) every socket
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const [lib, repo] = process.argv.slice(2);
const server = http.createServer();
const arrivals = [];
const note = () => arrivals.push(Date.now());
let restart;
let connected = () => 0;

// Arrivals are recorded before any handler runs (prependListener), so server work is not counted.
if (lib === 'surewire') {
  const { createHub } = await import(pathToFileURL(`${repo}/dist/server.mjs`).href);
  const hub = createHub({});
  server.prependListener('upgrade', note);
  server.prependListener('request', (req) => {
    if (/\/(sse|poll)(\?|$)/.test(req.url)) note(); // a fallback attempt is an arrival too
  });
  hub.attach(server);
  restart = () => hub.disconnectAll();
  connected = () => hub.stats().connections.websocket + hub.stats().connections.sse + hub.stats().connections.poll;
} else if (lib === 'socketio') {
  const { Server } = await import('socket.io');
  const io = new Server(server, {});
  // After `new Server`: engine.io re-registers the server's 'request' listeners when it attaches.
  server.prependListener('request', (req) => {
    if (req.url.startsWith('/socket.io/') && !req.url.includes('sid=')) note(); // new engine.io session
  });
  server.prependListener('upgrade', (req) => {
    if (!req.url.includes('sid=')) note(); // websocket-first session (not an upgrade of a polling one)
  });
  restart = () => {
    for (const c of Object.values(io.engine.clients)) c.close();
  };
  connected = () => io.engine.clientsCount;
} else {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    note();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  restart = () => {
    for (const ws of wss.clients) ws.close(1012, 'restart');
  };
  connected = () => wss.clients.size;
}

server.listen(0, '127.0.0.1', 1024, () => process.send({ type: 'listening', port: server.address().port }));

process.on('message', async (m) => {
  if (m.type === 'count') process.send({ type: 'count', connected: connected() });
  if (m.type === 'restart') {
    arrivals.length = 0;
    const t0 = Date.now();
    await restart();
    process.send({ type: 'restarted', t0, took: Date.now() - t0 });
  }
  if (m.type === 'collect') process.send({ type: 'collect', arrivals: [...arrivals], connected: connected() });
  if (m.type === 'exit') process.exit(0);
});

// Herd client process (forked by herd.mjs, run with --expose-gc): N clients of `lib` with their
// default reconnect settings, `ws` injected where the library needs a WebSocket in Node.
// Measures the footprint of N idle connected clients (JS heap, timers), then logs every
// connection attempt (client side) while the server restarts.
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const [lib, repo, port, nArg] = process.argv.slice(2);
const N = Number(nArg);
const url = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}`;
const require = createRequire(`${repo}/package.json`);

const attempts = []; // Date.now() of every WebSocket construction (= a connection attempt)
const intents = []; // surewire: [when the drop was noticed, delay drawn] of every scheduled reconnect
class CountingWS extends WebSocket {
  constructor(...a) {
    super(...a);
    attempts.push(Date.now());
  }
}
let opens = 0;
const opened = new Set(); // clients that have opened at least once
let reopened = 0; // clients that opened again after the restart
let restarted = false;
const reopenedSet = new Set();
const onOpen = (i) => {
  opens++;
  opened.add(i);
  if (restarted && !reopenedSet.has(i)) {
    reopenedSet.add(i);
    reopened++;
  }
};

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const heap = () => {
  for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage().heapUsed;
};

let makeClient;
if (lib === 'surewire') {
  const { createClient } = await import(pathToFileURL(`${repo}/dist/surewire.mjs`).href);
  makeClient = (i) => {
    // The debug logger tells when each client noticed the drop and which delay it drew: the
    // intended attempt time, free of this process's own scheduling delays.
    const debug = (m, d) => {
      if (restarted && m.startsWith('reconnecting in')) intents.push([Date.now(), Number(/reconnecting in (\d+)/.exec(m)?.[1])]);
    };
    const c = createClient({ url, WebSocket: CountingWS, debug });
    c.onStatus((s) => s.state === 'open' && onOpen(i));
    return () => c.close();
  };
} else if (lib === 'socketio') {
  const { io } = require('socket.io-client');
  makeClient = (i) => {
    // forceNew: one Manager (one connection) per client, as in separate browsers; nothing else changed.
    const s = io(url, { forceNew: true });
    s.on('connect', () => onOpen(i));
    // socket.io-client opens with long-polling (XHR), not through an injected WebSocket: log the
    // Manager's own attempts instead.
    s.io.on('reconnect_attempt', () => attempts.push(Date.now()));
    return () => s.close();
  };
} else if (lib === 'rws' || lib === 'rws-per-page') {
  const path = require.resolve('reconnecting-websocket');
  const shared = require(path);
  const source = readFileSync(path, 'utf8');
  // A fresh module instance, as if each client were its own page load: reconnecting-websocket
  // draws its default minReconnectionDelay (1000 + random·4000 ms) once per module load.
  const fresh = () => {
    const m = { exports: {} };
    new Function('module', 'exports', 'require', source)(m, m.exports, require);
    return m.exports;
  };
  makeClient = (i) => {
    // rws: one module instance for every client, as in one page or one Node process.
    const RWS = lib === 'rws' ? shared : fresh();
    const ws = new RWS(wsUrl, [], { WebSocket: CountingWS });
    ws.addEventListener('open', () => onOpen(i));
    return () => ws.close();
  };
} else if (lib === 'raw') {
  makeClient = (i) => {
    const ws = new CountingWS(wsUrl, { perMessageDeflate: false });
    ws.on('open', () => onOpen(i));
    ws.on('error', () => {});
    return () => ws.terminate();
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const send = (m) => process.send(m);

process.on('message', async (m) => {
  if (m.type === 'connect') {
    const heap0 = heap();
    const timers0 = timers();
    const closers = [];
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      closers.push(await makeClient(i));
      if (i % 50 === 49) await sleep(5); // let the accept queue drain
    }
    const deadline = Date.now() + 30_000;
    while (opened.size < N && Date.now() < deadline) await sleep(20);
    const connectMs = Date.now() - t0;
    // Idle long enough that per-connection start-up timers have fired (surewire's 5 s
    // "stable connection" timer resets the attempt count), so only steady-state timers remain.
    await sleep(5500);
    const heap1 = heap();
    const timers1 = timers();
    globalThis.__closers = closers;
    send({ type: 'connected', opened: opened.size, connectMs, heapPerClient: (heap1 - heap0) / N, timersPerClient: (timers1 - timers0) / N, timers0, timers1 });
  }
  if (m.type === 'restarting') {
    restarted = true;
    attempts.length = 0;
    intents.length = 0;
  }
  if (m.type === 'collect') send({ type: 'collect', attempts: [...attempts], intents: [...intents], reopened });
  if (m.type === 'exit') process.exit(0);
});
send({ type: 'ready' });

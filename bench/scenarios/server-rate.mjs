// "Is the server the bottleneck?" Each server's rate into a raw sink in Node: the sink counts
// events without decoding them (counts `"seq":` occurrences) and acknowledges directly. The sink
// runs in the same process as the server (one core for both), so this understates the server.
import http from 'node:http';
import { WebSocket } from 'ws';
import { io as sioClient } from 'socket.io-client';
import { produce, hubSink } from '../lib/feed.mjs';
import { token, bounded } from '../lib/util.mjs';

const countSeq = (s) => {
  let n = 0;
  let i = -1;
  while ((i = s.indexOf('"seq":', i + 1)) !== -1) n++;
  return n;
};

function httpGet(url, onData) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c) => {
        if (onData) onData(c);
        else text += c;
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    return req;
  });
}

const SINKS = {
  // native: one event per frame
  'native-ws': (srv, t, ack) => {
    const ws = new WebSocket(`${srv.origin.replace('http', 'ws')}/native/ws?feed=${t}`, { perMessageDeflate: false });
    let n = 0;
    ws.on('message', () => ack(++n));
    return { opened: new Promise((r) => ws.on('open', r)), close: () => ws.terminate() };
  },
  'native-sse': (srv, t, ack) => sseSink(`${srv.origin}/native/sse?feed=${t}`, ack),
  'native-poll': (srv, t, ack) => pollSink((after) => `${srv.origin}/native/poll?feed=${t}&after=${after}`, ack),
  socketio: (srv, t, ack) => {
    const s = sioClient(srv.origin, { path: '/sio/', transports: ['websocket'], query: { feed: t } });
    let n = 0;
    s.on('message', () => ack(++n));
    return { opened: new Promise((r) => s.on('connect', r)), close: () => s.close() };
  },
  'hub-ws': (srv, t, ack) => {
    const ws = new WebSocket(`${srv.origin.replace('http', 'ws')}/h/${t}/ws`, { perMessageDeflate: false });
    let n = 0;
    let hello;
    const opened = new Promise((r) => (hello = r));
    ws.on('message', (buf) => {
      const s = buf.toString();
      if (s.includes('"hello"')) hello();
      const k = countSeq(s);
      if (k) ack((n += k));
    });
    return { opened, close: () => ws.terminate() };
  },
  'hub-sse': (srv, t, ack) => sseSink(`${srv.origin}/h/${t}/sse`, ack, 'surewire:hello'),
  'hub-poll': (srv, t, ack) =>
    pollSink((after) => `${srv.origin}/h/${t}/poll${after === undefined ? '' : `?lastEventId=${after}`}`, ack, true),
};

function sseSink(url, ack, helloMark) {
  let n = 0;
  let carry = '';
  let opened;
  const ready = new Promise((r) => (opened = r));
  const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    if (!helloMark) opened();
    res.on('data', (c) => {
      const s = carry + c;
      if (helloMark && s.includes(helloMark)) opened();
      const k = countSeq(s) - countSeq(carry);
      carry = s.slice(-6);
      if (k) ack((n += k));
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  return { opened: ready, close: () => req.destroy() };
}

function pollSink(urlFor, ack, hub = false) {
  let n = 0;
  let after = 0;
  let stopped = false;
  let opened;
  const ready = new Promise((r) => (opened = r));
  (async () => {
    if (hub) {
      // First poll without a cursor: the hub answers at once with a hello carrying the newest id.
      const text = await httpGet(urlFor(undefined));
      const m = /\nid: (\d+)|^id: (\d+)/m.exec(text);
      after = m ? Number(m[1] ?? m[2]) : 0;
    }
    opened();
    while (!stopped) {
      const text = await httpGet(urlFor(after));
      const k = countSeq(text);
      const ids = text.match(/^id: (\d+)$/gm);
      if (ids) after = Number(ids[ids.length - 1].slice(4));
      if (k) ack((n += k));
    }
  })().catch(() => {});
  return { opened: ready, close: () => (stopped = true) };
}

export const SERVER_RATE_KINDS = Object.keys(SINKS);

export async function serverRate(env, kind, n) {
  const { srv, createHub } = env;
  const t = token('sr');
  const isHub = kind.startsWith('hub-');
  if (isHub && !createHub) return { skipped: 'hub not built' };
  const feed = srv.addFeed(t, { keep: kind === 'native-poll', sio: kind === 'socketio' ? srv.sio : undefined });
  let hub;
  if (isHub) {
    // Enough history that a poll sink can never fall off the ring.
    hub = createHub({ history: 25_000 });
    srv.addHub(t, hub);
    feed.add(hubSink(hub));
  }
  const producer = produce(feed, { total: n });
  let got = 0;
  let t0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const sink = SINKS[kind](srv, t, (k) => {
    got = k;
    producer.ack(k);
    if (k >= n) resolveDone(performance.now() - t0);
  });
  try {
    await bounded(10_000, () => sink.opened, `${kind} sink open`);
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    producer.start();
    const ms = await bounded(60_000, () => done, `${kind} sink`);
    const cpu = process.cpuUsage(cpu0);
    return { rate: (n / ms) * 1000, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  } catch (e) {
    return { error: String(e.message), got };
  } finally {
    producer.stop();
    sink.close();
    srv.removeFeed(t);
    if (hub) await srv.removeHub(t);
  }
}

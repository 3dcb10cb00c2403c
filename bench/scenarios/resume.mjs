// Scenario 2: resume. 1 000 events/s; every 2 s for 20 s the server destroys every live
// connection's socket without a goodbye (hub: `connection.close()`, a hard drop; native SSE and
// socket.io: the TCP socket destroyed). All clients run at once, each in its own tab and browser
// context, fed the same sequence: surewire on each transport (hub defaults except history),
// native EventSource against a conforming SSE server that replays after Last-Event-ID, and
// socket.io (websocket transport) with connection-state recovery.
import { hubSink } from '../lib/feed.mjs';
import { token, median, sleep } from '../lib/util.mjs';

export const RESUME_CLIENTS = ['surewire-ws', 'surewire-sse', 'surewire-poll', 'native-es', 'socketio'];
export const RATE = 1000; // events/s
export const CUT_EVERY = 2000;
export const CUTS = 10; // cuts at 2, 4, …, 20 s
const TAIL = 4000; // publishing goes on after the last cut
const DRAIN = 30_000; // then clients get up to this long to catch up (surewire's default maxDelay)

export async function runResume(env, { clients = RESUME_CLIENTS, log, debugLog = false } = {}) {
  const { srv, browser, createHub } = env;
  const t = token('rs');
  const feed = srv.addFeed(t, { keep: true, sio: srv.sioR });
  let hub;
  const active = clients.filter((c) => !c.startsWith('surewire') || createHub);
  if (createHub) {
    // History for the whole run, like the native SSE server's log and socket.io's 2-minute
    // recovery window: "lost" then measures the client's resume, not the size of the ring (the
    // default 1 000 holds one second at this rate). Outage lengths are reported separately.
    hub = createHub({ history: 30_000 });
    srv.addHub(t, hub);
    feed.add(hubSink(hub));
  }
  let allReady;
  const everyoneReady = new Promise((r) => (allReady = r));
  let startResolve;
  const started = new Promise((r) => (startResolve = r)); // after endAt is set
  const ready = new Set();
  let hardEnd;
  const offs = [];
  const results = {};
  const tabs = [];
  const total = CUTS * CUT_EVERY + TAIL;
  for (const c of active) {
    const ct = `${t}-${c}`;
    offs.push(
      srv.on(ct, {
        ready: async () => {
          ready.add(c);
          if (ready.size === active.length) allReady();
          await started;
          return { lastSeq: (total * RATE) / 1000, hardEnd };
        },
      }),
    );
    results[c] = srv.expect(ct, 120_000).catch((e) => ({ error: String(e.message) }));
    const o = c === 'socketio' ? { recovery: true } : { debugLog };
    tabs.push(await browser.openTab(`${srv.origin}/pages/run.html?s=resume&c=${c}&token=${ct}&feed=${t}&hub=${t}&deadline=110000&o=${encodeURIComponent(JSON.stringify(o))}`));
  }
  const cuts = [];
  let pub;
  try {
    await Promise.race([everyoneReady, sleep(20_000)]);
    if (ready.size < active.length) log?.(`  resume: only ${[...ready].join(', ')} connected within 20 s`);
    const t0 = Date.now();
    hardEnd = t0 + total + DRAIN;
    startResolve();
    // Publisher: RATE events/s in 10 ms ticks (10 events per tick: the hub batches each tick).
    pub = setInterval(() => {
      const due = Math.min(Math.floor(((Date.now() - t0) * RATE) / 1000), (total * RATE) / 1000);
      if (due > feed.published) feed.publish(due - feed.published);
    }, 10);
    for (let k = 1; k <= CUTS; k++) {
      await sleep(t0 + k * CUT_EVERY - Date.now());
      const before = Date.now();
      // Which clients had a live connection to cut (one in backoff, or a poller between two
      // requests, has none: such a cut does not count for it).
      const hit = {};
      if (hub) {
        for (const conn of hub.connections()) hit[`surewire-${conn.transport === 'websocket' ? 'ws' : conn.transport}`] = true;
        for (const conn of hub.connections()) conn.close();
      }
      hit['native-es'] = srv.cutNative(t) > 0;
      hit.socketio = srv.cutSio(srv.sioR) > 0;
      cuts.push({ before, after: Date.now(), hit });
    }
    await sleep(t0 + total - Date.now());
    clearInterval(pub);
    if (feed.published < (total * RATE) / 1000) feed.publish((total * RATE) / 1000 - feed.published);
    const published = feed.published;
    const out = {};
    for (const c of active) out[c] = analyse(await results[c], published, cuts);
    for (const c of active) if (out[c].lastArrival) out[c].caughtUpAfterEnd = out[c].lastArrival - (t0 + total);
    return { published, cuts: cuts.length, durationMs: total, clients: out };
  } finally {
    clearInterval(pub);
    for (const off of offs) off();
    for (const tab of tabs) await tab.close();
    srv.removeFeed(t);
    if (hub) await srv.removeHub(t);
  }
}

/** Lost, duplicated, and for each cut the time until the first event published after it arrived. */
function analyse(r, published, cuts) {
  if (!r || r.error) return { error: r?.error ?? 'no result' };
  const seen = new Uint8Array(published + 1);
  let dup = 0;
  let outOfOrder = 0;
  let last = 0;
  for (const s of r.seqs) {
    if (s > published) continue;
    if (seen[s]) dup++;
    seen[s] = 1;
    if (s < last) outOfOrder++;
    last = s;
  }
  let lost = 0;
  for (let s = 1; s <= published; s++) if (!seen[s]) lost++;
  // Cut → next event: the first arrival of an event published after the cut (such an event can
  // only come over a new connection), minus the time of the cut.
  const gaps = cuts
    .filter((c) => c.hit[r.client])
    .map(({ before, after }) => {
      let best = Infinity;
      for (let i = 0; i < r.sent.length; i++) if (r.sent[i] > after && r.arrived[i] < best) best = r.arrived[i];
      return best - before;
    });
  const missing = [];
  for (let s2 = 1; s2 <= published && missing.length < 50; s2++) if (!seen[s2]) missing.push(s2);
  return {
    missing,
    lastArrival: r.arrived.length ? r.arrived[r.arrived.length - 1] : undefined,
    received: r.seqs.length,
    lost,
    dup,
    outOfOrder,
    opens: r.opens,
    effectiveCuts: gaps.length,
    cutToNext: median(gaps),
    maxCutToNext: Math.max(...gaps),
    gaps,
    errors: r.errors,
    debug: r.debug,
  };
}

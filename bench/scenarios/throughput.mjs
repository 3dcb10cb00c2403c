// Scenario 1: receive throughput in the browser. N events of ~100 bytes, connect → last event,
// median of interleaved runs; each run in a fresh, uninstrumented tab and browser context.
import { produce, hubSink } from '../lib/feed.mjs';
import { token, median, bounded } from '../lib/util.mjs';

/** client → how its server side is set up. */
export const THROUGHPUT_CLIENTS = {
  'native-ws': { transport: 'websocket', server: 'native' },
  'socketio': { transport: 'websocket', server: 'sio' },
  partysocket: { transport: 'websocket', server: 'native' },
  'surewire-ws': { transport: 'websocket', server: 'hub', surewire: true },
  'native-es': { transport: 'sse', server: 'native' },
  'fetch-event-source': { transport: 'sse', server: 'native' },
  eventsource: { transport: 'sse', server: 'native' },
  'surewire-sse': { transport: 'sse', server: 'hub', surewire: true },
  'fetch-poll': { transport: 'poll', server: 'native' },
  'surewire-poll': { transport: 'poll', server: 'hub', surewire: true },
};
/** Diagnostics, not part of the default run. */
export const DIAGNOSTIC_CLIENTS = { 'fetch-poll-hub': { transport: 'poll', server: 'hub' } };
const SPECS = { ...THROUGHPUT_CLIENTS, ...DIAGNOSTIC_CLIENTS };

/**
 * One run: sets up the server side, opens the tab, waits for its result.
 * `instrumented` opens the tab the usual Playwright way (only to show the pitfall).
 */
export async function runThroughputOnce(env, client, { n, opts = {}, instrumented = false, timeoutMs = 90_000, flow = {} }) {
  const { srv, browser, createHub } = env;
  const spec = SPECS[client];
  const t = token('tp');
  const feed = srv.addFeed(t, { keep: spec.transport === 'poll' || spec.server === 'native', sio: spec.server === 'sio' ? srv.sio : undefined });
  let hub;
  if (spec.server === 'hub') {
    // History above the producer's window: a poller that lags by a whole window still resumes.
    hub = createHub({ history: 25_000 });
    srv.addHub(t, hub);
    feed.add(hubSink(hub));
  }
  const producer = produce(feed, { total: n, ...flow });
  const off = srv.on(t, { go: () => producer.start(), progress: (k) => producer.ack(k) });
  const result = srv.expect(t, timeoutMs);
  result.catch(() => {}); // awaited below; keeps an early failure from being unhandled
  const url = `${srv.origin}/pages/run.html?s=throughput&c=${client}&token=${t}&n=${n}&deadline=${timeoutMs - 5000}&o=${encodeURIComponent(JSON.stringify(opts))}`;
  const tab = instrumented ? await browser.openInstrumentedTab(url) : await browser.openTab(url);
  try {
    const r = await result;
    return { ...r, rate: r.count && r.ms ? (r.count / r.ms) * 1000 : NaN };
  } catch (e) {
    return { error: String(e.message ?? e) };
  } finally {
    producer.stop();
    off();
    await tab.close();
    srv.removeFeed(t);
    if (hub) await srv.removeHub(t);
  }
}

/** Interleaved rounds: every client once per round, `rounds` times. */
export async function runThroughput(env, { clients, n, rounds, log, timeoutMs = 90_000 }) {
  const runs = Object.fromEntries(clients.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of clients) {
      const res = await bounded(timeoutMs + 30_000, () => runThroughputOnce(env, c, { n, timeoutMs }), `throughput ${c}`).catch((e) => ({ error: String(e.message) }));
      runs[c].push(res);
      log?.(`  round ${r + 1}/${rounds} ${c.padEnd(20)} ${res.error ? `ERROR ${res.error}` : `${Math.round(res.rate).toLocaleString('en-US')} ev/s (${Math.round(res.ms)} ms${res.outOfOrder ? `, ${res.outOfOrder} out of order` : ''})`}`);
    }
  }
  const summary = {};
  for (const c of clients) {
    const ok = runs[c].filter((x) => !x.error && x.count === n);
    summary[c] = { rate: median(ok.map((x) => x.rate)), ms: median(ok.map((x) => x.ms)), runs: ok.length, errors: runs[c].filter((x) => x.error).map((x) => x.error), all: runs[c].map((x) => x.rate) };
  }
  return summary;
}

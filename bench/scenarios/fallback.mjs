// Scenario 3: fallback. surewire with default options (websocket → sse → poll) against a hub
// whose WebSocket upgrade is refused (403 to the handshake) or black-holed (never answered);
// time from createClient() to the first event, with direct-transport runs as the reference.
// The hub publishes one event every 5 ms throughout.
import { token, median, bounded } from '../lib/util.mjs';

export const FALLBACK_CASES = {
  'websocket (reference)': { client: 'surewire-ws', ws: 'ok' },
  'sse only (reference)': { client: 'surewire-sse', ws: 'ok' },
  'upgrade refused': { client: 'surewire-default', ws: 'refuse' },
  'upgrade black-holed': { client: 'surewire-default', ws: 'blackhole' },
};

export async function runFallback(env, { rounds, log }) {
  const { srv, browser, createHub } = env;
  const hub = createHub({});
  const names = {};
  for (const [label, c] of Object.entries(FALLBACK_CASES)) {
    names[label] = token('fb');
    srv.addHub(names[label], hub, c.ws);
  }
  let n = 0;
  const pub = setInterval(() => hub.publish('message', { seq: ++n, ts: Date.now() }), 5);
  const runs = Object.fromEntries(Object.keys(FALLBACK_CASES).map((k) => [k, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [label, c] of Object.entries(FALLBACK_CASES)) {
        const t = token('fbr');
        const result = srv.expect(t, 30_000).catch((e) => ({ error: String(e.message) }));
        // (result already has a catch: an early failure cannot go unhandled)
        const tab = await browser.openTab(`${srv.origin}/pages/run.html?s=fallback&c=${c.client}&token=${t}&hub=${names[label]}&deadline=25000`);
        const res = await bounded(35_000, () => result, `fallback ${label}`).catch((e) => ({ error: String(e.message) }));
        await tab.close();
        runs[label].push(res);
        log?.(`  round ${r + 1}/${rounds} ${label.padEnd(22)} ${res.error ? `ERROR ${res.error}` : `${Math.round(res.ms)} ms via ${res.transport}`}`);
      }
    }
  } finally {
    clearInterval(pub);
    for (const name of Object.values(names)) srv.removeHubEntry(name);
    await hub.close();
  }
  const out = {};
  for (const [label, list] of Object.entries(runs)) {
    const ok = list.filter((x) => !x.error);
    out[label] = { ms: median(ok.map((x) => x.ms)), max: Math.max(...ok.map((x) => x.ms)), transports: [...new Set(ok.map((x) => x.transport))], runs: ok.length, errors: list.filter((x) => x.error).map((x) => x.error) };
  }
  return out;
}

// `npm run soak`: 1 000 connect → drop → resume cycles in one process, against the built
// package (dist/), with heap growth measured after GC. Run with --expose-gc (the npm script does).
//
// Each cycle: the hub publishes a few events, every client (one per transport) receives them, the
// fault proxy cuts every connection, more events are published while the clients are down, and
// every client resumes from its cursor and receives those too — each event exactly once, in order.
// Per transport there are two clients: one lives through the whole run (so that anything that
// grows per reconnect or per event, such as a dedupe window that forgets to evict, accumulates),
// and one is closed every 100 cycles and replaced by a fresh one that resumes from the old one's
// `lastEventId`, so that the client's own lifecycle is soaked as well as its reconnects.
//
// Figures are printed; the exit code is 1 when an event is lost, repeated or out of order, when
// the heap grew by 2 MB or more, or when the run took more than 3 minutes.
//
// Env: SOAK_CYCLES (default 1000), SUREWIRE_SEED (fault-proxy seed).
import http from 'node:http';
import WebSocket from 'ws';
import { createClient } from '../../dist/surewire.mjs';
import { createHub } from '../../dist/server.mjs';
import { createFaultProxy, seedFromEnv } from '../support/fault-proxy.mjs';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 1000);
// Warm-up fills the hub's ring, fetch's pools and V8's caches. It ends, as the measured run does,
// right after a client replacement (every 100 cycles), so that both heap figures are taken with
// clients in the same state (fresh dedupe windows) and the difference is growth, not phase.
const WARMUP = 500;
const PER_CYCLE = 20; // events per cycle: half before the drop, half while the clients are down
const HEAP_BUDGET = 2 * 1024 * 1024;
const TIME_BUDGET = 180_000;
const CYCLE_TIMEOUT = 10_000;
const TRANSPORTS = ['websocket', 'sse', 'poll'];
const seed = seedFromEnv(0x50a4);

if (typeof globalThis.gc !== 'function') {
  console.error('soak: run with --expose-gc (npm run soak does), so that heap figures mean something');
  process.exit(2);
}

const started = Date.now();
const failures = [];
const fail = (msg) => {
  failures.push(msg);
  if (failures.length <= 10) console.error(`soak: ${msg}`);
};

// ---- hub behind the fault proxy -----------------------------------------------------------
const hub = createHub({ firstId: 0, history: 4 * PER_CYCLE * 8, heartbeat: 1000, pollTimeout: 1000 }); // firstId 0: event n has id n
const server = http.createServer();
hub.attach(server, { path: '/rt' });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const proxy = await createFaultProxy({ targetPort: server.address().port, seed });
let lastId = 0;

// ---- clients ------------------------------------------------------------------------------
const waiters = new Set();
const bump = () => {
  for (const w of [...waiters]) w();
};
function until(check, what) {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      waiters.delete(w);
      reject(new Error(`soak: timed out after ${CYCLE_TIMEOUT} ms waiting for ${what()}`));
    }, CYCLE_TIMEOUT);
    const w = () => {
      if (!check()) return;
      waiters.delete(w);
      clearTimeout(timer);
      resolve();
    };
    waiters.add(w);
  });
}

const stats = Object.fromEntries(TRANSPORTS.map((t) => [t, { reconnects: 0, replaced: 0, events: 0, errors: {} }]));
const label = (slot) => `${slot.transport}${slot.fresh ? '(fresh)' : ''}`;

/** One client slot per transport; `last` is the last `n` it delivered. */
function makeClient(slot, lastEventId) {
  const client = createClient({
    url: proxy.url('/rt'),
    transports: [slot.transport],
    WebSocket,
    fetch: globalThis.fetch,
    reconnect: { initialDelay: 1, maxDelay: 20 },
    heartbeat: { interval: 1000, timeout: 5000 },
    openTimeout: 2000,
    lastEventId,
  });
  client.on('tick', (data) => {
    if (data.n !== slot.last + 1) fail(`${label(slot)}: got ${data.n} after ${slot.last}`);
    slot.last = data.n;
    stats[slot.transport].events++;
    bump();
  });
  client.onError((e) => {
    const errs = stats[slot.transport].errors;
    errs[e.code] = (errs[e.code] ?? 0) + 1;
    if (e.fatal) fail(`${label(slot)}: fatal ${e.code}: ${e.message}`);
  });
  client.onStatus((s) => {
    if (s.state === 'reconnecting' && slot.wasOpen) stats[slot.transport].reconnects++;
    slot.wasOpen = s.state === 'open';
    bump();
  });
  return client;
}

const slots = TRANSPORTS.flatMap((transport) => [false, true].map((fresh) => ({ transport, fresh, last: 0, wasOpen: false, client: undefined })));
for (const slot of slots) slot.client = makeClient(slot, '0');
await until(
  () => slots.every((s) => s.client.status.state === 'open'),
  () => 'every client to open',
);

const publish = (k) => {
  for (let i = 0; i < k; i++) lastId = Number(hub.publish('tick', { n: lastId + 1 }));
};

async function cycle(i) {
  publish(PER_CYCLE / 2);
  await until(
    () => slots.every((s) => s.last === lastId),
    () => `live events up to ${lastId} (cycle ${i}): ${slots.map((s) => `${label(s)}=${s.last}/${s.client.status.state}`).join(' ')}`,
  );
  if (i % 100 === 99) {
    // Lifecycle: a fresh client per slot, resuming from the old one's cursor.
    for (const slot of slots.filter((s) => s.fresh)) {
      const cursor = slot.client.status.lastEventId;
      slot.client.close();
      slot.wasOpen = false;
      slot.client = makeClient(slot, cursor);
      stats[slot.transport].replaced++;
    }
  }
  proxy.cutAll();
  // Published while the clients are down (or believed up by the hub): only resume can bring them.
  publish(PER_CYCLE / 2);
  await until(
    () => slots.every((s) => s.last === lastId && s.client.status.state === 'open'),
    () => `resume up to ${lastId} (cycle ${i}): ${slots.map((s) => `${label(s)}=${s.last}/${s.client.status.state}`).join(' ')}`,
  );
}

async function heap() {
  // Several passes, with turns of the event loop between, so that finalizers and weak refs settle.
  for (let k = 0; k < 4; k++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
let exitCode = 0;
try {
  for (let i = 0; i < WARMUP; i++) await cycle(i);
  const before = await heap();
  const t0 = Date.now();
  for (let i = 0; i < CYCLES; i++) {
    await cycle(WARMUP + i);
    if (Date.now() - started > TIME_BUDGET) {
      fail(`time budget of ${TIME_BUDGET / 1000} s exceeded after ${i + 1} cycles`);
      break;
    }
  }
  const elapsed = Date.now() - t0;
  const after = await heap();
  const growth = after - before;

  console.log(`soak: seed ${seed}, ${CYCLES} connect → drop → resume cycles × ${slots.length} clients (${TRANSPORTS.join(', ')}; one long-lived, one replaced every 100 cycles, each) in ${(elapsed / 1000).toFixed(1)} s (+${WARMUP} warm-up cycles)`);
  for (const t of TRANSPORTS) {
    const s = stats[t];
    console.log(`soak:   ${t.padEnd(9)} ${s.events} events delivered in order (2 clients), ${s.reconnects} reconnects, ${s.replaced} replacements, errors ${JSON.stringify(s.errors)}`);
  }
  console.log(`soak:   proxy ${JSON.stringify(proxy.stats)}; hub ${JSON.stringify(hub.stats())}`);
  console.log(`soak: heap after GC: ${mb(before)} → ${mb(after)}, growth ${growth >= 0 ? '+' : ''}${mb(growth)} (budget < ${mb(HEAP_BUDGET)})`);
  if (growth >= HEAP_BUDGET) fail(`heap grew by ${mb(growth)}, budget ${mb(HEAP_BUDGET)}`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
} finally {
  for (const slot of slots) slot.client?.close();
  await proxy.close();
  await hub.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  if (failures.length > 0) {
    console.error(`soak: FAILED (${failures.length} problem(s)); replay with SUREWIRE_SEED=${seed}`);
    exitCode = 1;
  } else {
    console.log(`soak: OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
process.exitCode = exitCode;

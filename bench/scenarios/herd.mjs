// Scenario 4: thundering herd. N clients of one library (own Node process, `ws` injected) connect
// to a server (another process); the server restarts every connection; we bucket the reconnect
// arrivals the server sees per 100 ms over the first 10 s. Server and clients live in separate
// processes so that neither's work delays the other's timestamps more than the 2 cores must.
// The footprint of N idle connected clients is measured in the client process on the way.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep, quantile } from '../lib/util.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
export const BUCKET_MS = 100;
export const WINDOW_MS = 10_000;
/** The reconnect window is never taken shorter than this (else an instant herd fits "its own" window). */
export const MIN_WINDOW_MS = 1000;

function child(file, args, execArgv = []) {
  const p = fork(here(file), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue = [];
  const waiting = [];
  p.on('message', (m) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
    else queue.push(m);
  });
  const exited = new Promise((r) =>
    p.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`${file} exited (${code}) before '${w.type}'`));
      r(code);
    }),
  );
  return {
    proc: p,
    send: (m) => p.connected && p.send(m),
    wait(type, ms) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const w = { type, resolve: (m) => (clearTimeout(timer), resolve(m)), reject: (e) => (clearTimeout(timer), reject(e)) };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(w), 1);
          reject(new Error(`${file}: no '${type}' within ${ms} ms`));
        }, ms);
        waiting.push(w);
      });
    },
    async kill() {
      if (p.exitCode === null) {
        p.send?.({ type: 'exit' });
        await Promise.race([exited, sleep(2000)]);
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    },
  };
}

/** Buckets and the peak-vs-uniform test for arrival times relative to the restart. */
export function analyse(times) {
  const rel = times.filter((t) => t >= 0 && t < WINDOW_MS).sort((a, b) => a - b);
  const buckets = new Array(WINDOW_MS / BUCKET_MS).fill(0);
  for (const t of rel) buckets[Math.floor(t / BUCKET_MS)]++;
  // The reconnect window: the buckets holding the central 98% of arrivals (p1 … p99), at least
  // MIN_WINDOW_MS long (a herd that lands in one bucket must not pass as "uniform over itself").
  const p1 = quantile(rel, 0.01);
  const p99 = quantile(rel, 0.99);
  const from = Math.floor(p1 / BUCKET_MS) * BUCKET_MS;
  const to = Math.max(from + MIN_WINDOW_MS, Math.ceil((p99 + 1) / BUCKET_MS) * BUCKET_MS);
  const windowMs = to - from;
  const inWindow = rel.filter((t) => t >= from && t < to).length;
  const expected = inWindow / (windowMs / BUCKET_MS);
  const peak = Math.max(...buckets);
  return {
    arrivals: rel.length,
    first: rel[0],
    p1,
    p50: quantile(rel, 0.5),
    p99,
    spread: quantile(rel, 0.99) - quantile(rel, 0.01),
    windowFrom: from,
    windowMs,
    expected,
    peak,
    peakAt: buckets.indexOf(peak) * BUCKET_MS,
    ratio: expected ? peak / expected : NaN,
    buckets,
  };
}

export async function runHerd({ repo, lib, n, restartServer = true }) {
  const server = child('herd-server.mjs', [lib, repo]);
  let clients;
  try {
    const { port } = await server.wait('listening', 15_000);
    clients = child('herd-clients.mjs', [lib, repo, String(port), String(n)], ['--expose-gc']);
    await clients.wait('ready', 15_000);
    clients.send({ type: 'connect' });
    const c = await clients.wait('connected', 90_000);
    const footprint = { heapPerClient: c.heapPerClient, timersPerClient: c.timersPerClient, opened: c.opened, connectMs: c.connectMs };
    if (!restartServer) return { lib, n, footprint };
    clients.send({ type: 'restarting' });
    await sleep(200);
    server.send({ type: 'restart' });
    const { t0, took } = await server.wait('restarted', 15_000);
    await sleep(Math.max(0, t0 + WINDOW_MS + 300 - Date.now()));
    server.send({ type: 'collect' });
    clients.send({ type: 'collect' });
    const s = await server.wait('collect', 10_000);
    const k = await clients.wait('collect', 10_000);
    return {
      lib,
      n,
      footprint,
      restartTook: took,
      reopened: k.reopened,
      connectedAfter: s.connected,
      server: analyse(s.arrivals.map((t) => t - t0)),
      client: analyse(k.attempts.map((t) => t - t0)),
      // surewire only: when each client noticed the drop, and when it meant to reconnect.
      noticed: k.intents.length ? analyse(k.intents.map(([t]) => t - t0)) : undefined,
      intended: k.intents.length ? analyse(k.intents.map(([t, d]) => t + d - t0)) : undefined,
      delays: k.intents.length ? analyse(k.intents.map(([, d]) => d)) : undefined,
    };
  } finally {
    await clients?.kill();
    await server.kill();
  }
}

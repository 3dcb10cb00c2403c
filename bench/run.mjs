// `npm run bench` (after `npm run build`): every scenario of issue #5 in one run, within a time
// budget, on 127.0.0.1 only. Prints the tables and writes bench/RESULTS.md.
//
// Environment knobs (all optional):
//   BENCH_BUDGET_S   seconds this script may take (default 500: with the build, `npm run bench`
//                    stays under 10 minutes); the throughput size is chosen to fit
//   BENCH_EVENTS     force the throughput run size (default: 100 000, reduced to fit the budget)
//   BENCH_ROUNDS     interleaved throughput rounds (default 5)
//   BENCH_ONLY       comma list of scenarios: size,server,throughput,resume,fallback,herd
//   CHROME_PATH      Chromium binary (default /usr/lib/chromium/chromium or /usr/bin/chromium)
//   BENCH_REPORT_ONLY=1  rewrite RESULTS.md from bench/.tmp/results.json (the last run) only
import os from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { createBenchServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { buildPeers, surewireSizes } from './lib/bundles.mjs';
import { runThroughput, runThroughputOnce, THROUGHPUT_CLIENTS } from './scenarios/throughput.mjs';
import { serverRate, SERVER_RATE_KINDS } from './scenarios/server-rate.mjs';
import { runResume, RESUME_CLIENTS } from './scenarios/resume.mjs';
import { runFallback } from './scenarios/fallback.mjs';
import { runHerd, BUCKET_MS, MIN_WINDOW_MS } from './scenarios/herd.mjs';
import { report } from './lib/report.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = dirname(BENCH);
const started = Date.now();
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 500) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FULL_EVENTS = 100_000;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (s) => !ONLY || ONLY.has(s);
const left = () => BUDGET_MS - (Date.now() - started);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const log = (...a) => console.log(`[bench ${elapsed()}]`, ...a);
// Time kept back for the scenarios after throughput (measured on this machine under load).
const RESERVE_MS = { resume: 45_000, fallback: 45_000, herd: 150_000 };

const version = async (pkg) => JSON.parse(await readFile(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')).version;

async function main() {
  const R = { started: new Date().toISOString(), notes: [] };
  R.machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadBefore: os.loadavg().map((x) => x.toFixed(2)).join(' / '),
  };
  R.versions = {};
  for (const p of ['socket.io', 'socket.io-client', 'partysocket', 'reconnecting-websocket', '@microsoft/fetch-event-source', 'eventsource', 'ws', 'playwright-core', 'esbuild']) R.versions[p] = await version(p);

  const built = existsSync(join(REPO, 'dist/surewire.min.js')) && existsSync(join(REPO, 'dist/server.mjs'));
  let createHub;
  if (built) ({ createHub } = await import(pathToFileURL(join(REPO, 'dist/server.mjs')).href));
  else R.notes.push('dist/ is missing: surewire was not measured (run `npm run build`).');
  R.surewireBuilt = built;

  // 5. Size (also builds the peer bundles the pages load).
  const tmp = join(BENCH, '.tmp');
  log('size: building peer bundles with esbuild');
  R.size = [...(await surewireSizes(REPO, tmp)), ...(await buildPeers(REPO, tmp))];

  const srv = await createBenchServer({ roots: { pages: join(BENCH, 'pages'), assets: tmp, dist: join(REPO, 'dist') } });
  const browser = await launchBrowser();
  R.machine.chromium = browser.version;
  const env = { srv, browser, createHub };
  const surewireClients = (list) => list.filter((c) => built || !c.startsWith('surewire'));
  try {
    if (want('server')) {
      log('server rate: each server into a raw sink in Node');
      R.serverRate = {};
      for (const kind of SERVER_RATE_KINDS) {
        R.serverRate[kind] = await serverRate(env, kind, 50_000);
        log(`  ${kind.padEnd(12)} ${R.serverRate[kind].rate ? `${Math.round(R.serverRate[kind].rate).toLocaleString('en-US')} ev/s` : JSON.stringify(R.serverRate[kind])}`);
      }
    }

    if (want('throughput')) {
      // fetch-poll-hub (diagnostic): the bare loop against the hub's /poll, to split the poll gap
      // between client and server.
      const clients = [...surewireClients(Object.keys(THROUGHPUT_CLIENTS)), ...(built ? ['fetch-poll-hub'] : [])];
      // Calibration (also the warm-up, discarded): one small run per client gives its cost per
      // event; the run size is then the largest that fits the budget, up to 100 000.
      const CAL = 10_000;
      let perEvent = 0; // ms per event, summed over the clients (the in-page connect → last time)
      let overhead = 0; // ms per round that does not grow with the run size (tab, page, connect)
      log(`throughput: warm-up/calibration, ${CAL.toLocaleString('en-US')} events per client`);
      for (const c of clients) {
        const t0 = Date.now();
        const r = await runThroughputOnce(env, c, { n: CAL, timeoutMs: 30_000 });
        const wall = Date.now() - t0;
        const inPage = Number.isFinite(r.ms) ? r.ms : wall;
        perEvent += inPage / CAL;
        overhead += Math.max(0, wall - inPage);
        log(`  ${c.padEnd(20)} ${r.error ? `ERROR ${r.error}` : `${Math.round(r.rate).toLocaleString('en-US')} ev/s`}`);
      }
      const reserve = (want('resume') ? RESERVE_MS.resume : 0) + (want('fallback') ? RESERVE_MS.fallback : 0) + (want('herd') ? RESERVE_MS.herd : 0);
      const budget = left() - reserve - 15_000;
      // Run size that fits: rounds × (overhead + n × perEvent) ≤ budget, with 15 % slack.
      const fit = Math.floor(((budget / ROUNDS - overhead) / perEvent / 1.15) / 10_000) * 10_000;
      const n = Number(process.env.BENCH_EVENTS ?? Math.max(20_000, Math.min(FULL_EVENTS, fit)));
      R.throughputEvents = n;
      R.throughputRounds = ROUNDS;
      if (n < FULL_EVENTS) {
        R.notes.push(`Throughput runs used ${n.toLocaleString('en-US')} events instead of 100 000 so that the whole bench fits in 10 minutes on this machine (calibration: ${(perEvent * 1000).toFixed(0)} µs per event summed over the ${clients.length} clients plus ${(overhead / 1000).toFixed(1)} s of tab set-up per round; ${ROUNDS} rounds; ${Math.round(budget / 1000)} s left for them). \`BENCH_EVENTS=100000 BENCH_BUDGET_S=1200 npm run bench\` runs the full size.`);
      }
      log(`throughput: ${n.toLocaleString('en-US')} events × ${ROUNDS} interleaved rounds × ${clients.length} clients`);
      // A run that takes 4× its calibrated time (at least 20 s) has failed: do not let it eat the budget.
      R.throughput = await runThroughput(env, { clients, n, rounds: ROUNDS, log, timeoutMs: Math.max(20_000, 4 * perEvent * n) });
      R.instrumentedPagesDuringRuns = browser.instrumentedPages();
      // The pitfall, shown: the same run in a tab Playwright drives (Network domain enabled).
      if (left() > RESERVE_MS.resume + RESERVE_MS.fallback + RESERVE_MS.herd + 20_000) {
        R.instrumentation = {};
        for (const c of ['native-ws', 'native-es']) {
          const bare = await runThroughputOnce(env, c, { n: 10_000, timeoutMs: 30_000 });
          const inst = await runThroughputOnce(env, c, { n: 10_000, timeoutMs: 30_000, instrumented: true });
          R.instrumentation[c] = { bare: bare.rate, instrumented: inst.rate };
          log(`  ${c}: uninstrumented ${Math.round(bare.rate)} ev/s, Playwright page ${Math.round(inst.rate)} ev/s`);
        }
      }
      if (built) {
        // Frames per run for surewire-ws: one extra, untimed run with a counting WebSocket.
        const f = await runThroughputOnce(env, 'surewire-ws', { n, opts: { countFrames: true } });
        R.framesPerRun = f.frames;
        R.eventsPerFrame = f.frames ? n / f.frames : NaN;
        log(`  surewire-ws: ${f.frames} frames → ${(n / f.frames).toFixed(1)} events per frame`);
      }
    }

    if (want('resume')) {
      log('resume: 1 000 events/s, every connection cut every 2 s for 20 s, all clients at once');
      R.resume = await runResume(env, { clients: surewireClients(RESUME_CLIENTS), log });
      for (const [c, v] of Object.entries(R.resume.clients)) log(`  ${c.padEnd(14)} ${v.error ? `ERROR ${v.error}` : `lost ${v.lost} dup ${v.dup} cut→next median ${Math.round(v.cutToNext)} ms (${v.effectiveCuts} cuts hit it)`}`);
    }

    if (want('fallback') && built) {
      log('fallback: WebSocket upgrade refused / black-holed');
      R.fallback = await runFallback(env, { rounds: ROUNDS, log });
    }
  } finally {
    await browser.close();
    await srv.close();
  }

  if (want('herd')) {
    R.herd = {};
    const libs = [...(built ? ['surewire'] : []), 'socketio', 'rws', 'rws-per-page'];
    for (const lib of libs) {
      if (left() < 40_000) {
        R.notes.push(`Herd: ${lib} skipped, the time budget ran out.`);
        continue;
      }
      log(`herd: 1 000 ${lib} clients, server restarts every connection`);
      R.herd[lib] = await runHerd({ repo: REPO, lib, n: 1000 }).catch((e) => ({ error: String(e.message) }));
      const h = R.herd[lib];
      log(`  ${h.error ? `ERROR ${h.error}` : `peak ${h.server.peak}/bucket vs uniform ${h.server.expected.toFixed(1)} → ${h.server.ratio.toFixed(2)}×; p1–p99 ${Math.round(h.server.p1)}–${Math.round(h.server.p99)} ms; heap ${(h.footprint.heapPerClient / 1024).toFixed(1)} KiB/client, ${h.footprint.timersPerClient.toFixed(2)} timers/client`}`);
    }
    if (left() > 15_000) {
      log('footprint: 1 000 bare ws connections (reference)');
      R.herd.raw = await runHerd({ repo: REPO, lib: 'raw', n: 1000, restartServer: false }).catch((e) => ({ error: String(e.message) }));
    }
  }

  R.machine.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
  R.durationS = Math.round((Date.now() - started) / 1000);
  R.consts = { BUCKET_MS, MIN_WINDOW_MS };
  const { markdown, console: text } = report(R);
  await writeFile(join(BENCH, 'RESULTS.md'), markdown);
  await writeFile(join(BENCH, '.tmp', 'results.json'), JSON.stringify(R, null, 1)).catch(() => {});
  console.log(`\n${text}\n`);
  log(`done in ${R.durationS} s; wrote bench/RESULTS.md`);
}

/** `BENCH_REPORT_ONLY=1 node bench/run.mjs`: rewrite RESULTS.md from the last run's raw results. */
async function reportOnly() {
  const R = JSON.parse(await readFile(join(BENCH, '.tmp', 'results.json'), 'utf8'));
  const { markdown, console: text } = report(R);
  await writeFile(join(BENCH, 'RESULTS.md'), markdown);
  console.log(text);
}

(process.env.BENCH_REPORT_ONLY ? reportOnly() : main()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

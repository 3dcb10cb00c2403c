// A seeded TCP fault proxy on 127.0.0.1 (node:net), shared by the chaos suite and the soak.
// Plain ESM so that `node test/soak/soak.mjs` can import it without a TypeScript step; the types
// are in fault-proxy.d.mts.
//
// Faults, all drawn from one seeded PRNG so that a failing run can be replayed with its seed
// (timing still varies between runs, but the fault schedule and the fault choices do not):
//   cut        destroy a connection (both sides), as a network reset would
//   blackhole  keep a connection open but forward nothing either way, so only a heartbeat
//              can tell it is dead; what the server writes is read and thrown away
//   deafen     the same in one direction: the client's bytes reach the server, nothing
//              comes back (the server acts on sends whose answers are lost)
//   delay      hold bytes for some ms before forwarding them (order kept)
//   refuse     reset every new connection for a while (server down)
//   upgrades   with blockUpgrades(true), WebSocket upgrade requests are reset (a proxy that
//              does not speak WebSocket), while plain HTTP passes
import net from 'node:net';

/** mulberry32: a tiny, good-enough seeded PRNG. Returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: `SUREWIRE_SEED` (decimal or 0x-hex) when set, else `fallback`. */
export function seedFromEnv(fallback) {
  const raw = process.env.SUREWIRE_SEED;
  if (raw === undefined || raw === '') return fallback >>> 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`SUREWIRE_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return n >>> 0;
}

const UPGRADE = /^GET [^\r\n]*\r\n(?:[^\r\n]*\r\n)*?upgrade:\s*websocket/i;

export async function createFaultProxy({ targetPort, targetHost = '127.0.0.1', seed = 1 }) {
  const random = mulberry32(seed);
  const between = (lo, hi) => lo + random() * (hi - lo);
  const conns = new Set();
  const journal = []; // the last fault actions, for a failure message
  const stats = { accepted: 0, cut: 0, blackholed: 0, refused: 0, delayed: 0, upgradesBlocked: 0 };
  let refuseUntil = 0;
  let delayMs = 0;
  let upgradesBlocked = false;
  let deafNew = false;
  let chaosTimer;
  let closed = false;
  const timers = new Set();

  const note = (what) => {
    journal.push(`${Date.now() % 100000} ${what}`);
    if (journal.length > 40) journal.shift();
  };
  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function destroy(conn) {
    if (conn.dead) return;
    conn.dead = true;
    conns.delete(conn);
    conn.client.destroy();
    conn.upstream.destroy();
  }

  /** Forwards src → dst through the current faults. */
  function pipe(conn, src, dst, inbound) {
    // Delayed chunks wait in a FIFO drained by one timer at a time: two timers set a few ms
    // apart for the same deadline may fire in either order, and bytes must never be reordered.
    const held = [];
    let draining = false;
    let ended = false;
    const drain = () => {
      const now = Date.now();
      while (held.length > 0 && held[0].due <= now) {
        const { chunk } = held.shift();
        if (!conn.dead && !conn.blackholed) dst.write(chunk);
      }
      if (held.length > 0) later(held[0].due - now, drain);
      else {
        draining = false;
        if (ended && !conn.dead && !conn.blackholed) dst.end();
      }
    };
    src.on('data', (chunk) => {
      if (conn.dead || conn.blackholed || (!inbound && conn.deaf)) return; // read and dropped
      if (inbound && !conn.sniffed) {
        conn.sniffed = true;
        if (upgradesBlocked && UPGRADE.test(chunk.toString('latin1', 0, Math.min(chunk.length, 4096)))) {
          stats.upgradesBlocked++;
          note(`upgrade #${conn.id} blocked`);
          conn.client.resetAndDestroy();
          destroy(conn);
          return;
        }
      }
      if (delayMs > 0 || held.length > 0) {
        const now = Date.now();
        held.push({ due: Math.max(now + delayMs, held.length > 0 ? held[held.length - 1].due : 0), chunk });
        stats.delayed++;
        if (!draining) {
          draining = true;
          later(held[0].due - now, drain);
        }
        return;
      }
      if (!dst.write(chunk)) {
        src.pause();
        dst.once('drain', () => {
          if (!conn.stalled) src.resume();
        });
      }
    });
    src.on('end', () => {
      if (conn.dead || conn.blackholed || (!inbound && conn.deaf)) return;
      if (held.length > 0) ended = true;
      else dst.end();
    });
  }

  let nextId = 0;
  const server = net.createServer({ pauseOnConnect: false }, (client) => {
    stats.accepted++;
    if (closed || Date.now() < refuseUntil) {
      stats.refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const conn = { id: ++nextId, client, upstream, dead: false, blackholed: false, deaf: deafNew, sniffed: false, stalled: false };
    conns.add(conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const gone = () => destroy(conn);
    // A black hole does not tell the client that the server went away: only its heartbeat can.
    const upstreamGone = () => {
      if (!conn.blackholed && !conn.deaf) destroy(conn);
    };
    client.on('error', gone).on('close', gone);
    upstream.on('error', upstreamGone).on('close', upstreamGone);
    pipe(conn, client, upstream, true);
    pipe(conn, upstream, client, false);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;

  const pick = () => {
    const live = [...conns].filter((c) => !c.dead);
    return live.length === 0 ? undefined : live[Math.floor(random() * live.length)];
  };

  const proxy = {
    port,
    seed,
    stats,
    /** `http://127.0.0.1:{port}{path}` */
    url: (path = '') => `http://127.0.0.1:${port}${path}`,
    /** The recent fault actions, oldest first, for failure messages. */
    journal: () => journal.slice(),
    /** Live proxied connections. */
    get size() {
      return conns.size;
    },
    random,
    cutOne() {
      const c = pick();
      if (!c) return;
      stats.cut++;
      note(`cut #${c.id}`);
      destroy(c);
    },
    cutAll() {
      if (conns.size === 0) return;
      stats.cut += conns.size;
      note(`cut all (${conns.size})`);
      for (const c of [...conns]) destroy(c);
    },
    /** Keeps one connection (or the given one) open while forwarding nothing either way. */
    blackholeOne() {
      const c = pick();
      if (!c || c.blackholed) return;
      c.blackholed = true;
      stats.blackholed++;
      note(`blackhole #${c.id}`);
      // Keep reading both sides so the server sees a healthy socket; drop every byte.
      c.client.resume();
      c.upstream.resume();
    },
    blackholeAll() {
      for (const c of conns) {
        if (c.blackholed) continue;
        c.blackholed = true;
        stats.blackholed++;
        c.client.resume();
        c.upstream.resume();
      }
      note('blackhole all');
    },
    /**
     * One-way loss on every live connection, and on every new one until `hear()` (a network
     * spell, so that a poll that opens a new connection meets it too): what the client sends
     * still reaches the server,
     * nothing comes back. The server handles the client's sends but its answers (acks, 2xx)
     * are lost, so the client must send again with the same mids and the server deduplicate.
     */
    deafenAll() {
      deafNew = true;
      for (const c of conns) {
        if (c.deaf || c.blackholed) continue;
        c.deaf = true;
        stats.blackholed++;
        c.upstream.resume();
      }
      note('deafen all (server → client dropped)');
    },
    /** New connections hear the server again (deafened ones stay deaf until they close). */
    hear() {
      deafNew = false;
      note('new connections hear again');
    },
    /**
     * Stops reading from the server on every live connection: the server's buffers fill up. A
     * server that then closes the connection is not noticed until `unstallAll()` (the close
     * waits behind the unread bytes, as it does for a real client that stopped reading).
     */
    stallAll() {
      for (const c of conns) {
        // Paused for good: nothing resumes a stalled side (see the 'drain' handler).
        c.stalled = true;
        c.upstream.pause();
      }
      note('stall all');
    },
    /**
     * Reading resumes on every stalled connection: what the kernel held arrives, then whatever
     * the server did meanwhile (a close shows only now, as it would to a client that woke up).
     */
    unstallAll() {
      for (const c of conns) {
        if (!c.stalled) continue;
        c.stalled = false;
        c.upstream.resume();
      }
      note('unstall all');
    },
    /** New connections are reset for `ms` (a server that is down). */
    refuse(ms) {
      refuseUntil = Math.max(refuseUntil, Date.now() + ms);
      note(`refuse ${Math.round(ms)}ms`);
    },
    /** Bytes are held `ms` before they are forwarded (0: none). */
    setDelay(ms) {
      delayMs = ms;
      note(`delay ${Math.round(ms)}ms`);
    },
    blockUpgrades(on) {
      upgradesBlocked = on;
      note(`upgrades ${on ? 'blocked' : 'allowed'}`);
    },
    /**
     * Starts random faults: every 50–1000 ms one of cut (one or all), blackhole, a delay spell
     * or a refusal spell. Weights are relative.
     */
    startChaos({ interval = [50, 1000], weights = {} } = {}) {
      const w = { cut: 5, cutAll: 2, blackhole: 1.5, delay: 1.5, refuse: 1.5, ...weights };
      const total = Object.values(w).reduce((a, b) => a + b, 0);
      const step = () => {
        chaosTimer = setTimeout(step, between(interval[0], interval[1]));
        let r = random() * total;
        const choose = (k) => (r -= w[k]) < 0;
        if (choose('cut')) proxy.cutOne();
        else if (choose('cutAll')) proxy.cutAll();
        else if (choose('blackhole')) proxy.blackholeOne();
        else if (choose('delay')) {
          proxy.setDelay(between(5, 150));
          later(between(100, 800), () => proxy.setDelay(0));
        } else if (choose('refuse')) proxy.refuse(between(100, 1000));
      };
      chaosTimer = setTimeout(step, between(interval[0], interval[1]));
    },
    /** Stops injecting faults; refusals and delays end now. Black-holed connections stay so. */
    stopChaos() {
      clearTimeout(chaosTimer);
      chaosTimer = undefined;
      refuseUntil = 0;
      delayMs = 0;
      deafNew = false;
      note('chaos stopped');
    },
    async close() {
      closed = true;
      proxy.stopChaos();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of [...conns]) destroy(c);
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

// The event source every scenario shares: numbered ~100-byte JSON payloads, fanned out to any
// mix of sinks (native WebSocket, native SSE, long-poll log, surewire hub, socket.io), and a
// flow-controlled producer so that no server buffers without bound while a browser lags.

const TEXT = 'The quick brown fox jumps over the lazy dog 0123456789';

/** ~100 bytes of JSON once stringified: {"seq":12345,"ts":1763850000000,"user":"user-42","text":"…"} */
export function payload(seq) {
  return { seq, ts: Date.now(), user: `user-${seq % 97}`, text: TEXT };
}

/** One run's event log and fan-out. `keep` retains every event for replay and polls. */
export class Feed {
  constructor({ keep = true } = {}) {
    this.keep = keep;
    this.log = []; // { seq, data, json } with seq === index + 1
    this.sinks = new Set();
    this.pollWaiters = new Set();
    this.published = 0;
  }

  /** Publishes seqs published+1 … published+count, all in the same tick (one batch). */
  publish(count) {
    const batch = new Array(count);
    for (let i = 0; i < count; i++) {
      const seq = ++this.published;
      const data = payload(seq);
      batch[i] = { seq, data, json: JSON.stringify(data) };
    }
    if (this.keep) for (const e of batch) this.log.push(e);
    for (const sink of this.sinks) sink.write(batch);
    if (this.pollWaiters.size) for (const wake of [...this.pollWaiters]) wake();
  }

  /** Events after `seq` (an event's seq is its index + 1), at most `max`. */
  after(seq, max = Infinity) {
    return this.log.slice(seq, Math.min(this.log.length, seq + max));
  }

  add(sink) {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** Sum of bytes the sinks hold unsent (ws.bufferedAmount, res.writableLength, …). */
  buffered() {
    let n = 0;
    for (const s of this.sinks) n += s.buffered ? s.buffered() : 0;
    return n;
  }
}

export const sseText = (batch) => {
  let s = '';
  for (const e of batch) s += `id: ${e.seq}\ndata: ${e.json}\n\n`;
  return s;
};

// --- sinks -------------------------------------------------------------------------------------

/** Native WebSocket, the way most servers send: one JSON event per frame. */
export const wsSink = (ws) => ({
  write(batch) {
    for (const e of batch) ws.send(`{"id":"${e.seq}","event":"message","data":${e.json}}`);
  },
  buffered: () => ws.bufferedAmount,
});

/** Native SSE stream: each batch in one write. */
export const sseSink = (res) => ({
  write(batch) {
    res.write(sseText(batch));
  },
  buffered: () => res.writableLength,
});

/** The surewire hub: one `publish` per event; the hub batches what one tick published. */
export const hubSink = (hub) => ({
  write(batch) {
    for (const e of batch) hub.publish('message', e.data);
  },
  buffered: () => hub.stats().bufferedBytes,
});

/** socket.io: one `emit` per event (socket.io sends one frame per packet). */
export const sioSink = (target) => ({
  write(batch) {
    for (const e of batch) target.emit('message', e.data);
  },
});

// --- producer ----------------------------------------------------------------------------------

/**
 * Publishes `total` events as fast as the consumer takes them: at most `slice` per tick, never more
 * than `window` ahead of what the consumer acknowledged (`ack(n)`), and pausing while the sinks
 * hold more than `highWater` unsent bytes. Resolves when all are published.
 */
export function produce(feed, { total, slice = 1000, window = 20_000, highWater = 1 << 20, deadline = 120_000 }) {
  let acked = 0;
  let timer;
  let stopped = false;
  const started = Date.now();
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const pump = () => {
    timer = undefined;
    if (stopped) return;
    if (feed.published >= total || Date.now() - started > deadline) return finish();
    const room = Math.min(slice, total - feed.published, window - (feed.published - acked));
    if (room <= 0 || feed.buffered() > highWater) {
      timer = setTimeout(pump, 1);
      return;
    }
    feed.publish(room);
    if (feed.published >= total) return finish();
    timer = setImmediate(pump);
  };
  const finish = () => {
    stopped = true;
    resolveDone(feed.published);
  };
  const api = {
    done,
    start() {
      if (timer === undefined && !stopped) pump();
      return api;
    },
    ack(n) {
      if (n > acked) acked = n;
    },
    stop() {
      stopped = true;
      if (timer) {
        clearTimeout(timer);
        clearImmediate(timer);
      }
      resolveDone(feed.published);
    },
  };
  return api;
}

// Runs one measured scenario in a tab that Playwright does not instrument, then POSTs the result
// to /result?token=…. Parameters come from the query string:
//   s      scenario: throughput | resume | fallback | frames
//   c      client under test (see CLIENTS)
//   token  run id; names the feed (native endpoints, socket.io room) and the hub (/h/<token>)
//   n      events expected (throughput)
(() => {
  const P = new URLSearchParams(location.search);
  const token = P.get('token');
  const scenario = P.get('s');
  const clientName = P.get('c');
  const hubName = P.get('hub') || token;
  const feedName = P.get('feed') || token;
  const deadlineMs = Number(P.get('deadline') || 60000);
  const origin = location.origin;
  const wsOrigin = origin.replace(/^http/, 'ws');

  const post = (path, extra = '', body) =>
    fetch(`${path}?token=${encodeURIComponent(token)}${extra}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  const load = (src) =>
    new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(s);
    });
  const once = (fn) => {
    let done = false;
    return (...a) => {
      if (!done) {
        done = true;
        fn(...a);
      }
    };
  };

  // Every client gets the same hooks: open() when connected (may repeat), event(data) per event
  // with data already decoded to an object, and returns a close function.
  const surewire = (transports, extra = {}) => ({
    scripts: ['/dist/surewire.min.js'],
    open(h, o) {
      const debug = o.debugLog ? (m, d) => { window.__debug.push(`${Date.now()} ${m} ${d ? JSON.stringify(d) : ''}`); if (window.__debug.length > 400) window.__debug.shift(); } : undefined;
      if (debug) window.__debug = [];
      const client = Surewire.createClient({ url: `${origin}/h/${hubName}`, transports, debug, ...o.surewire, ...extra });
      let state;
      client.onStatus((s) => {
        // Every status change arrives here (lastEventId, rtt…): count only entries into 'open'.
        if (s.state === 'open' && state !== 'open') h.open(s.transport);
        state = s.state;
      });
      client.onError((e) => h.error?.(`${e.code}: ${e.message}`));
      client.on('message', (d) => h.event(d));
      return () => client.close();
    },
  });

  const CLIENTS = {
    'native-ws': {
      scripts: [],
      open(h) {
        const ws = new WebSocket(`${wsOrigin}/native/ws?feed=${feedName}`);
        ws.onopen = () => h.open('websocket');
        ws.onmessage = (e) => h.event(JSON.parse(e.data).data);
        return () => ws.close();
      },
    },
    partysocket: {
      scripts: ['/assets/partysocket.js'],
      open(h) {
        const ws = new PartySocket.WebSocket(`${wsOrigin}/native/ws?feed=${feedName}`);
        ws.onopen = () => h.open('websocket');
        ws.onmessage = (e) => h.event(JSON.parse(e.data).data);
        return () => ws.close();
      },
    },
    socketio: {
      scripts: ['/assets/socket.io-client.js'],
      open(h, o) {
        const socket = SocketIOClient.io(origin, { path: o.recovery ? '/sio-r/' : '/sio/', transports: ['websocket'], query: { feed: feedName } });
        socket.on('connect', () => h.open('websocket'));
        socket.on('message', (d) => h.event(d));
        return () => socket.close();
      },
    },
    'native-es': {
      scripts: [],
      open(h) {
        const es = new EventSource(`${origin}/native/sse?feed=${feedName}`);
        es.onopen = () => h.open('sse');
        es.onmessage = (e) => h.event(JSON.parse(e.data));
        return () => es.close();
      },
    },
    eventsource: {
      scripts: ['/assets/eventsource.js'],
      open(h) {
        const es = new EventSourceLib.EventSource(`${origin}/native/sse?feed=${feedName}`);
        es.onopen = () => h.open('sse');
        es.onmessage = (e) => h.event(JSON.parse(e.data));
        return () => es.close();
      },
    },
    'fetch-event-source': {
      scripts: ['/assets/fetch-event-source.js'],
      open(h) {
        const ctrl = new AbortController();
        FetchEventSource.fetchEventSource(`${origin}/native/sse?feed=${feedName}`, {
          signal: ctrl.signal,
          openWhenHidden: true, // default false closes the stream when the tab is hidden
          async onopen() {
            h.open('sse');
          },
          // fetch-event-source also dispatches blocks without data (our opening ':' comment) as
          // messages with data ''; the WHATWG parser drops those, so skip them here.
          onmessage: (m) => m.data && h.event(JSON.parse(m.data)),
        }).catch(() => {});
        return () => ctrl.abort();
      },
    },
    // A bare fetch long-poll loop over the same body format (event-stream text) as surewire's poll.
    'fetch-poll': {
      scripts: [],
      open(h) {
        let stopped = false;
        let after = 0;
        // A loop has no handshake: it is "open" when it starts (its first poll waits for events).
        h.open('poll');
        (async () => {
          while (!stopped) {
            const res = await fetch(`${origin}/native/poll?feed=${feedName}&after=${after}`, { cache: 'no-store' });
            const text = await res.text();
            for (const block of text.split('\n\n')) {
              if (!block) continue;
              let id;
              let data;
              for (const line of block.split('\n')) {
                if (line.startsWith('id: ')) id = line.slice(4);
                else if (line.startsWith('data: ')) data = line.slice(6);
              }
              if (data !== undefined) h.event(JSON.parse(data));
              if (id !== undefined) after = Number(id);
            }
          }
        })().catch((e) => h.error?.(String(e)));
        return () => {
          stopped = true;
        };
      },
    },
    // Diagnostic: the same bare loop against the hub's /poll (its hello first, then the cursor).
    'fetch-poll-hub': {
      scripts: [],
      open(h) {
        let stopped = false;
        let after;
        (async () => {
          while (!stopped) {
            const q = after === undefined ? '' : `?lastEventId=${after}`;
            const text = await (await fetch(`${origin}/h/${hubName}/poll${q}`, { cache: 'no-store' })).text();
            if (after === undefined) h.open('poll'); // after the hello: the cursor covers what follows
            for (const block of text.split('\n\n')) {
              if (!block) continue;
              let id;
              let data;
              let hello = false;
              for (const line of block.split('\n')) {
                if (line.startsWith('id: ')) id = line.slice(4);
                else if (line.startsWith('data: ')) data = line.slice(6);
                else if (line === 'event: surewire:hello') hello = true;
              }
              if (data !== undefined && !hello) h.event(JSON.parse(data));
              if (id !== undefined) after = id;
            }
          }
        })().catch((e) => h.error?.(String(e)));
        return () => {
          stopped = true;
        };
      },
    },
    'surewire-ws': surewire(['websocket']),
    'surewire-sse': surewire(['sse']),
    'surewire-poll': surewire(['poll']),
    'surewire-default': surewire(['websocket', 'sse', 'poll']),
  };

  const finish = once((result) => {
    post('/result', '', { client: clientName, visibility: document.visibilityState, ...result });
  });
  setTimeout(() => finish({ error: `page deadline ${deadlineMs} ms` }), deadlineMs);
  window.addEventListener('error', (e) => finish({ error: String(e.message) }));
  window.addEventListener('unhandledrejection', (e) => finish({ error: String(e.reason) }));

  const SCENARIOS = {
    // Connect → last of n events, as fast as the server may send (flow-controlled by our reports).
    async throughput(client, opts) {
      const n = Number(P.get('n'));
      let count = 0;
      let last = 0;
      let outOfOrder = 0;
      let close;
      let report;
      const t0 = performance.now();
      close = client.open(
        {
          open: once(() => {
            post('/go');
            report = setInterval(() => post('/progress', `&n=${count}`), 50);
          }),
          event(d) {
            if (d.seq !== last + 1) outOfOrder++;
            last = d.seq;
            if (++count === n) {
              const ms = performance.now() - t0;
              clearInterval(report);
              close();
              finish({ ms, count, outOfOrder, frames: window.__frames });
            }
          },
          error: (e) => console.warn(e),
        },
        opts,
      );
    },
    // Connected for the whole schedule; records [seq, ts, arrival] of every event.
    async resume(client, opts) {
      const seqs = [];
      const sent = [];
      const arrived = [];
      const errors = [];
      let opens = 0;
      let close;
      let lastSeq = Infinity;
      // Done when the last event of the schedule arrived (all earlier ones came before it, or are
      // lost), or at the hard end: a client still backing off must not be called lossy too early.
      const done = once(() => {
        close();
        finish({ seqs, sent, arrived, opens, errors: errors.slice(0, 20), debug: window.__debug });
      });
      close = client.open(
        {
          open() {
            opens++;
            if (opens === 1) {
              post('/ready', `&c=${clientName}`)
                .then((r) => r.json())
                .then((a) => {
                  lastSeq = a.lastSeq;
                  setTimeout(done, a.hardEnd - Date.now());
                });
            }
          },
          event(d) {
            seqs.push(d.seq);
            sent.push(d.ts);
            arrived.push(Date.now());
            if (d.seq >= lastSeq) done();
          },
          error: (e) => errors.push(e),
        },
        opts,
      );
    },
    // connect() → first event (the server publishes continuously).
    async fallback(client, opts) {
      let transport;
      let close;
      const t0 = performance.now();
      close = client.open(
        {
          open(t) {
            transport = t;
          },
          event: once(() => {
            const ms = performance.now() - t0;
            close();
            finish({ ms, transport });
          }),
        },
        opts,
      );
    },
  };

  (async () => {
    const client = CLIENTS[clientName];
    if (!client) throw new Error(`unknown client ${clientName}`);
    for (const s of client.scripts) await load(s);
    const opts = JSON.parse(P.get('o') || '{}');
    if (opts.countFrames) {
      // Counts WebSocket frames (not timed runs only: the extra listener costs a little per frame).
      window.__frames = 0;
      const Native = window.WebSocket;
      opts.surewire = { ...opts.surewire, WebSocket: class extends Native { constructor(...a) { super(...a); this.addEventListener('message', () => window.__frames++); } } };
    }
    await SCENARIOS[scenario](client, opts);
  })().catch((e) => finish({ error: String(e && e.stack || e) }));
})();

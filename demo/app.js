// The demo page's code: a classic script, no build step, using the `Surewire` global exactly as a
// CDN user would. Everything the user types is rendered with textContent, never as HTML.
(function () {
  'use strict';

  const { createClient } = window.Surewire;
  const params = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);

  /** Identifies this tab's connections to the demo server's drop / stall controls. */
  const cid = Math.random().toString(36).slice(2, 10);
  /** Client heartbeat, short so that a stalled connection is caught within seconds. */
  const heartbeat = {
    interval: Number(params.get('hb')) || 2000,
    timeout: Number(params.get('hbt')) || 5000,
  };
  /** ms an attempt may take to open before the next transport is tried. */
  const OPEN_TIMEOUT = 4000;
  const TRANSPORTS = { auto: undefined, websocket: ['websocket'], sse: ['sse'], poll: ['poll'] };

  const stats = { ticks: 0, first: null, last: null, gaps: 0, duplicates: 0, missed: 0 };
  /** Every state/transport transition and every reported error code, in order (for the tests). */
  const transitions = [];
  const errors = [];
  let choice = TRANSPORTS.hasOwnProperty(params.get('transport')) ? params.get('transport') : 'auto';
  let client = null;
  let detach = [];
  let previous = null;

  // ── client ────────────────────────────────────────────────────────────────────────────────

  /** (Re)creates the client for a transport choice, resuming from the old client's cursor. */
  function start(name, lastEventId) {
    const c = createClient({
      url: `${location.origin}/rt?cid=${cid}`,
      transports: TRANSPORTS[name],
      heartbeat,
      reconnect: { initialDelay: 300, maxDelay: 5000 },
      openTimeout: OPEN_TIMEOUT,
      lastEventId,
    });
    // Every registration returns its disposer: a replaced client is unhooked before it closes,
    // so its final 'closed' does not show up as this page's state.
    detach = [
      c.on('tick', onTick),
      c.on('chat', onChat),
      c.on('flags', renderFlags),
      c.onStatus(onStatus),
      c.onError((err) => {
        errors.push(err.code);
        log('error', `${err.code}${err.fatal ? ' (fatal)' : ''}: ${explain(err)}`);
      }),
    ];
    client = c;
    window.client = c;
    onStatus(c.status);
    return c;
  }

  /**
   * The log's wording for an error: the client's messages are terse on purpose (the code is the
   * contract, STYLE "Errors"), so the page says what each code means with this page's numbers.
   */
  function explain(err) {
    switch (err.code) {
      case 'HEARTBEAT_TIMEOUT':
        return `no data for ${heartbeat.timeout} ms: the connection was declared dead`;
      case 'OPEN_TIMEOUT':
        return `not open within ${OPEN_TIMEOUT} ms: trying the next transport`;
      case 'NETWORK':
        return navigator.onLine ? 'network error: the connection was refused, reset or cut' : 'network error: this browser is offline';
      case 'STREAM_ENDED':
        return 'the server ended the stream';
      case 'WS_CLOSE':
        return `the WebSocket ${err.message.replace(/^closed/, 'closed with code')}`;
      case 'NOT_OFFERED':
        return `${err.message}: this transport is not offered here (is it disabled by a switch?)`;
      case 'NO_TRANSPORT':
        return 'no transport this client may use is offered by the server: change a switch or the transport, or press Reconnect';
      case 'MAX_ATTEMPTS':
        return `${err.message}: press Reconnect`;
      case 'CLOSED':
        return 'the client is closed; press Reconnect';
      default:
        return err.message;
    }
  }

  function setTransport(name) {
    if (!TRANSPORTS.hasOwnProperty(name)) throw new Error(`unknown transport choice ${name}: use auto, websocket, sse or poll`);
    choice = name;
    for (const input of document.querySelectorAll('input[name=transport]')) input.checked = input.value === name;
    const url = new URL(location.href);
    if (name === 'auto') url.searchParams.delete('transport');
    else url.searchParams.set('transport', name);
    history.replaceState(null, '', url);
    const cursor = client ? client.status.lastEventId : undefined;
    for (const off of detach) off();
    if (client) client.close();
    log('info', `transport choice: ${name}${cursor ? `, resuming after id ${cursor}` : ''}`);
    previous = null;
    start(name, cursor);
  }

  // ── ticker: the proof that nothing is lost or repeated ────────────────────────────────────────

  function onTick(data) {
    const seq = Number(data && data.seq);
    if (!Number.isFinite(seq)) return;
    stats.ticks += 1;
    let mark = 'ok';
    if (stats.last === null) {
      stats.first = seq;
      stats.last = seq;
    } else if (seq <= stats.last) {
      stats.duplicates += 1;
      mark = 'dup';
      log('bad', `duplicate tick #${seq} (already had up to #${stats.last})`);
    } else {
      if (seq > stats.last + 1) {
        stats.gaps += 1;
        stats.missed += seq - stats.last - 1;
        mark = 'gap';
        log('bad', `gap: ticks #${stats.last + 1}–#${seq - 1} never arrived`);
      }
      stats.last = seq;
    }
    $('tick-seq').textContent = String(seq);
    pushTape(seq, mark);
    renderStats();
  }

  function pushTape(seq, mark) {
    const tape = $('tape');
    const cell = document.createElement('span');
    cell.className = `cell ${mark}`;
    cell.title = `#${seq}`;
    tape.append(cell);
    while (tape.childElementCount > 60) tape.firstElementChild.remove();
  }

  function renderStats() {
    $('m-ticks').textContent = String(stats.ticks);
    $('m-gaps').textContent = String(stats.gaps);
    $('m-dups').textContent = String(stats.duplicates);
    $('gaps-box').classList.toggle('bad', stats.gaps > 0);
    $('dups-box').classList.toggle('bad', stats.duplicates > 0);
  }

  // ── status ───────────────────────────────────────────────────────────────────────────────────

  function onStatus(s) {
    const pill = $('pill');
    pill.dataset.state = s.state;
    pill.textContent = s.transport && s.state !== 'closed' ? `${s.state} · ${s.transport}` : s.state;
    $('s-state').textContent = s.state;
    $('s-transport').textContent = s.transport ?? '—';
    $('s-last').textContent = s.lastEventId ?? '—';
    $('s-attempt').textContent = String(s.attempt);
    // rtt comes from the client's own WebSocket pings; on SSE or poll it is the last one seen.
    $('s-rtt').textContent = typeof s.rtt === 'number'
      ? `${Math.round(s.rtt)} ms${s.transport === 'websocket' ? '' : ' (last WebSocket ping)'}`
      : '—';
    const resumed = $('s-resumed');
    resumed.className = s.resumed === false ? 'bad' : '';
    if (s.resumed === undefined && s.transport === 'poll') {
      // A poll answer carries a hello only when it could NOT resume: silence means success.
      resumed.textContent = '— ';
      const why = document.createElement('span');
      why.className = 'why';
      why.textContent = '(poll reports only failures)';
      resumed.append(why);
    } else resumed.textContent = s.resumed === undefined ? '—' : s.resumed ? 'yes' : 'no: events were lost';

    // Closed is final until connect(): say why, and offer the button that calls it.
    $('closed-note').hidden = s.state !== 'closed';
    if (s.state === 'closed') {
      $('closed-why').textContent = s.error
        ? `The client gave up (${s.error.code}) and will not retry by itself.`
        : 'The client is closed and will not connect by itself.';
    }

    // Log transitions, not every cursor move.
    if (!previous || previous.state !== s.state || previous.transport !== s.transport) {
      let line = s.state;
      if (s.transport) line += ` via ${s.transport}`;
      if (s.state !== 'open' && s.attempt) line += ` (attempt ${s.attempt})`;
      if (s.error && s.state !== 'open') line += ` after ${s.error.code}`;
      log(s.state === 'open' ? 'good' : 'state', line);
      transitions.push({ state: s.state, transport: s.transport, error: s.error ? s.error.code : undefined });
    }
    // Another tab may have flipped a switch while this one was not listening: ask again.
    if (s.state === 'open' && (!previous || previous.state !== 'open')) refreshFlags();
    // The server's hello says whether it still held every event after our cursor.
    if (s.state === 'open' && s.resumed !== undefined && (!previous || previous.resumed !== s.resumed || previous.state !== 'open')) {
      if (s.resumed) log('good', `resumed after id ${s.lastEventId ?? '?'}: the server replayed everything missed`);
      else log('bad', 'NOT fully resumed: the server no longer held every missed event (refetch state)');
    }
    previous = s;
  }

  // ── chat ─────────────────────────────────────────────────────────────────────────────────────

  function onChat(data) {
    if (!data || typeof data.text !== 'string') return;
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = String(data.user);
    if (data.user === $('chat-user').value.trim()) li.className = 'mine';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = data.text; // never innerHTML: chat text is hostile until proven otherwise
    const time = document.createElement('time');
    time.textContent = clock(data.at ? new Date(data.at) : new Date());
    li.append(who, text, time);
    const list = $('chat');
    list.append(li);
    while (list.childElementCount > 100) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  $('chat-user').value = params.get('user') || `guest-${cid.slice(0, 4)}`;
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('chat-text');
    const text = input.value.trim();
    if (!text) return;
    const user = $('chat-user').value.trim() || 'anon';
    input.value = '';
    // Queued while not open and flushed on open; only a refusal (or a closed client) ends up
    // here. The text goes back into the box, unless something new was typed there meanwhile.
    const sender = client;
    sender.send('chat', { user, text }).catch((err) => {
      const back = !input.value;
      if (back) input.value = text;
      const why = sender !== client ? 'the transport changed before it went out'
        : err.code ? `${err.code}, ${explain(err)}` : err.message;
      log('error', `chat not sent: ${why}. ${back ? 'Your text is back in the box.' : `It was: "${text}"`}`);
    });
  });

  // ── controls ─────────────────────────────────────────────────────────────────────────────────

  async function control(name, query = {}) {
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`/demo/${name}${qs ? `?${qs}` : ''}`, { method: 'POST' });
    if (!res.ok) throw new Error(`/demo/${name} answered ${res.status}`);
    return res.json();
  }

  /** Why a control request failed, in words: offline is the usual cause. */
  function unreachable(err) {
    if (!navigator.onLine) return 'this browser is offline';
    // fetch rejects with a TypeError when no answer came at all.
    return err instanceof TypeError ? `the demo server could not be reached (${err.message})` : err.message;
  }

  /**
   * A button that asks the demo server for something. Its log line is written as the request
   * goes out, so the log reads in cause-then-effect order, and then completed with the answer
   * (or the failure).
   */
  function button(id, asking, fn) {
    $(id).addEventListener('click', () => {
      const entry = log('action', asking);
      fn().then(
        (done) => void (entry.lastChild.textContent = done),
        (err) => {
          entry.className = 'error';
          entry.querySelector('.kind').textContent = 'error';
          entry.lastChild.textContent = `${asking}: failed, ${unreachable(err)}`;
        },
      );
    });
  }

  button('btn-drop', 'asking the server to drop my connection', async () => {
    const r = await control('drop', { cid });
    return r.dropped
      ? `server dropped my ${r.transports.join(', ')} connection`
      : 'nothing to drop: no connection open right now';
  });
  button('btn-stall', 'asking the server to stall my connection', async () => {
    const r = await control('stall', { cid });
    return r.stalled
      ? `server stalled my ${r.transports.join(', ')} connection: the heartbeat (${heartbeat.timeout} ms) must catch it`
      : 'nothing to stall: no connection open right now';
  });
  button('btn-restart', 'asking the hub to restart', async () => {
    const s = client.status; // before: the answer may come after this tab's socket has closed
    const r = await control('restart');
    const done = `hub restarted: ${r.restarted} connection(s) closed, history kept`;
    if (s.state !== 'open') return `${done}; this tab was not connected`;
    // Poll has no connection to lose: the hub answers the held poll (empty) and the next poll
    // carries on from the cursor, so the state never leaves `open`.
    if (s.transport === 'poll') return `${done}; on poll the held request was answered and the next poll resumes after id ${s.lastEventId ?? '?'}: no reconnect to see`;
    return `${done}; watch this tab's ${s.transport} reconnect and resume`;
  });

  $('btn-reconnect').addEventListener('click', () => reconnect('Reconnect pressed'));

  /** client.connect(): a closed client starts again from its cursor (no-op unless closed). */
  function reconnect(why) {
    if (client.status.state !== 'closed') return;
    log('action', `${why}: client.connect(), resuming after id ${client.status.lastEventId ?? '(none yet)'}`);
    client.connect();
  }

  // One wording for each switch, in the page and in the log.
  const SWITCHES = {
    'block-ws': { id: 'sw-block-ws', on: 'WebSocket upgrades blocked on the server', off: 'WebSocket upgrades unblocked on the server' },
    'disable-sse': { id: 'sw-no-sse', on: 'SSE disabled on the server (/rt/sse answers 404)', off: 'SSE enabled again on the server' },
  };
  for (const [name, sw] of Object.entries(SWITCHES)) {
    $(sw.id).addEventListener('change', (ev) => {
      const on = ev.target.checked;
      control(name, { on: on ? '1' : '0' })
        .then((flags) => {
          renderFlags(flags);
          log('action', on ? sw.on : sw.off);
          // A client that gave up (e.g. NO_TRANSPORT) does not see the change: start it again.
          reconnect('switch changed while closed');
        })
        .catch((err) => {
          log('error', `${on ? sw.on : sw.off}: failed, ${unreachable(err)}`);
          refreshFlags(); // put the switch back as the server has it
        });
    });
  }

  for (const input of document.querySelectorAll('input[name=transport]')) {
    input.addEventListener('change', () => setTransport(input.value));
  }

  function refreshFlags() {
    return fetch('/demo/state').then((r) => r.json()).then(renderFlags).catch(() => {});
  }

  function renderFlags(flags) {
    if (!flags) return;
    $('sw-block-ws').checked = !!flags.blockWebSocket;
    $('sw-no-sse').checked = !!flags.disableSse;
    if (flags.tickerMs) $('tick-ms').textContent = String(flags.tickerMs);
  }

  // ── network ──────────────────────────────────────────────────────────────────────────────
  // The client itself only acts on `online` (it reconnects at once); without this the page would
  // show nothing until the heartbeat gives up on the dead connection.

  function renderNetwork() {
    const cell = $('s-network');
    cell.textContent = navigator.onLine ? 'online' : 'offline: waiting for network';
    cell.className = navigator.onLine ? '' : 'bad';
  }
  window.addEventListener('offline', () => {
    renderNetwork();
    log('bad', 'offline: waiting for network');
  });
  window.addEventListener('online', () => {
    renderNetwork();
    log('action', client.status.state === 'closed' ? 'back online: the client is closed, press Reconnect' : 'back online: the client reconnects at once');
  });

  // ── event log ────────────────────────────────────────────────────────────────────────────────

  function log(kind, message) {
    const li = document.createElement('li');
    li.className = kind;
    const time = document.createElement('time');
    time.textContent = clock(new Date(), true);
    const badge = document.createElement('span');
    badge.className = 'kind';
    badge.textContent = kind;
    const text = document.createElement('span');
    text.textContent = message;
    li.append(time, badge, text);
    const list = $('log');
    list.prepend(li);
    while (list.childElementCount > 80) list.lastElementChild.remove();
    return li;
  }

  function clock(d, ms) {
    const t = d.toTimeString().slice(0, 8);
    return ms ? `${t}.${String(d.getMilliseconds()).padStart(3, '0')}` : t;
  }

  // ── go ───────────────────────────────────────────────────────────────────────────────────────

  /** For the console and the browser tests: this tab's id, its counts, and the controls. */
  window.demo = { cid, stats, transitions, errors, heartbeat, setTransport, control, log };
  refreshFlags();
  renderNetwork();
  for (const input of document.querySelectorAll('input[name=transport]')) input.checked = input.value === choice;
  start(choice, undefined);
})();

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
      openTimeout: 4000,
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
        log('error', `${err.code}${err.fatal ? ' (fatal)' : ''}: ${err.message}`);
      }),
    ];
    client = c;
    window.client = c;
    onStatus(c.status);
    return c;
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
    resumed.textContent = s.resumed === undefined ? '—' : s.resumed ? 'yes' : 'no: events were lost';
    resumed.className = s.resumed === false ? 'bad' : '';

    // Log transitions, not every cursor move.
    if (!previous || previous.state !== s.state || previous.transport !== s.transport) {
      let line = s.state;
      if (s.transport) line += ` via ${s.transport}`;
      if (s.state !== 'open' && s.attempt) line += ` (attempt ${s.attempt})`;
      if (s.error && s.state !== 'open') line += ` after ${s.error.code}`;
      log(s.state === 'open' ? 'good' : 'state', line);
      transitions.push({ state: s.state, transport: s.transport, error: s.error ? s.error.code : undefined });
    }
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
    // Queued while not open and flushed on open; only a refusal ends up here.
    client.send('chat', { user, text }).catch((err) => log('error', `chat not sent: ${err.code ?? ''} ${err.message}`));
  });

  // ── controls ─────────────────────────────────────────────────────────────────────────────────

  async function control(name, query = {}) {
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`/demo/${name}${qs ? `?${qs}` : ''}`, { method: 'POST' });
    if (!res.ok) throw new Error(`/demo/${name} answered ${res.status}`);
    return res.json();
  }

  function button(id, fn) {
    $(id).addEventListener('click', () => {
      fn().catch((err) => log('error', err.message));
    });
  }

  // Each action is logged as it is sent, so the log reads in cause-then-effect order.
  button('btn-drop', async () => {
    const entry = log('action', 'asking the server to drop my connection');
    const r = await control('drop', { cid });
    entry.lastChild.textContent = r.dropped
      ? `server dropped my ${r.transports.join(', ')} connection`
      : 'nothing to drop: no connection open right now';
  });
  button('btn-stall', async () => {
    const entry = log('action', 'asking the server to stall my connection');
    const r = await control('stall', { cid });
    entry.lastChild.textContent = r.stalled
      ? `server stalled my ${r.transports.join(', ')} connection: the heartbeat (${heartbeat.timeout} ms) must catch it`
      : 'nothing to stall: no connection open right now';
  });
  button('btn-restart', async () => {
    const r = await control('restart');
    log('action', `hub restarted: ${r.restarted} connection(s) closed, history kept`);
  });

  for (const [id, name] of [['sw-block-ws', 'block-ws'], ['sw-no-sse', 'disable-sse']]) {
    $(id).addEventListener('change', (ev) => {
      const on = ev.target.checked;
      control(name, { on: on ? '1' : '0' })
        .then((flags) => {
          renderFlags(flags);
          log('action', `${name === 'block-ws' ? 'WebSocket upgrades' : 'SSE'} ${on ? 'blocked' : 'allowed'} on the server`);
        })
        .catch((err) => log('error', err.message));
    });
  }

  for (const input of document.querySelectorAll('input[name=transport]')) {
    input.addEventListener('change', () => setTransport(input.value));
  }

  function renderFlags(flags) {
    if (!flags) return;
    $('sw-block-ws').checked = !!flags.blockWebSocket;
    $('sw-no-sse').checked = !!flags.disableSse;
    if (flags.tickerMs) $('tick-ms').textContent = String(flags.tickerMs);
  }

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
  fetch('/demo/state').then((r) => r.json()).then(renderFlags).catch(() => {});
  for (const input of document.querySelectorAll('input[name=transport]')) input.checked = input.value === choice;
  start(choice, undefined);
})();

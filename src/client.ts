/**
 * `createClient`: the facade that owns every policy once (DESIGN §1) — which transport to try,
 * when to retry, when a connection is dead, what was already delivered, what waits to be sent.
 * Transports only move bytes; this module drives one at a time.
 */
import { clampDelay, computeDelay } from './backoff';
import { classify, type Classification } from './classify';
import { createEmitter, createListeners } from './emitter';
import { SurewireError } from './errors';
import { createLivenessMonitor, type LivenessMonitor } from './liveness';
import { resolveOptions, type ClientOptions, type Provider } from './options';
import { createResumeCursor } from './resume';
import { createSendQueue } from './send-queue';
import { transportFactories } from './transports/index';
import { resolveUrl } from './transports/url';
import type { Failure, TransportListener, WireEvent } from './transports/transport';
import type { EventMap, InboundMessage, MessageMeta, Status, TransportName } from './types';

/** The client `createClient` returns. `In` types inbound events, `Out` outbound ones. */
export interface Client<In extends object = EventMap, Out extends object = In> {
  /** The current immutable snapshot; a new object after every change. */
  readonly status: Status;
  /** Handles one server event. Returns the function that removes the handler. */
  on<K extends keyof In & string>(event: K, handler: (data: In[K], meta: MessageMeta) => void): () => void;
  /** Like `on`, removed after its first call. */
  once<K extends keyof In & string>(event: K, handler: (data: In[K], meta: MessageMeta) => void): () => void;
  /** Removes a handler given to `on` or `once` (every registration of it). */
  off<K extends keyof In & string>(event: K, handler: (data: In[K], meta: MessageMeta) => void): void;
  /** Handles every inbound event, after the event's own handlers. */
  onMessage(handler: (message: InboundMessage<In>) => void): () => void;
  /** Called with every new status snapshot (pair it with `status` for `useSyncExternalStore`). */
  onStatus(handler: (status: Status) => void): () => void;
  /** Called with every error: recoverable ones as they happen, and the fatal one at the end. */
  onError(handler: (error: SurewireError) => void): () => void;
  /**
   * Sends an event to the server. Resolves once it is handed to the open transport (WebSocket)
   * or acknowledged with a 2xx (HTTP); waits in the queue while not open. Rejects with
   * `QUEUE_FULL`, `SEND_REJECTED`, `CLOSED`, or at once with `BAD_OPTIONS` (no event name, or
   * data that JSON cannot carry).
   */
  send<K extends keyof Out & string>(event: K, data: Out[K]): Promise<void>;
  /** Starts connecting (with `autoConnect: false`, or again after `close()`, from the same cursor). */
  connect(): void;
  /**
   * Stops for good until `connect()`: no retry, every timer cleared, sockets closed, queued
   * sends rejected with `CLOSED`. Handlers stay registered. Safe to call twice.
   */
  close(): void;
}

type Timer = ReturnType<typeof setTimeout>;

// DESIGN §4: the attempt count resets once a connection has stayed open this long.
const STABLE_AFTER = 5000;

const provide = <T>(value: Provider<T> | undefined): T | Promise<T> | undefined => (typeof value === 'function' ? (value as () => T | Promise<T>)() : value);

/**
 * Creates a client. Connects at once unless `autoConnect` is `false`.
 * @throws SurewireError `BAD_OPTIONS` when the options cannot work, with what to change.
 */
export function createClient<In extends object = EventMap, Out extends object = In>(options: ClientOptions): Client<In, Out> {
  const opts = resolveOptions(options);
  const { debug: log, heartbeat: hb, reconnect: rc, transports } = opts;
  const statusListeners = createListeners<Status>();
  const errorListeners = createListeners<SurewireError>();
  const cursor = createResumeCursor(opts.lastEventId);
  let status: Status = Object.freeze({ state: 'idle', transport: null, attempt: 0, lastEventId: opts.lastEventId });
  const snapshots: Status[] = []; // queued behind the one being handed to status handlers
  let dispatching = false;

  const report = (error: SurewireError): void => {
    log?.(`error ${error.code}: ${error.message}`);
    for (const listener of errorListeners.list) {
      try {
        listener(error);
      } catch (cause) {
        // An onError handler has nowhere left to report to; don't let it break the client.
        console.error('[surewire] onError handler threw', cause);
      }
    }
  };
  const handlerError = (cause: unknown, event: string): void => report(new SurewireError('HANDLER_ERROR', `A "${event}" handler threw`, { cause }));

  /**
   * Replaces the snapshot and hands it to every status handler. `then` runs once the snapshot is
   * in place, before the handlers hear of it (the fatal error of a `closed` state).
   */
  const setStatus = (patch: Partial<Status>, then?: () => void): void => {
    if ((Object.keys(patch) as (keyof Status)[]).every((key) => patch[key] === status[key])) return;
    snapshots.push((status = Object.freeze({ ...status, ...patch })));
    then?.();
    // A handler that changes the status again (close() on 'open') queues the newer snapshot
    // behind this one: every handler sees every snapshot, in order, never an older after a newer.
    if (dispatching) return;
    dispatching = true;
    for (let snapshot; (snapshot = snapshots.shift()); ) {
      for (const listener of statusListeners.list) {
        try {
          listener(snapshot);
        } catch (cause) {
          handlerError(cause, 'status');
        }
      }
    }
    dispatching = refusing = false;
  };

  const emitter = createEmitter(handlerError);
  const backoff = (attempt: number, previous?: number): number => {
    // `retry: 0` ("reconnect at once") must not switch backoff off: 0 · factor^n never grows, and
    // a failing server would be hammered in a loop. A zero base keeps the configured one.
    const initialDelay = retryBase || rc.initialDelay;
    return computeDelay(attempt, { ...rc, initialDelay, maxDelay: Math.max(rc.maxDelay, initialDelay) }, Math.random, previous);
  };
  const queue = createSendQueue({ maxQueue: opts.maxQueue, retryDelay: backoff, log });

  // SSE and poll carry text, WebSocket frames carry parsed JSON: each `decode` takes its form.
  const decoder = opts.decode;
  // The text of an event as a decoder sees it, and as BAD_MESSAGE reports it (no `data`: '').
  const rawOf = (e: WireEvent): string => (e.format === 'text' ? e.data : (JSON.stringify(e.data) ?? ''));
  const decode = (e: WireEvent): unknown => {
    if (e.format === 'json' && (decoder === 'json' || (decoder === 'text' && typeof e.data === 'string'))) return e.data;
    const raw = rawOf(e);
    return decoder === 'json' ? JSON.parse(raw) : decoder === 'text' ? raw : decoder(raw, e.event);
  };

  // --- connection state; only `attempt`, `fail`, `handle`, `shutdown` and `connect` change it ---
  let attemptId = 0; // bumped by every attempt and by every end: callbacks of older attempts are dropped
  let release: (() => void)[] = []; // undoes the current attempt: its timers, monitor and transport
  let order: TransportName[] = [];
  let roundIndex = 0;
  let roundAllNotOffered = true;
  let preferred: TransportName | undefined; // the last transport that opened: reconnects start with it
  // Opened but died before a byte (a buffering proxy): later rounds try them last, until one talks.
  const demoted = new Set<TransportName>();
  let everOpened = false;
  let failures = 0;
  let previousDelay: number | undefined;
  let reauthUsed = false;
  let retryBase: number | undefined; // SSE `retry:`
  let retryTimer: Timer | undefined;
  let retryNotBefore = 0; // Date.now() before which a server's Retry-After forbids a reconnect
  let waitingForOnline = false;
  let liveness: LivenessMonitor | undefined;
  let heartbeatTimeout = hb ? hb.timeout : 0;
  let releaseGlobals: (() => void) | undefined;
  let refusing = false; // connect() is refusing an unusable URL (see there)
  // The current attempt: opened, and whether a byte arrived since (an open without one does not count).
  let opened = false;
  let gotByte = false;

  const offline = (): boolean => (globalThis.navigator as Navigator | undefined)?.onLine === false;
  const connectingState = (): Status['state'] => (everOpened ? 'reconnecting' : 'connecting');
  const resetBackoff = (): void => {
    failures = 0;
    previousDelay = undefined;
  };

  const teardown = (): void => {
    const undo = release;
    release = [];
    liveness = undefined;
    for (const dispose of undo) dispose();
  };
  const clearRetry = (): void => {
    clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  // `first` leads, then the others in preference order, demoted ones last (a stable sort).
  const startRound = (first: TransportName | undefined): void => {
    const rank = (name: TransportName): number => (name === first ? -1 : +demoted.has(name));
    order = transports.slice().sort((a, b) => rank(a) - rank(b));
    roundIndex = 0;
    roundAllNotOffered = true;
    attempt();
  };

  // No attempt is spent while offline; the `online` listener starts a round at once.
  const waitForOnline = (): void => {
    waitingForOnline = true;
    log?.('offline: waiting for online');
    setStatus({ state: connectingState(), transport: null });
  };

  const attempt = (): void => {
    clearRetry();
    if (offline()) return waitForOnline();
    waitingForOnline = false;
    opened = gotByte = false;
    const id = ++attemptId;
    const name = order[roundIndex]!;
    setStatus({ state: connectingState(), transport: name });
    // A status handler may have called close() (or connect()): this attempt is over.
    if (id !== attemptId) return;
    log?.(`attempt ${id}: trying ${name}`);
    // Waiting for a token function counts against openTimeout like the rest of the attempt: one
    // that never settles must not hold the client in 'connecting' for ever.
    // A long-poll that carries a cursor may be held, headers and all, until the server has an
    // event (DESIGN §3 asks for nothing sooner): it opens when answered, within pollTimeout.
    const openTimer = setTimeout(() => fail(id, { kind: 'timeout' }), clampDelay(name == 'poll' && cursor.current !== undefined ? Math.max(opts.openTimeout, opts.pollTimeout) : opts.openTimeout));
    release.push(() => clearTimeout(openTimer));
    const tokenFailed = (cause: unknown): void => {
      if (id !== attemptId) return;
      teardown();
      handle(name, false, { verdict: 'retry', error: new SurewireError('TOKEN_FAILED', 'token or headers function failed', { cause }) });
    };
    let token, headers;
    try {
      token = provide(opts.token);
      headers = provide(opts.headers);
    } catch (cause) {
      return tokenFailed(cause);
    }
    type Settled = [string | null | undefined, Record<string, string> | undefined];
    // With the token and headers in hand (now, or once their promises settle): start the transport.
    const openTransport = ([t, h]: Settled): void => {
      if (id !== attemptId) return;
      let helloSeen = false;
      let pingSentAt = 0;
      const live = (): boolean => id === attemptId;

      // A transport reports nothing after its close(), and every attempt that ends is closed first
      // (the seam's rule): so these only re-check `live()` after running app code.
      const listener: TransportListener = {
        open() {
          if (opened) return;
          opened = everOpened = true;
          // A transport of this round works here: a later 404 is not "nothing is offered".
          roundAllNotOffered = false;
          clearTimeout(openTimer);
          preferred = name;
          log?.(`attempt ${id}: ${name} open`);
          setStatus({ state: 'open', transport: name, error: undefined, resumed: undefined });
          if (!live()) return; // a status handler closed the client: start no timer for it
          if (hb) {
            const monitor = (liveness = createLivenessMonitor(heartbeatTimeout, () => fail(id, { kind: 'dead' })));
            release.push(monitor.stop);
            if (transport.ping) {
              const interval = setInterval(() => {
                pingSentAt = Date.now();
                transport.ping!();
              }, hb.interval);
              release.push(() => clearInterval(interval));
            }
          }
          queue.attach(transport);
        },
        activity() {
          // DESIGN §4: 5 s of stability reset the attempt count, counted from the first inbound
          // byte: a connection behind a buffering proxy opens and never talks, and must not reset
          // it every round.
          if (!gotByte) {
            demoted.delete(name);
            const stable = setTimeout(() => {
              resetBackoff();
              reauthUsed = false;
              setStatus({ attempt: 0 });
            }, STABLE_AFTER);
            release.push(() => clearTimeout(stable));
          }
          gotByte = true;
          liveness?.touch();
        },
        events(batch) {
          if (!helloSeen) {
            helloSeen = true;
            queue.noHello();
          }
          // DESIGN §4: only a second 401 *before a successful open* is fatal; a token that expires
          // hours later must be refreshed again, not end the client. A connection is "successful"
          // once it delivered an event or stayed 5 s: a server that answers the upgrade, even with
          // a hello, and then closes 4401 has not let us in — resetting sooner loops reauth → 4401.
          reauthUsed = false;
          for (const e of batch) {
            const eid = e.id;
            if (eid !== undefined && cursor.seen(eid)) {
              log?.(`duplicate id ${eid} dropped`);
              continue;
            }
            let data: unknown;
            let bad: SurewireError | undefined;
            try {
              data = decode(e);
            } catch (cause) {
              bad = new SurewireError('BAD_MESSAGE', `"${e.event}" could not be decoded; skipped`, { cause, raw: rawOf(e) });
            }
            // An undecodable event was received whole: a reconnect would not mend it, so it counts.
            if (eid !== undefined) cursor.deliver(eid);
            if (bad) report(bad);
            else emitter.emit({ id: eid, event: e.event, data, transport: name });
            if (!live()) break; // a handler closed the client: deliver no more of this batch
          }
          // One snapshot per batch, not per event: the receive path stays allocation-light.
          // Progress resets the backoff, as 5 s of stability does: a connection that delivered a
          // new id is working, so a cut of it reconnects within initialDelay, while a crash-looping
          // server that delivers nothing new keeps the delays growing.
          // After a close() from a handler, the closed snapshot carries the cursor: nothing follows it.
          if (live() && cursor.current !== status.lastEventId) {
            resetBackoff();
            setStatus({ lastEventId: cursor.current, attempt: 0 });
          }
        },
        hello(hello) {
          helloSeen = true;
          if (hello.id !== undefined && cursor.current === undefined) cursor.startAt(hello.id);
          if (hb && !hb.timeoutFromUser && (hello.heartbeat as number) > 0) {
            heartbeatTimeout = 2 * hello.heartbeat! + 5000;
            liveness?.setTimeout(heartbeatTimeout);
          }
          if (name === 'websocket') queue.setAckMode(hello.ack ? 'on' : 'off');
          if (hello.resumed === false) {
            log?.('server could not resume: events after the cursor are gone');
            // What follows is all new to us, even ids we delivered before: a restarted server
            // that numbers from 1 again must not have its events dropped as duplicates.
            cursor.forget();
          }
          setStatus({ resumed: hello.resumed ?? status.resumed, lastEventId: cursor.current });
        },
        retry(ms) {
          retryBase = ms;
        },
        pong() {
          if (pingSentAt) setStatus({ rtt: Date.now() - pingSentAt });
        },
        ack: queue.ack,
        bad(raw, cause) {
          report(new SurewireError('BAD_MESSAGE', 'A payload could not be decoded; skipped', { raw, cause }));
        },
        end(failure) {
          fail(id, failure);
        },
      };

      // Transports report asynchronously (see the seam), so `transport` is set before any call.
      const transport = transportFactories[name](
        // withCredentials, WebSocket and fetch come with the options under the same names.
        { ...opts, url: opts.endpoints[name], sendUrl: opts.endpoints.send, lastEventId: () => cursor.current, token: t ?? undefined, headers: h ?? {}, pollRequestTimeout: opts.pollTimeout },
        listener,
      );
      release.push(() => {
        queue.detach();
        transport.close();
      });
    };
    // Any thenable (a promise of another realm, or a library's), not only this realm's Promise.
    const pending = (value: unknown): boolean => typeof (value as PromiseLike<unknown> | undefined)?.then == 'function';
    if (pending(token) || pending(headers)) Promise.all([token, headers]).then(openTransport, tokenFailed);
    else openTransport([token, headers] as Settled);
  };

  const fail = (id: number, failure: Failure): void => {
    if (id !== attemptId) return;
    const name = order[roundIndex]!;
    const wasOpen = opened && gotByte;
    teardown();
    // 1009: a message too big for the server. Sending it again after the reconnect would close
    // the next socket the same way, for ever, with every later send behind it.
    if (failure.kind == 'close' && failure.code == 1009) queue.dropTooBig();
    const classification = classify(failure, wasOpen);
    // Opened but not a byte: a buffering proxy. It counts as failed before open (DESIGN §4): a
    // close code or a heartbeat timeout would say "retry the same transport", the table says the
    // next transport, now. Fatal, reauth and stop stand.
    if (opened && !gotByte) {
      demoted.add(name);
      if (preferred === name) preferred = undefined;
      if (classification.verdict === 'retry') classification.verdict = 'next';
    }
    log?.(`attempt ${id}: ${name} ended (${failure.kind}) → ${classification.verdict}`);
    handle(name, wasOpen, classification);
  };

  const handle = (name: TransportName, wasOpen: boolean, { verdict, error, notOffered, retryAfter }: Classification): void => {
    const gen = ++attemptId; // nothing of the ended attempt may act any more (e.g. a pending token promise)
    // `fail` logged the verdict: a 204 asks to stop, without an error.
    if (verdict === 'stop') return shutdown();
    if (verdict === 'fatal') return shutdown(error);
    if (verdict === 'reauth' && reauthUsed) {
      // The refusal's facts (its `status` or `closeCode`: an error's own enumerable fields), now fatal.
      return shutdown(new SurewireError('UNAUTHORIZED', 'Still unauthorized after a token refresh', { ...error, fatal: true }));
    }
    report(error);
    // An onError or onStatus handler may call close() (or connect()) while we report: then stop.
    if (gen !== attemptId) return;
    if (verdict === 'reauth') {
      reauthUsed = true;
      // Not 'open' with an error: the connection is gone, the new attempt starts at once.
      setStatus({ state: connectingState(), transport: null, error });
      if (gen === attemptId) attempt(); // same transport, at once; `token` is called again
    } else if (verdict === 'retry') scheduleRetry(wasOpen ? name : (preferred ?? name), error, retryAfter);
    else {
      if (!notOffered) roundAllNotOffered = false;
      if (++roundIndex < order.length) attempt();
      else if (roundAllNotOffered) shutdown(new SurewireError('NO_TRANSPORT', 'The server offers no transport', { fatal: true, cause: error }));
      else scheduleRetry(preferred, error);
    }
  };

  const scheduleRetry = (first: TransportName | undefined, error: SurewireError, floor?: number): void => {
    retryNotBefore = floor === undefined ? 0 : Date.now() + floor;
    if (offline()) return waitForOnline();
    if (failures >= rc.maxAttempts) {
      return shutdown(new SurewireError('MAX_ATTEMPTS', `reconnect.maxAttempts (${failures}) reached`, { fatal: true, cause: error }));
    }
    // Server hints are floors and are not jittered: the server knows its load. SSE `retry: N` is
    // the base of the exponential (DESIGN §4) and, like Retry-After, a floor (STYLE; WHATWG's
    // "reconnection time"): full jitter alone would reconnect sooner than the server asked.
    const delay = clampDelay(Math.max((previousDelay = backoff(failures, previousDelay)), retryBase ?? 0, floor ?? 0));
    failures++;
    log?.(`reconnecting in ${Math.round(delay)} ms`);
    const gen = attemptId;
    setStatus({ state: 'reconnecting', transport: null, attempt: failures, error });
    if (gen !== attemptId || status.state !== 'reconnecting') return; // a status handler closed the client
    retryTimer = setTimeout(() => startRound(first), delay);
  };

  const shutdown = (error?: SurewireError): void => {
    attemptId++;
    teardown();
    clearRetry();
    waitingForOnline = false;
    releaseGlobals?.();
    releaseGlobals = undefined;
    queue.clear(new SurewireError('CLOSED', 'The client is closed'));
    // `fatal` means closed: onError hears it while the state is `closed`, before a status handler
    // may start the client again.
    setStatus({ state: 'closed', transport: null, error, lastEventId: cursor.current }, error && (() => report(error)));
  };

  const listenGlobally = (): (() => void) | undefined => {
    const win = globalThis.window as Window | undefined;
    if (typeof win?.addEventListener !== 'function') return undefined;
    const doc = globalThis.document as Document | undefined;
    // A connection (or attempt) that lived through `offline` is most likely dead: a network
    // switch (Wi-Fi to cellular) drops sockets without a FIN, and the heartbeat would take
    // `heartbeat.timeout` to notice. DESIGN §4: on `online`, reconnect at once.
    let wentOffline = false;
    const goneOffline = (): void => void (wentOffline = true);
    const online = (): void => {
      const cut = wentOffline;
      wentOffline = false;
      if (retryTimer === undefined && !waitingForOnline && !cut) return liveness?.check();
      // `online` skips our own backoff, not a server's Retry-After: the server knows its load.
      const wait = retryNotBefore - Date.now();
      log?.(`online: reconnecting in ${wait > 0 ? wait : 0} ms`);
      teardown();
      clearRetry();
      waitingForOnline = false;
      if (wait > 0) retryTimer = setTimeout(() => startRound(preferred), wait);
      else startRound(preferred);
    };
    // Background tabs throttle timers: re-check the deadline when the page is seen again.
    const visible = (): void => {
      if (doc?.visibilityState !== 'hidden') liveness?.check();
    };
    const listen = (method: 'addEventListener' | 'removeEventListener'): void => {
      win[method]('online', online);
      win[method]('offline', goneOffline);
      doc?.[method]('visibilitychange', visible);
    };
    listen('addEventListener');
    return () => listen('removeEventListener');
  };

  const client: Client<In, Out> = {
    get status() {
      return status;
    },
    on: (event, handler) => emitter.on(event, handler as never),
    once: (event, handler) => emitter.on(event, handler as never, true),
    off: emitter.off as Client<In, Out>['off'],
    onMessage: emitter.onMessage as Client<In, Out>['onMessage'],
    onStatus: statusListeners.add,
    onError: errorListeners.add,
    send(event, data) {
      // Idle clients queue too, and flush once connect() opens; closed ones refuse.
      return typeof event !== 'string' || !event
        ? Promise.reject(new SurewireError('BAD_OPTIONS', 'send() needs an event name'))
        : status.state === 'closed'
          ? Promise.reject(new SurewireError('CLOSED', 'The client is closed; call connect()'))
          : queue.push(event, data);
    },
    connect() {
      if (refusing || (status.state !== 'idle' && status.state !== 'closed')) return;
      // A relative URL needs a page to resolve against: without one, every attempt would fail as
      // a network error, for ever (resolveOptions leaves this check to connect()). Sends go over
      // the socket when WebSocket is the only transport: no send URL is needed then.
      for (const name of transports.join() == 'websocket' ? transports : [...transports, 'send' as const]) {
        const endpoint = opts.endpoints[name];
        try {
          if (endpoint !== false) resolveUrl(endpoint);
        } catch (cause) {
          // A handler that restarts a closed client (onStatus, onError) would otherwise be
          // refused again inside this call, for ever: during the refusal, connect() does nothing.
          refusing = true;
          try {
            shutdown(new SurewireError('BAD_OPTIONS', `The ${name} URL must be absolute here (no page URL to resolve it against)`, { fatal: true, cause }));
          } finally {
            // Inside a status dispatch, the refusal's snapshot is only queued: the flag stays up
            // until that dispatch is over (setStatus lowers it).
            refusing = dispatching;
          }
          return;
        }
      }
      resetBackoff();
      reauthUsed = everOpened = false;
      releaseGlobals = listenGlobally();
      const gen = attemptId;
      setStatus({ state: 'connecting', transport: null, attempt: 0, error: undefined });
      // A status handler may have closed it, or closed it and connected again (which started
      // its own round): either way this call has nothing left to start.
      if (gen === attemptId) startRound(preferred);
    },
    close() {
      if (status.state === 'closed') return;
      log?.('close() called');
      shutdown();
    },
  };

  if (opts.autoConnect) client.connect();
  return client;
}

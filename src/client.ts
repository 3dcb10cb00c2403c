/**
 * `createClient`: the facade that owns every policy once (DESIGN §1) — which transport to try,
 * when to retry, when a connection is dead, what was already delivered, what waits to be sent.
 * Transports only move bytes; this module drives one at a time.
 */
import { computeDelay } from './backoff';
import { classify, type Classification } from './classify';
import { createEmitter } from './emitter';
import { SurewireError } from './errors';
import { createLivenessMonitor, type LivenessMonitor } from './liveness';
import { resolveOptions, type ClientOptions, type Provider } from './options';
import { createResumeCursor } from './resume';
import { createSendQueue } from './send-queue';
import { transportFactories } from './transports/index';
import type { Failure, Hello, Transport, TransportListener, WireEvent } from './transports/transport';
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
   * `QUEUE_FULL`, `SEND_REJECTED` or `CLOSED`.
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
// The largest delay setTimeout honours; beyond it browsers and Node fire at once (a 40-day
// Retry-After, or maxDelay: Infinity after ~21 attempts, would turn into a reconnect storm).
const MAX_TIMEOUT = 2_147_483_647;

const provide = <T>(value: Provider<T>): T | Promise<T> => (typeof value === 'function' ? (value as () => T | Promise<T>)() : value);

/**
 * Creates a client. Connects at once unless `autoConnect` is `false`.
 * @throws SurewireError `BAD_OPTIONS` when the options cannot work, with what to change.
 */
export function createClient<In extends object = EventMap, Out extends object = In>(options: ClientOptions): Client<In, Out> {
  const opts = resolveOptions(options);
  const log = opts.debug;
  const statusListeners = new Set<(status: Status) => void>();
  const errorListeners = new Set<(error: SurewireError) => void>();
  const cursor = createResumeCursor(opts.lastEventId);
  let status: Status = Object.freeze({ state: 'idle', transport: null, attempt: 0, lastEventId: opts.lastEventId });

  const report = (error: SurewireError): void => {
    log?.(`error ${error.code}: ${error.message}`, { fatal: error.fatal, status: error.status, closeCode: error.closeCode });
    for (const listener of errorListeners) {
      try {
        listener(error);
      } catch (cause) {
        // An onError handler has nowhere left to report to; don't let it break the client.
        console.error('[surewire] an onError handler threw', cause);
      }
    }
  };
  const handlerError = (cause: unknown, event: string): void =>
    report(new SurewireError('HANDLER_ERROR', `A handler for "${event}" threw; other handlers still ran.`, { cause }));

  const setStatus = (patch: Partial<Status>): void => {
    let changed = false;
    for (const key in patch) if (patch[key as keyof Status] !== status[key as keyof Status]) changed = true;
    if (!changed) return;
    status = Object.freeze({ ...status, ...patch });
    const snapshot = status;
    for (const listener of statusListeners) {
      try {
        listener(snapshot);
      } catch (cause) {
        handlerError(cause, 'status');
      }
    }
  };

  const emitter = createEmitter(handlerError);
  const backoff = (attempt: number, previous?: number): number => {
    // `retry: 0` ("reconnect at once") must not switch backoff off: 0 · factor^n never grows, and
    // a failing server would be hammered in a loop. A zero base keeps the configured one.
    const initialDelay = retryBase ? retryBase : opts.reconnect.initialDelay;
    return computeDelay(attempt, { ...opts.reconnect, initialDelay, maxDelay: Math.max(opts.reconnect.maxDelay, initialDelay) }, Math.random, previous);
  };
  const queue = createSendQueue({ maxQueue: opts.maxQueue, retryDelay: (n) => backoff(n), log });

  const decode: (e: WireEvent) => unknown =
    opts.decode === 'json'
      ? (e) => (e.format === 'text' ? JSON.parse(e.data) : e.data)
      : opts.decode === 'text'
        ? (e) => (e.format === 'text' || typeof e.data === 'string' ? e.data : (JSON.stringify(e.data) ?? ''))
        : ((fn) => (e: WireEvent) => fn(e.format === 'text' ? e.data : (JSON.stringify(e.data) ?? ''), e.event))(opts.decode);

  // --- connection state; only `attempt`, `fail`, `shutdown` and `connect` change it ---
  let attemptId = 0; // bumped by every attempt and by shutdown: callbacks of older attempts are dropped
  let transport: Transport | undefined;
  let releaseAttempt: (() => void)[] = [];
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
  let heartbeatTimeout = opts.heartbeat ? opts.heartbeat.timeout : 0;
  let releaseGlobals: (() => void) | undefined;

  const offline = (): boolean => typeof navigator !== 'undefined' && navigator.onLine === false;

  const teardownAttempt = (): void => {
    const release = releaseAttempt;
    releaseAttempt = [];
    transport = undefined;
    liveness = undefined;
    for (const dispose of release) dispose();
  };
  const clearRetry = (): void => {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  const startRound = (first: TransportName | undefined): void => {
    const all = [...opts.transports.filter((name) => !demoted.has(name)), ...opts.transports.filter((name) => demoted.has(name))];
    const start = first && all.includes(first) ? first : all[0]!;
    order = [start, ...all.filter((name) => name !== start)];
    roundIndex = 0;
    roundAllNotOffered = true;
    attempt();
  };

  // No attempt is spent while offline; the `online` listener starts a round at once.
  const waitForOnline = (): void => {
    waitingForOnline = true;
    log?.('offline: waiting for the online event');
    setStatus({ state: everOpened ? 'reconnecting' : 'connecting', transport: null });
  };

  const attempt = (): void => {
    clearRetry();
    if (offline()) return waitForOnline();
    waitingForOnline = false;
    const id = ++attemptId;
    const name = order[roundIndex]!;
    setStatus({ state: everOpened ? 'reconnecting' : 'connecting', transport: name });
    // A status or error handler may have called close() (or connect()): this attempt is over.
    if (id !== attemptId) return;
    log?.(`attempt ${id}: trying ${name}`, { attempt: failures, endpoint: opts.endpoints[name] });
    let token: string | null | undefined | Promise<string | null | undefined>;
    let headers: Record<string, string> | Promise<Record<string, string>> | undefined;
    try {
      token = opts.token === undefined ? undefined : provide(opts.token);
      headers = opts.headers === undefined ? undefined : provide(opts.headers);
    } catch (cause) {
      tokenFailed(id, cause);
      return;
    }
    if (id !== attemptId) return; // the token function closed the client
    if (token instanceof Promise || headers instanceof Promise) {
      // A token function that never settles must not hold the client in 'connecting' for ever:
      // waiting for it counts against openTimeout like the rest of the attempt.
      const guard = setTimeout(() => fail(id, { kind: 'timeout' }, false, false), opts.openTimeout);
      releaseAttempt.push(() => clearTimeout(guard));
      Promise.all([token, headers]).then(
        ([t, h]) => {
          clearTimeout(guard);
          if (id === attemptId) open(id, name, t, h);
        },
        (cause: unknown) => {
          clearTimeout(guard);
          tokenFailed(id, cause);
        },
      );
    } else open(id, name, token, headers);
  };

  const tokenFailed = (id: number, cause: unknown): void => {
    if (id !== attemptId) return;
    const error = new SurewireError('TOKEN_FAILED', 'The token or headers function failed; will retry.', { cause });
    handle(order[roundIndex]!, false, { verdict: 'retry', error });
  };

  const open = (id: number, name: TransportName, token: string | null | undefined, headers: Record<string, string> | undefined): void => {
    let opened = false;
    let gotByte = false;
    let helloSeen = false;
    let pingSentAt = 0;
    // Assigned right after the factory returns; transports report asynchronously (see the seam).
    let current: Transport;
    const live = (): boolean => id === attemptId;
    const timers: Timer[] = [];
    releaseAttempt.push(() => timers.forEach(clearTimeout));
    timers.push(setTimeout(() => fail(id, { kind: 'timeout' }, opened, gotByte), opts.openTimeout));

    const listener: TransportListener = {
      open() {
        if (!live() || opened) return;
        opened = true;
        clearTimeout(timers[0]);
        everOpened = true;
        preferred = name;
        log?.(`attempt ${id}: ${name} open`);
        setStatus({ state: 'open', transport: name, error: undefined, resumed: undefined });
        if (!live()) return; // a status handler closed the client: start no timer for it
        if (opts.heartbeat) {
          const monitor = (liveness = createLivenessMonitor(heartbeatTimeout, () => fail(id, { kind: 'dead' }, opened, gotByte)));
          releaseAttempt.push(monitor.stop);
          const ping = current.ping?.bind(current);
          if (ping) {
            const interval = setInterval(() => {
              pingSentAt = Date.now();
              ping();
            }, opts.heartbeat.interval);
            releaseAttempt.push(() => clearInterval(interval));
          }
        }
        timers.push(
          setTimeout(() => {
            failures = 0;
            previousDelay = undefined;
            setStatus({ attempt: 0 });
          }, STABLE_AFTER),
        );
        queue.attach(current);
      },
      activity() {
        if (!live()) return;
        // DESIGN §4: only a second 401 *before a successful open* is fatal; a token that expires
        // hours later must be refreshed again, not end the client. "Open" is counted from the
        // first inbound byte: a server that accepts the upgrade and closes 4401 at once has not
        // let us in, and resetting on the bare open would loop reauth → 4401 without end.
        if (!gotByte) {
          reauthUsed = false;
          demoted.delete(name);
        }
        gotByte = true;
        liveness?.touch();
      },
      events(batch) {
        if (!live()) return;
        if (!helloSeen) {
          helloSeen = true;
          queue.noHello();
        }
        for (let i = 0; i < batch.length; i++) {
          const e = batch[i]!;
          const eid = e.id;
          if (eid !== undefined && cursor.seen(eid)) {
            log?.(`duplicate id ${eid} dropped`);
            continue;
          }
          let data: unknown;
          try {
            data = decode(e);
          } catch (cause) {
            if (eid !== undefined) cursor.deliver(eid); // received whole: a reconnect would not mend it
            const raw = e.format === 'text' ? e.data : String(JSON.stringify(e.data));
            report(new SurewireError('BAD_MESSAGE', `Event "${e.event}" could not be decoded; it was skipped.`, { cause, raw }));
            if (!live()) break; // an onError handler closed the client
            continue;
          }
          if (eid !== undefined) cursor.deliver(eid);
          emitter.emit({ id: eid, event: e.event, data, transport: name });
          if (!live()) break; // a handler closed the client: deliver no more of this batch
        }
        // One snapshot per batch, not per event: the receive path stays allocation-light.
        if (cursor.current !== status.lastEventId) {
          // Progress resets the backoff, as 5 s of stability does: a connection that delivered a
          // new id is working, so a cut of it reconnects within initialDelay (cut → next event
          // well under a second), while a crash-looping server that delivers nothing new keeps
          // the delays growing.
          if (failures !== 0) {
            failures = 0;
            previousDelay = undefined;
          }
          setStatus({ lastEventId: cursor.current, attempt: failures });
        }
      },
      hello(hello: Hello) {
        if (!live()) return;
        helloSeen = true;
        if (hello.id !== undefined && cursor.current === undefined) cursor.startAt(hello.id);
        if (opts.heartbeat && !opts.heartbeat.timeoutFromUser && typeof hello.heartbeat === 'number' && hello.heartbeat > 0) {
          heartbeatTimeout = 2 * hello.heartbeat + 5000;
          liveness?.setTimeout(heartbeatTimeout);
        }
        if (name === 'websocket') queue.setAckMode(hello.ack ? 'on' : 'off');
        if (hello.resumed === false) log?.('server could not resume: some events after the cursor are gone (status.resumed = false)');
        setStatus({ resumed: hello.resumed ?? status.resumed, lastEventId: cursor.current });
      },
      retry(ms) {
        if (!live()) return;
        retryBase = ms;
      },
      pong() {
        if (!live() || pingSentAt === 0) return;
        setStatus({ rtt: Date.now() - pingSentAt });
      },
      ack(mids) {
        if (live()) queue.ack(mids);
      },
      bad(raw, cause) {
        if (live()) report(new SurewireError('BAD_MESSAGE', 'An inbound payload could not be parsed; it was skipped.', { raw, cause }));
      },
      end(failure) {
        fail(id, failure, opened, gotByte);
      },
    };

    current = transportFactories[name](
      {
        url: opts.endpoints[name],
        sendUrl: opts.endpoints.send,
        lastEventId: () => cursor.current,
        token: token ?? undefined,
        headers: headers ?? {},
        withCredentials: opts.withCredentials,
        pollRequestTimeout: opts.pollTimeout,
        WebSocket: opts.WebSocket,
        fetch: opts.fetch,
      },
      listener,
    );
    transport = current;
    releaseAttempt.push(() => {
      queue.detach();
      current.close();
    });
  };

  const fail = (id: number, failure: Failure, opened: boolean, gotByte: boolean): void => {
    if (id !== attemptId) return;
    const name = order[roundIndex]!;
    teardownAttempt();
    // Opened but not a byte: a buffering proxy. It counts as failed before open (DESIGN §4).
    let classification = classify(failure, opened && gotByte);
    if (opened && !gotByte) {
      demoted.add(name);
      if (preferred === name) preferred = undefined;
      // A close code or a heartbeat timeout would say "retry the same transport"; the table says
      // this counts as failed before open: the next transport, now. Fatal, reauth and stop stand.
      if (classification.verdict === 'retry') classification = { ...classification, verdict: 'next' };
    }
    log?.(`attempt ${id}: ${name} ended (${failure.kind}) → ${classification.verdict}`, {
      code: classification.error.code,
      status: classification.error.status,
      closeCode: classification.error.closeCode,
    });
    handle(name, opened && gotByte, classification);
  };

  const handle = (name: TransportName, wasOpen: boolean, { verdict, error, notOffered, retryAfter }: Classification): void => {
    const gen = ++attemptId; // nothing of the ended attempt may act any more (e.g. a pending token promise)
    // An onError or onStatus handler may call close() (or connect()) while we report: then stop.
    const superseded = (): boolean => gen !== attemptId;
    switch (verdict) {
      case 'stop':
        log?.('server asked to stop (204)');
        return shutdown();
      case 'fatal':
        return shutdown(error);
      case 'reauth':
        if (reauthUsed) {
          return shutdown(new SurewireError('UNAUTHORIZED', 'Still unauthorized after refreshing the token.', { fatal: true, status: error.status, closeCode: error.closeCode }));
        }
        reauthUsed = true;
        report(error);
        if (superseded()) return;
        setStatus({ error });
        if (superseded()) return;
        return attempt(); // same transport, at once; `token` is called again
      case 'next':
        report(error);
        if (superseded()) return;
        if (!notOffered) roundAllNotOffered = false;
        if (++roundIndex < order.length) return attempt();
        if (roundAllNotOffered) {
          return shutdown(new SurewireError('NO_TRANSPORT', 'No transport is offered by the server (every endpoint answered 404/405/501 or a wrong content type).', { fatal: true, cause: error }));
        }
        return scheduleRetry(preferred, error);
      case 'retry':
        report(error);
        if (superseded()) return;
        return scheduleRetry(wasOpen ? name : (preferred ?? name), error, retryAfter);
    }
  };

  const scheduleRetry = (first: TransportName | undefined, error: SurewireError, floor?: number): void => {
    if (offline()) return waitForOnline();
    if (failures >= opts.reconnect.maxAttempts) {
      return shutdown(new SurewireError('MAX_ATTEMPTS', `Gave up after ${failures} failed attempts (reconnect.maxAttempts).`, { fatal: true, cause: error }));
    }
    let delay = backoff(failures, previousDelay);
    previousDelay = delay;
    // Server hints are floors and are not jittered: the server knows its load. SSE `retry: N` is
    // the base of the exponential (DESIGN §4) and, like Retry-After, a floor (STYLE; WHATWG's
    // "reconnection time"): full jitter alone would reconnect sooner than the server asked.
    if (retryBase !== undefined) delay = Math.max(delay, retryBase);
    if (floor !== undefined) delay = Math.max(delay, floor);
    retryNotBefore = floor === undefined ? 0 : Date.now() + floor;
    delay = Math.min(delay, MAX_TIMEOUT);
    failures++;
    log?.(`reconnecting in ${Math.round(delay)} ms`, { attempt: failures, first });
    const gen = attemptId;
    setStatus({ state: 'reconnecting', transport: null, attempt: failures, error });
    if (gen !== attemptId || status.state !== 'reconnecting') return; // a status handler closed the client
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      startRound(first);
    }, delay);
  };

  const shutdown = (error?: SurewireError): void => {
    attemptId++;
    teardownAttempt();
    clearRetry();
    waitingForOnline = false;
    releaseGlobals?.();
    releaseGlobals = undefined;
    queue.clear(new SurewireError('CLOSED', 'The client was closed before this send went out.'));
    setStatus({ state: 'closed', transport: null, error });
    if (error) report(error);
  };

  const listenGlobally = (): (() => void) | undefined => {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return undefined;
    const online = (): void => {
      // `online` skips our own backoff, not a server's Retry-After: the server knows its load.
      if (waitingForOnline || (retryTimer !== undefined && Date.now() >= retryNotBefore)) {
        log?.('online: reconnecting now');
        startRound(preferred);
      } else liveness?.check();
    };
    // Background tabs throttle timers: re-check the deadline when the page is seen again.
    const visible = (): void => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') liveness?.check();
    };
    window.addEventListener('online', online);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', visible);
    return () => {
      window.removeEventListener('online', online);
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', visible);
    };
  };

  const client: Client<In, Out> = {
    get status() {
      return status;
    },
    on: (event, handler) => emitter.on(event, handler as never),
    once: (event, handler) => emitter.on(event, handler as never, true),
    off: (event, handler) => emitter.off(event, handler as never),
    onMessage: (handler) => emitter.onMessage(handler as never),
    onStatus(handler) {
      const entry = (s: Status): void => handler(s);
      statusListeners.add(entry);
      return () => void statusListeners.delete(entry);
    },
    onError(handler) {
      const entry = (e: SurewireError): void => handler(e);
      errorListeners.add(entry);
      return () => void errorListeners.delete(entry);
    },
    send(event, data) {
      if (typeof event !== 'string' || event === '') {
        return Promise.reject(new SurewireError('BAD_OPTIONS', 'send(event, data) needs an event name string, e.g. send("chat", { text: "hi" }).'));
      }
      // Idle clients queue too, and flush once connect() opens; closed ones refuse.
      if (status.state === 'closed') return Promise.reject(new SurewireError('CLOSED', 'The client is closed; call connect() first.'));
      return queue.push(event, data);
    },
    connect() {
      if (status.state !== 'idle' && status.state !== 'closed') return;
      failures = 0;
      previousDelay = undefined;
      reauthUsed = false;
      releaseGlobals = listenGlobally();
      setStatus({ state: 'connecting', transport: null, attempt: 0, error: undefined });
      // A status handler may have closed it again (`status` was reassigned by setStatus).
      if ((status as Status).state !== 'connecting') return;
      startRound(preferred);
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

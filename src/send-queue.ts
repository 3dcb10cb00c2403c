/**
 * Outbound messages: held while not open, flushed in order on open, retried with the same `mid`
 * when an HTTP send fails in a retryable way, and — over WebSocket, when the server acknowledges
 * sends — kept until acknowledged and re-sent after a reconnect, so a frame lost with a dying
 * socket is not lost for the app. The server drops a retried duplicate by its `mid`.
 */
import { parseRetryAfter } from './backoff';
import { SurewireError, isSurewireError } from './errors';
import { noop } from './transports/common';
import type { Transport } from './transports/transport';
import type { OutboundMessage } from './types';

interface Pending {
  message: OutboundMessage;
  resolve(): void;
  reject(error: SurewireError): void;
  /** A send that resolved and goes out again (never acknowledged): the app no longer waits for it. */
  again?: true;
}

/** Whether the current connection acknowledges WebSocket sends (learnt from its hello). */
export type AckMode = 'unknown' | 'on' | 'off';

/** The queue as the client drives it. */
export interface SendQueue {
  /** Queues a message; rejects at once with `QUEUE_FULL` beyond `maxQueue` waiting sends. */
  push(event: string, data: unknown): Promise<void>;
  /** A transport opened: re-send what it must, then flush. */
  attach(transport: Transport): void;
  /** The transport is gone; keep everything for the next one. */
  detach(): void;
  /** The server said whether it acknowledges WebSocket sends. */
  setAckMode(mode: Exclude<AckMode, 'unknown'>): void;
  /** Inbound traffic arrived with no hello first: this server does not acknowledge. */
  noHello(): void;
  ack(mids: readonly string[]): void;
  /**
   * Rejects every waiting send with `error`. Sends that resolved but were never acknowledged are
   * kept, also while they were going out again: a later connect() sends them again, as a
   * reconnect would (the app was told they went). Call `detach()` first.
   */
  clear(error: SurewireError): void;
  /**
   * The server closed 1009 (a message too big): the oldest message it did not acknowledge is
   * the one (it acknowledges frame by frame, in order), and it is dropped rather than sent again
   * into the same close for ever; the ones after it go again. It had resolved; the close is reported.
   */
  dropTooBig(): void;
  readonly size: number;
}

export interface SendQueueConfig {
  maxQueue: number;
  /** Delay before retrying a failed HTTP send, by consecutive failure count. */
  retryDelay(failures: number): number;
  log?(message: string, details?: Record<string, unknown>): void;
}

// Big enough to amortise a POST; a 413 halves it (a server's body limit is not known).
const MAX_BATCH = 100;
// A server that announces acks but never sends them must not grow memory without bound.
const MAX_UNACKED = 10_000;

export function createSendQueue(config: SendQueueConfig): SendQueue {
  const prefix = Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  let counter = 0;
  let pending: Pending[] = [];
  const unacked = new Map<string, OutboundMessage>();
  let transport: Transport | undefined;
  let ackMode: AckMode = 'unknown';
  // What the last connection that said anything said: a connection that died before its hello
  // tells nothing, and its unacknowledged sends go again like those before it.
  let acks = false;
  let batchSize = MAX_BATCH;
  // The batch handed to the transport and not settled yet; clear() leaves it to its outcome.
  let sending: Pending[] | undefined;
  let clearedWith: SurewireError | undefined; // a new error object for every clear()
  let resending = 0; // entries of `pending` that are `again`: counted, so that push() stays O(1)
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const clearRetry = (): void => {
    clearTimeout(retryTimer);
    retryTimer = undefined;
  };
  const setAckMode = (mode: Exclude<AckMode, 'unknown'>): void => {
    ackMode = mode;
    acks = mode == 'on';
    if (!acks) unacked.clear();
  };

  const flush = async (): Promise<void> => {
    while (transport && !sending && !retryTimer && pending.length) {
      const current = transport;
      const batch = (sending = pending.slice(0, batchSize));
      const cleared = clearedWith;
      let error: SurewireError | undefined;
      try {
        await current.send(batch.map((p) => p.message));
      } catch (cause) {
        error = isSurewireError(cause) ? cause : new SurewireError('SEND_FAILED', 'Send failed', { cause });
      }
      sending = undefined;
      // close() came while the batch was in flight: a batch that was handed over is sent
      // (WebSocket: "send 'leave', then close"); one that was not is not retried any more,
      // except what goes out again, which stays in its place as clear() keeps it.
      const closed = clearedWith != cleared;
      // Too large for the server as a batch, maybe not one by one: split it and go again at once.
      if (!closed && error?.status == 413 && batch.length > 1) {
        batchSize = Math.ceil(batch.length / 2);
        continue;
      }
      // Only SEND_FAILED may succeed later; SEND_REJECTED, BAD_OPTIONS (unserialisable data)… never will.
      if (!closed && error?.code === 'SEND_FAILED') {
        // Retryable: keep the batch at the front, same mids, and try again after a delay (a new
        // transport attached meanwhile flushes at once instead).
        // Clamped: setTimeout fires at once beyond 2^31 - 1 ms (e.g. with maxDelay: Infinity).
        // A server's Retry-After (429, 503) is a floor, as for reconnects (DESIGN §4).
        const floor = parseRetryAfter((error as { retryAfter?: string | null }).retryAfter) ?? 0;
        const delay = Math.min(Math.max(config.retryDelay(failures++), floor), 2_147_483_647);
        config.log?.(`send failed, retrying in ${Math.round(delay)} ms`);
        if (current === transport) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            void flush();
          }, delay);
        }
        continue;
      }
      // attach() may have put unacked messages in front meanwhile: drop by identity.
      const done = new Set(batch);
      // One that close() cut goes again after connect(), in its place, when sending it again can help.
      const keep = (p: Pending): boolean | undefined => closed && error?.code === 'SEND_FAILED' && p.again;
      pending = pending.filter((p) => !done.has(p) || keep(p));
      for (const p of batch) if (p.again && !keep(p)) resending--;
      if (!error) {
        failures = 0;
        // Kept until acknowledged, on a socket that close() is closing too: connect() sends them again.
        if ((closed || current === transport) && current.name === 'websocket' && ackMode !== 'off') {
          for (const { message } of batch) unacked.set(message.mid, message);
          while (unacked.size > MAX_UNACKED) unacked.delete(unacked.keys().next().value!);
        }
      }
      for (const p of batch) error ? p.reject(closed ? clearedWith! : error) : p.resolve();
    }
  };

  return {
    get size() {
      return pending.length;
    },
    push(event, data) {
      // A throw in here rejects the returned promise (and queues nothing).
      return new Promise<void>((resolve, reject) => {
        // Serialised once here, so that data JSON cannot carry fails its own send alone, not the
        // batch it would have joined.
        try {
          JSON.stringify(data);
        } catch (cause) {
          throw new SurewireError('BAD_OPTIONS', `Cannot send: ${(cause as Error).message}`, { cause });
        }
        // maxQueue bounds the sends the app waits for; one that a free transport takes at once
        // never waits, and resolved ones going out again are not the app's to count.
        const waiting = pending.length - resending - (sending?.filter((p) => !p.again).length ?? 0);
        if (waiting >= config.maxQueue && !(transport && !sending && !retryTimer)) throw new SurewireError('QUEUE_FULL', `${config.maxQueue} sends waiting: raise maxQueue`);
        // In this order: transports send the message as it is (DESIGN §3's `{event, data, mid}`).
        pending.push({ message: { event, data, mid: `${prefix}-${++counter}` }, resolve, reject });
        void flush();
      });
    },
    attach(next) {
      transport = next;
      // Sent over the previous socket but never acknowledged: they go again, first, same mids —
      // only when the server said it acknowledges. One that never said (no hello, no event) is a
      // plain server, and a frame handed to its socket counts as sent (DESIGN §3).
      if (acks) {
        pending = [...unacked.values()].map((message): Pending => ({ message, resolve: noop, reject: noop, again: true })).concat(pending);
        resending += unacked.size;
      }
      ackMode = 'unknown';
      clearRetry();
      failures = 0;
      batchSize = MAX_BATCH;
      unacked.clear();
      void flush();
    },
    detach() {
      transport = undefined;
      clearRetry();
    },
    setAckMode,
    noHello() {
      if (ackMode === 'unknown') setAckMode('off');
    },
    ack(mids) {
      for (const mid of mids) unacked.delete(mid);
    },
    dropTooBig() {
      unacked.delete(unacked.keys().next().value!);
    },
    clear(error) {
      clearRetry();
      clearedWith = error;
      // The batch in flight is settled by its outcome (flush), what goes out again stays for the
      // next attach(): the app was told those went.
      const dropped = pending.filter((p) => !p.again && !sending?.includes(p));
      pending = pending.filter((p) => p.again || sending?.includes(p));
      for (const p of dropped) p.reject(error);
    },
  };
}

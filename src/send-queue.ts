/**
 * Outbound messages: held while not open, flushed in order on open, retried with the same `mid`
 * when an HTTP send fails in a retryable way, and — over WebSocket, when the server acknowledges
 * sends — kept until acknowledged and re-sent after a reconnect, so a frame lost with a dying
 * socket is not lost for the app. The server drops a retried duplicate by its `mid`.
 */
import { SurewireError, isSurewireError } from './errors';
import type { Transport } from './transports/transport';
import type { OutboundMessage } from './types';

interface Pending {
  message: OutboundMessage;
  resolve(): void;
  reject(error: SurewireError): void;
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
  /** Rejects every waiting send with `error` and forgets acknowledgements. */
  clear(error: SurewireError): void;
  readonly size: number;
}

export interface SendQueueConfig {
  maxQueue: number;
  /** Delay before retrying a failed HTTP send, by consecutive failure count. */
  retryDelay(failures: number): number;
  log?(message: string, details?: Record<string, unknown>): void;
}

// Big enough to amortise a POST, small enough to stay under a server's body limit.
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
  let inFlight = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const noop = (): void => {};
  const clearRetry = (): void => {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  // attach() may put unacked messages in front while a batch is in flight: drop by identity.
  const remove = (batch: Pending[]): void => {
    if (pending[0] === batch[0] && pending[batch.length - 1] === batch[batch.length - 1]) pending = pending.slice(batch.length);
    else {
      const gone = new Set(batch);
      pending = pending.filter((p) => !gone.has(p));
    }
  };

  const retain = (batch: Pending[]): void => {
    if (transport?.name !== 'websocket' || ackMode === 'off') return;
    for (const { message } of batch) unacked.set(message.mid, message);
    while (unacked.size > MAX_UNACKED) unacked.delete(unacked.keys().next().value as string);
  };

  const flush = async (): Promise<void> => {
    while (transport && !inFlight && retryTimer === undefined && pending.length > 0) {
      const current = transport;
      const batch = pending.slice(0, MAX_BATCH);
      inFlight = true;
      try {
        await current.send(batch.map((p) => p.message));
        inFlight = false;
        remove(batch);
        failures = 0;
        if (current === transport) retain(batch);
        for (const p of batch) p.resolve();
      } catch (cause) {
        inFlight = false;
        const error = isSurewireError(cause) ? cause : new SurewireError('SEND_FAILED', 'The send failed; it will be retried.', { cause });
        // Only SEND_FAILED may succeed later; SEND_REJECTED, BAD_OPTIONS (unserialisable data)… never will.
        if (error.code !== 'SEND_FAILED') {
          remove(batch);
          for (const p of batch) p.reject(error);
          continue;
        }
        // Retryable: keep the batch at the front, same mids, and try again after a delay.
        // Clamped: setTimeout fires at once beyond 2^31 - 1 ms (e.g. with maxDelay: Infinity).
        const delay = Math.min(config.retryDelay(failures++), 2_147_483_647);
        config.log?.('send failed, retrying', { delay: Math.round(delay), status: error.status, count: batch.length });
        if (current === transport) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            void flush();
          }, delay);
        }
      }
    }
  };

  return {
    get size() {
      return pending.length;
    },
    push(event, data) {
      if (pending.length >= config.maxQueue) {
        return Promise.reject(new SurewireError('QUEUE_FULL', `${config.maxQueue} sends are already waiting (maxQueue); wait for the connection to open, or raise maxQueue.`));
      }
      return new Promise<void>((resolve, reject) => {
        pending.push({ message: { event, data, mid: `${prefix}-${++counter}` }, resolve, reject });
        void flush();
      });
    },
    attach(next) {
      transport = next;
      ackMode = 'unknown';
      clearRetry();
      failures = 0;
      if (unacked.size > 0) {
        // Sent over the previous socket but never acknowledged: they go again, first, same mids.
        const again: Pending[] = [...unacked.values()].map((message) => ({ message, resolve: noop, reject: noop }));
        unacked.clear();
        pending = again.concat(pending);
      }
      void flush();
    },
    detach() {
      transport = undefined;
      clearRetry();
    },
    setAckMode(mode) {
      ackMode = mode;
      if (mode === 'off') unacked.clear();
    },
    noHello() {
      if (ackMode === 'unknown') {
        ackMode = 'off';
        unacked.clear();
      }
    },
    ack(mids) {
      for (const mid of mids) unacked.delete(mid);
    },
    clear(error) {
      clearRetry();
      const dropped = pending;
      pending = [];
      unacked.clear();
      for (const p of dropped) p.reject(error);
    },
  };
}

/**
 * Inbound messages: drops retried duplicates by `mid` and hands the rest to `onMessage`, for
 * WebSocket frames and `POST /send` alike, so a message re-sent over another transport after a
 * reconnect is still delivered once.
 */
import type { HubMessage, HubMessageContext } from './types';

/** Delivers messages once per `mid`. */
export interface Inbox {
  /** Hands every message whose `mid` was not seen recently to `onMessage`, in order. */
  deliver(messages: readonly HubMessage[], ctx: HubMessageContext): void;
}

/**
 * Creates an inbox remembering the last `window` mids. A `Set` keeps insertion order, so the
 * oldest mid is evicted in O(1) with its first iterator value.
 */
export function createInbox(window: number, onMessage: (msg: HubMessage, ctx: HubMessageContext) => void, onError: (err: unknown) => void): Inbox {
  const seen = new Set<string>();
  return {
    deliver(messages, ctx) {
      for (const msg of messages) {
        if (seen.has(msg.mid)) continue;
        seen.add(msg.mid);
        if (seen.size > window) seen.delete(seen.values().next().value as string);
        // A throwing handler must not kill the connection or skip the rest of the batch; the
        // message counts as handled (it is acked), as it reached the application. An async
        // handler's rejection is reported too: left alone it would be an unhandled rejection,
        // which ends the process under Node's default `--unhandled-rejections=throw`.
        try {
          const result: unknown = onMessage(msg, ctx);
          if (isThenable(result)) result.then(undefined, onError);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}

/** Whether a handler returned a promise (or any thenable), whose rejection must be caught. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

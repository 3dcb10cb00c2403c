/**
 * Plumbing shared by every transport: a listener guard that enforces the seam's "report once,
 * nothing after close()" rule in one place, token redaction, and the outbound message shape.
 */
import { SurewireError } from '../errors';
import type { OutboundMessage } from '../types';
import type { TransportContext, TransportListener } from './transport';

/** A {@link TransportListener} that drops every call after `end` or `stop()`. */
export interface GuardedListener extends TransportListener {
  /** True once `end` was reported or the client called `close()`. */
  readonly done: boolean;
  /** The client closed the transport: report nothing from now on. */
  stop(): void;
}

/**
 * Wraps the client's listener so that a transport cannot report twice or after `close()`, and
 * a throwing listener is surfaced the way an `EventTarget` reports a throwing handler
 * (`reportError`) without breaking the transport: its state must not depend on the caller.
 * A Proxy, so that every listener method is guarded without a list of their names; `done` and
 * `stop` are answered by the guard itself. A closure rather than a class with `#done`: the build
 * targets ES2020, where private fields become WeakMap lookups. The guard is never awaited, so
 * its `then` (a guarded call like any other) is never asked for.
 */
export function guardListener(target: TransportListener): GuardedListener {
  let done = false;
  return new Proxy(target as GuardedListener, {
    get: (_, name: keyof GuardedListener) =>
      name == 'done'
        ? done
        : name == 'stop'
          ? () => (done = true)
          : (a?: unknown, b?: unknown) => {
              if (done) return;
              if (name == 'end') done = true;
              try {
                (target[name] as (a?: unknown, b?: unknown) => void)(a, b);
              } catch (error) {
                const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
                if (report) report(error);
                else
                  queueMicrotask(() => {
                    throw error;
                  });
              }
            },
  });
}

/**
 * The platform's `fetch` or `WebSocket`: the injected one, else the global one (bound: browsers
 * throw "Illegal invocation" when `fetch` is called on another receiver; an injected one is
 * called detached, so an unbound `window.fetch` passed in the options works too).
 * @throws Error saying how to inject one when there is none.
 */
export function platform<K extends 'fetch' | 'WebSocket'>(ctx: TransportContext, name: K): NonNullable<TransportContext[K]> {
  const injected = ctx[name];
  const found = typeof injected == 'function' ? injected : (globalThis as unknown as Record<K, { bind(self: unknown): TransportContext[K] } | undefined>)[name]?.bind(globalThis);
  if (!found) throw new Error(`No ${name}: pass \`${name}\` in the client options`);
  return found as NonNullable<TransportContext[K]>;
}

/** Does nothing; handlers are replaced by it on teardown (`ws` throws on an unheard `error`). */
export function noop(): void {}

/** A JSON object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value == 'object' && !Array.isArray(value);

/** `JSON.parse(raw)`, or undefined (which JSON cannot be) once `raw` is reported as bad. */
export function parseJson(raw: string, out: TransportListener): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    out.bad(raw, cause);
  }
}

/**
 * Serialises an outbound batch with `write`. The queue builds each message as `{event, data, mid}`,
 * in that order, exactly as DESIGN §3 shows it, so that the simplest server works.
 * @throws SurewireError `BAD_OPTIONS` when it cannot (data changed into what JSON cannot carry
 * after send(), a bad URL, no fetch): sending it again cannot help.
 */
export function serialise<T>(batch: OutboundMessage[], write: (messages: OutboundMessage[]) => T): T {
  try {
    return write(batch);
  } catch (cause) {
    throw new SurewireError('BAD_OPTIONS', `Cannot send: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Returns `error` with every occurrence of the token (raw or URL-encoded) replaced in its
 * message, stack and causes. Platform errors quote URLs and header values ("Invalid URL:
 * wss://…?access_token=…", "invalid header value 'Bearer …'"), and a token must never reach an
 * error message or a log. An error with nothing to redact is returned as it is.
 */
export function redact(error: unknown, token: string | undefined, depth = 0): unknown {
  if (!token || depth > 4) return error;
  const scrub = (text: string): string => text.split(token).join('[redacted]').split(encodeURIComponent(token)).join('[redacted]');
  if (typeof error == 'string') return scrub(error);
  if (!(error instanceof Error)) return error;
  const { message, stack, cause } = error as Error & { cause?: unknown };
  const text = scrub(message);
  const trace = stack && scrub(stack);
  const clean = redact(cause, token, depth + 1);
  if (text == message && trace == stack && clean === cause) return error;
  const copy = new Error(text, clean === undefined ? undefined : { cause: clean });
  copy.name = error.name;
  copy.stack = trace;
  return copy;
}

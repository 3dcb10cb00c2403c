/**
 * Plumbing shared by every transport: a listener guard that enforces the seam's "report once,
 * nothing after close()" rule in one place, token redaction, and small helpers.
 */
import type { TransportListener } from './transport';

/** A {@link TransportListener} that drops every call after `end` or `stop()`. */
export interface GuardedListener extends TransportListener {
  /** True once `end` was reported or the client called `close()`. */
  readonly done: boolean;
  /** The client closed the transport: report nothing from now on. */
  stop(): void;
}

const METHODS = ['open', 'activity', 'events', 'hello', 'retry', 'pong', 'ack', 'bad', 'end'] as const;

/**
 * Wraps the client's listener so that a transport cannot report twice or after `close()`, and
 * a throwing listener is surfaced the way an `EventTarget` reports a throwing handler
 * (`reportError`) without breaking the transport: its state must not depend on the caller.
 * A closure rather than a class with `#done`: the build targets ES2020, where private fields
 * become WeakMap lookups, and this sits on the receive path.
 */
export function guardListener(target: TransportListener): GuardedListener {
  let done = false;
  const guarded = {
    get done() {
      return done;
    },
    stop() {
      done = true;
    },
  } as GuardedListener;
  for (const name of METHODS) {
    (guarded as unknown as Record<string, (a?: unknown, b?: unknown) => void>)[name] = (a, b) => {
      if (done) return;
      if (name === 'end') done = true;
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
    };
  }
  return guarded;
}

/**
 * Runs `fn` after the current synchronous code, so that a factory never calls its listener
 * before it has returned the transport (the client may not hold the transport yet).
 */
export function later(fn: () => void): void {
  void Promise.resolve().then(fn);
}

/** Does nothing; handlers are replaced by it on teardown (`ws` throws on an unheard `error`). */
export function noop(): void {}

/**
 * Returns `error` with every occurrence of the token (raw or URL-encoded) replaced in its
 * message, stack and causes. Platform errors quote URLs and header values ("Invalid URL:
 * wss://…?access_token=…", "invalid header value 'Bearer …'"), and a token must never reach an
 * error message or a log.
 */
export function redact(error: unknown, token: string | undefined, depth = 0): unknown {
  if (!token || depth > 4) return error;
  const scrub = (text: string): string => text.split(token).join('[redacted]').split(encodeURIComponent(token)).join('[redacted]');
  if (typeof error === 'string') return scrub(error);
  if (!(error instanceof Error)) return error;
  const { message, stack, cause } = error as Error & { cause?: unknown };
  const clean = cause === undefined ? undefined : redact(cause, token, depth + 1);
  if (scrub(message) === message && clean === cause && (stack === undefined || scrub(stack) === stack)) return error;
  const copy = new Error(scrub(message), clean === undefined ? undefined : { cause: clean });
  copy.name = error.name;
  copy.stack = stack === undefined ? undefined : scrub(stack);
  return copy;
}

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

/**
 * Surfaces an error thrown by a listener without breaking the transport, the way an
 * `EventTarget` reports a throwing handler: the transport's own state must not depend on the
 * client's code behaving.
 */
function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}

/**
 * Wraps the client's listener so that each transport cannot report twice or after `close()`.
 * A closure rather than a class with `#done`: the build targets ES2020, where private fields
 * become WeakMap lookups, and this sits on the receive path.
 */
export function guardListener(target: TransportListener): GuardedListener {
  let done = false;
  return {
    get done() {
      return done;
    },
    stop() {
      done = true;
    },
    open() {
      if (done) return;
      try {
        target.open();
      } catch (e) {
        reportListenerError(e);
      }
    },
    activity() {
      if (done) return;
      try {
        target.activity();
      } catch (e) {
        reportListenerError(e);
      }
    },
    events(batch) {
      if (done) return;
      try {
        target.events(batch);
      } catch (e) {
        reportListenerError(e);
      }
    },
    hello(hello) {
      if (done) return;
      try {
        target.hello(hello);
      } catch (e) {
        reportListenerError(e);
      }
    },
    retry(ms) {
      if (done) return;
      try {
        target.retry(ms);
      } catch (e) {
        reportListenerError(e);
      }
    },
    pong() {
      if (done) return;
      try {
        target.pong();
      } catch (e) {
        reportListenerError(e);
      }
    },
    ack(mids) {
      if (done) return;
      try {
        target.ack(mids);
      } catch (e) {
        reportListenerError(e);
      }
    },
    bad(raw, cause) {
      if (done) return;
      try {
        target.bad(raw, cause);
      } catch (e) {
        reportListenerError(e);
      }
    },
    end(failure) {
      if (done) return;
      done = true;
      try {
        target.end(failure);
      } catch (e) {
        reportListenerError(e);
      }
    },
  };
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

const REDACTED = '[redacted]';

/**
 * Returns `error` with every occurrence of the token (raw or URL-encoded) removed from its
 * message, and from its causes. Platform errors quote URLs and header values ("Invalid URL:
 * wss://…?access_token=…", "invalid header value 'Bearer …'"), and a token must never reach an
 * error message or a log.
 */
export function redact(error: unknown, token: string | undefined, depth = 0): unknown {
  if (!token || depth > 4) return error;
  if (typeof error === 'string') return scrub(error, token);
  if (!(error instanceof Error)) return error;
  const message = scrub(error.message, token);
  const cause = (error as { cause?: unknown }).cause;
  const cleanCause = cause === undefined ? undefined : redact(cause, token, depth + 1);
  const stack = typeof error.stack === 'string' ? scrub(error.stack, token) : undefined;
  if (message === error.message && cleanCause === cause && stack === error.stack) return error;
  const copy = new Error(message, cleanCause === undefined ? undefined : { cause: cleanCause });
  copy.name = error.name;
  if (stack !== undefined) copy.stack = stack;
  return copy;
}

function scrub(text: string, token: string): string {
  let out = text.split(token).join(REDACTED);
  const encoded = encodeURIComponent(token);
  if (encoded !== token) out = out.split(encoded).join(REDACTED);
  return out;
}

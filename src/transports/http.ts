/**
 * What the SSE and long-poll transports share over `fetch`: the request loop (an SSE stream is
 * one long response, a long-poll is the same response repeated), how a response is judged
 * (DESIGN §4), and the outbound `POST {send}` (DESIGN §3).
 */
import { SurewireError } from '../errors';
import type { RequestInitLike, ResponseLike } from '../types';
import { guardListener, noop, platform, redact, serialise } from './common';
import { readEventStream } from './event-stream';
import type { Failure, Transport, TransportContext, TransportListener } from './transport';
import { buildUrl } from './url';

/**
 * Calls `fn` once `ctx.pollRequestTimeout` has passed; no timer when it is not a positive finite
 * number. Fake timers drive `setTimeout`, not `AbortSignal.timeout`: so do it by hand.
 */
function timeout(ctx: TransportContext, fn: () => void): ReturnType<typeof setTimeout> | undefined {
  const ms = ctx.pollRequestTimeout;
  // 2^31 - 1 is the largest delay `setTimeout` honours; beyond it browsers and Node fire at once.
  return ms > 0 && ms < Infinity ? setTimeout(fn, Math.min(ms, 2_147_483_647)) : undefined;
}

/**
 * ms under which an empty poll answer counts as "at once" (see the poll loop): a spin against a
 * nearby server or proxy, well under any hold a hub makes (min(pollTimeout, 2 × heartbeat)).
 */
const QUICK_POLL = 25;

/**
 * The request options every surewire HTTP request shares: a `POST` of `body` when there is one,
 * else an event-stream `GET` (with `lastEventId` as its Last-Event-ID header when given). Our
 * headers win over the user's.
 */
function request(ctx: TransportContext, signal: AbortSignal, body?: string, lastEventId?: string | false): RequestInitLike {
  const own: Record<string, string> = body ? { 'Content-Type': 'application/json' } : { Accept: 'text/event-stream' };
  if (lastEventId) own['Last-Event-ID'] = lastEventId;
  if (ctx.token) own.Authorization = `Bearer ${ctx.token}`;
  const headers: Record<string, string> = {};
  // String keys only, as a spread would not: fetch throws on a symbol key, and every request would fail.
  for (const name in ctx.headers) headers[name] = ctx.headers[name]!;
  // A user header that differs only in case from ours is dropped, so it cannot merge into ours.
  for (const name in own) for (const user in headers) if (user.toLowerCase() == name.toLowerCase()) delete headers[user];
  return {
    // A body is a JSON array: never empty.
    method: body ? 'POST' : 'GET',
    headers: Object.assign(headers, own),
    body,
    signal,
    credentials: ctx.withCredentials ? 'include' : 'same-origin',
    cache: 'no-store',
    redirect: 'follow',
  };
}

/** Releases a body we will not read, so that the connection can be reused or closed. */
function discard(response: ResponseLike): void {
  // [streams] cancel() rejects (never throws) on a locked body.
  response.body?.cancel().catch(noop);
}

/**
 * Judges a response to an event-stream `GET` (DESIGN §4): `undefined` when it is a usable stream,
 * else the failure to report.
 */
function check({ status, ok, headers }: ResponseLike): Failure | undefined {
  const contentType = headers.get('content-type');
  return status == 204
    ? { kind: 'no-content' }
    : !ok
      ? { kind: 'http', status, retryAfter: headers.get('retry-after') }
      : // The media type, in any case, with or without parameters.
        /^\s*text\/event-stream\s*(;|$)/i.test(contentType ?? '')
        ? undefined
        : { kind: 'content-type', contentType };
}

/**
 * An event-stream transport over `fetch`. `GET ctx.url` with `Accept: text/event-stream` and the
 * cursor as `lastEventId` query and `Last-Event-ID` header, read just before each request (so a
 * poll carries the id of the batch the listener handled last); redirects are followed by fetch.
 * Opens on the first 2xx `text/event-stream` answer.
 * - SSE: one response; its end is `{kind:'ended'}`, a read error `{kind:'network'}`.
 * - Poll: every good response reports `activity()` (empty ones too), then the next poll starts at
 *   once; a request (headers and body) longer than `ctx.pollRequestTimeout` is aborted and
 *   reported as a network failure. Any failure ends the loop: retrying is the client's decision.
 *
 * Sends are `POST ctx.sendUrl` either way, and need no open stream. A send resolves on any 2xx
 * (204 too) and rejects with `SEND_FAILED` (network error, 408, 429, 5xx, no answer within
 * `ctx.pollRequestTimeout`, or the transport was closed while it was in flight: the client may
 * send the batch again with the same `mid`s) or `SEND_REJECTED` (any other answer, or
 * `endpoints.send: false`). A batch that cannot be sent at all (unserialisable data, a bad URL,
 * no fetch) rejects with `BAD_OPTIONS`: sending it again cannot help.
 */
export function createEventStreamTransport(name: 'sse' | 'poll', ctx: TransportContext, listener: TransportListener): Transport {
  const out = guardListener(listener);
  const { token, sendUrl } = ctx;
  const poll = name == 'poll';
  /** The sends in flight, aborted by close(). */
  const sends = new Set<AbortController>();
  let closed = false;
  // The stream's current request.
  let controller: AbortController | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = (): void => {
    clearTimeout(timer);
    controller?.abort();
    // A fetch that ignores the signal still has its stream cancelled.
    reader?.cancel().catch(noop);
  };

  const run = async (): Promise<void> => {
    let opened = false;
    let quickEmpty = 0;
    try {
      // Report nothing before the factory has returned.
      await undefined;
      do {
        if (out.done) return;
        const cursor = ctx.lastEventId();
        // The query carries every id; the Last-Event-ID header only one it can carry as it is:
        // fetch throws on a character past U+00FF (an emoji id) and trims edge spaces.
        const header = /^[!-~]([ -~]*[!-~])?$/.test(cursor ?? '') && cursor;
        controller = new AbortController();
        const started = Date.now();
        if (poll) {
          timer = timeout(ctx, () => {
            out.end({ kind: 'network', cause: new Error('poll timed out') });
            stop();
          });
        }
        const url = buildUrl(ctx.url, { lastEventId: cursor });
        const fetch = platform(ctx, 'fetch');
        let response: ResponseLike;
        try {
          response = await fetch(url, request(ctx, controller.signal, undefined, header));
        } catch (error) {
          // Cross-origin, Last-Event-ID (not a CORS-safelisted header) makes the browser ask the
          // server first, and a server written for EventSource (which never asks) refuses: the
          // request fails without an answer. Go again at once with the query alone (DESIGN §3:
          // any standard SSE server works).
          const here = (globalThis as { location?: { origin?: string } }).location?.origin;
          if (!header || !here || new URL(url).origin == here || out.done) throw error;
          response = await fetch(url, request(ctx, controller.signal));
        }
        const failure = check(response);
        if (failure || out.done) {
          discard(response);
          if (failure) out.end(failure);
          return;
        }
        // The reader first: a close() from the listener's open() must find it to cancel it.
        reader = response.body?.getReader();
        if (!opened) out.open();
        opened = true;
        if (poll) out.activity();
        const dispatched = await readEventStream(reader, out);
        clearTimeout(timer);
        // DESIGN §3 holds an empty poll for the server's poll timeout. A server that answers
        // every poll at once with nothing (or a proxy replaying such an answer) would make this
        // loop spin: the second quick empty answer in a row ends the stream, and the client's
        // backoff paces the polls. One alone is how a hub announces a gap or a restart.
        if (poll) quickEmpty = dispatched || Date.now() - started >= QUICK_POLL ? 0 : quickEmpty + 1;
      } while (poll && quickEmpty < 2);
      out.end({ kind: 'ended' });
    } catch (cause) {
      // After close(), the abort surfaces here as an AbortError: the guard drops it.
      out.end({ kind: 'network', cause: redact(cause, token) });
    } finally {
      // Every way out has ended the stream (or found it closed).
      stop();
    }
  };
  void run();

  return {
    name,
    async send(batch) {
      if (sendUrl === false) throw new SurewireError('SEND_REJECTED', 'endpoints.send is false');
      if (closed) throw new SurewireError('SEND_FAILED', 'Transport closed');
      if (!batch.length) return;
      const [url, body, fetch] = serialise(batch, (messages) => [buildUrl(sendUrl), JSON.stringify(messages), platform(ctx, 'fetch')] as const);
      const controller = new AbortController();
      sends.add(controller);
      // A keep-alive connection that died silently (a NAT forgot it) swallows a POST for ever while
      // the stream, on its own connection, goes on: abort it so the batch goes again, same mids.
      // Where fetch follows the spec, the reason is the error it rejects with.
      const timer = timeout(ctx, () => controller.abort(new Error('send timed out')));
      let response: ResponseLike;
      try {
        response = await fetch(url, request(ctx, controller.signal, body));
      } catch (cause) {
        throw new SurewireError('SEND_FAILED', 'Send failed', { cause: redact(cause, token) });
      } finally {
        clearTimeout(timer);
        sends.delete(controller);
      }
      discard(response);
      const { status, ok } = response;
      // The raw Retry-After rides along: the queue, which decides when to retry, reads it.
      if (!ok) throw Object.assign(new SurewireError(status == 408 || status == 429 || status > 499 ? 'SEND_FAILED' : 'SEND_REJECTED', `HTTP ${status}`, { status }), { retryAfter: response.headers.get('retry-after') });
    },
    close() {
      closed = true;
      out.stop();
      stop();
      for (const send of sends) send.abort();
    },
  };
}

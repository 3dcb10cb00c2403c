/**
 * What the SSE and long-poll transports share over `fetch`: the request loop (an SSE stream is
 * one long response, a long-poll is the same response repeated), how a response is judged
 * (DESIGN §4), and the outbound `POST {send}` (DESIGN §3).
 */
import { SurewireError } from '../errors';
import type { FetchLike, OutboundMessage, RequestInitLike, ResponseLike } from '../types';
import { guardListener, noop, redact } from './common';
import { createEventStreamDecoder } from './event-stream';
import type { Failure, Transport, TransportContext, TransportListener } from './transport';
import { buildUrl } from './url';

/** The largest delay `setTimeout` honours; beyond it browsers and Node fire at once. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * The `fetch` to use: the injected one, else the global one (bound: browsers throw "Illegal
 * invocation" when `fetch` is called on another receiver).
 * @throws Error saying how to inject one when there is none.
 */
function resolveFetch(ctx: TransportContext): FetchLike {
  const injected = ctx.fetch;
  // Called detached, so an unbound `window.fetch` passed in the options works too.
  if (typeof injected === 'function') return (url, init) => injected(url, init);
  if (typeof fetch === 'function') return (fetch as unknown as FetchLike).bind(globalThis);
  throw new Error('No fetch implementation is available: pass `fetch` in the client options.');
}

/** The request options every surewire HTTP request shares; our headers win over the user's. */
function request(ctx: TransportContext, own: Record<string, string>, signal: AbortSignal, body?: string): RequestInitLike {
  if (ctx.token) own.Authorization = `Bearer ${ctx.token}`;
  const taken = Object.keys(own).map((name) => name.toLowerCase());
  const headers: Record<string, string> = {};
  // A user header that differs only in case from ours is dropped, so it cannot merge into ours.
  for (const name in ctx.headers) if (!taken.includes(name.toLowerCase())) headers[name] = ctx.headers[name]!;
  return {
    method: body === undefined ? 'GET' : 'POST',
    headers: Object.assign(headers, own),
    body,
    signal,
    credentials: ctx.withCredentials ? 'include' : 'same-origin',
    cache: 'no-store',
    redirect: 'follow',
  };
}

/** Releases a body we will not read, so that the connection can be reused or closed. */
function discardBody(response: ResponseLike): void {
  try {
    response.body?.cancel().catch(noop);
  } catch {
    // A locked body or one that cannot be cancelled is left to the garbage collector.
  }
}

/**
 * Judges a response to an event-stream `GET` (DESIGN §4): `undefined` when it is a usable stream,
 * else the failure to report (its body already discarded).
 */
function check(response: ResponseLike): Failure | undefined {
  const { status } = response;
  const contentType = response.headers.get('content-type');
  const failure: Failure | undefined =
    status === 204
      ? { kind: 'no-content' }
      : status < 200 || status > 299
        ? { kind: 'http', status, retryAfter: response.headers.get('retry-after') }
        : (contentType ?? '').split(';')[0]!.trim().toLowerCase() !== 'text/event-stream'
          ? { kind: 'content-type', contentType }
          : undefined;
  if (failure) discardBody(response);
  return failure;
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
 * Sends are `POST ctx.sendUrl` either way.
 */
export function createEventStreamTransport(name: 'sse' | 'poll', ctx: TransportContext, listener: TransportListener): Transport {
  const out = guardListener(listener);
  const sender = createHttpSender(ctx);
  const poll = name === 'poll';
  let controller: AbortController | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = (): void => {
    clearTimeout(timer);
    controller?.abort();
    // A fetch that ignores the signal still has its stream cancelled.
    reader?.cancel().catch(noop);
    reader = undefined;
  };

  const run = async (): Promise<void> => {
    // Report nothing before the factory has returned.
    await undefined;
    let opened = false;
    try {
      do {
        if (out.done) return;
        const fetchFn = resolveFetch(ctx);
        const cursor = ctx.lastEventId();
        const own: Record<string, string> = { Accept: 'text/event-stream' };
        if (cursor !== undefined) own['Last-Event-ID'] = cursor;
        controller = new AbortController();
        const ms = ctx.pollRequestTimeout;
        // Fake timers drive setTimeout, not AbortSignal.timeout: so do it by hand.
        if (poll && ms > 0 && ms !== Infinity) {
          timer = setTimeout(() => {
            out.end({ kind: 'network', cause: new Error(`poll request timed out after ${ms} ms`) });
            stop();
          }, Math.min(ms, MAX_TIMEOUT));
        }
        const response = await fetchFn(buildUrl(ctx.url, [['lastEventId', cursor]]), request(ctx, own, controller.signal));
        const failure = out.done ? undefined : check(response);
        if (out.done || failure) {
          if (failure) out.end(failure);
          else discardBody(response);
          return;
        }
        if (!opened) out.open();
        opened = true;
        if (poll) out.activity();
        const decoder = createEventStreamDecoder(out);
        reader = response.body?.getReader();
        for (;;) {
          const chunk = reader && (await reader.read());
          if (out.done) return;
          if (!chunk || chunk.done) break;
          decoder.write(chunk.value);
        }
        reader = undefined;
        decoder.finish();
        clearTimeout(timer);
      } while (poll && !out.done);
      out.end({ kind: 'ended' });
    } catch (cause) {
      // After close(), the abort surfaces here as an AbortError: the guard drops it.
      out.end({ kind: 'network', cause: redact(cause, ctx.token) });
    } finally {
      if (out.done) stop();
    }
  };
  void run();

  return {
    name,
    send: sender.send,
    close() {
      out.stop();
      stop();
      sender.close();
    },
  };
}

/** Outbound `POST {send}` for the HTTP transports; `close()` aborts the requests in flight. */
interface HttpSender {
  send(batch: OutboundMessage[]): Promise<void>;
  close(): void;
}

/**
 * A send resolves on any 2xx (204 too) and rejects with `SEND_FAILED` (network error, 408, 429,
 * 5xx, or the transport was closed while it was in flight: the client may send the batch again
 * with the same `mid`s) or `SEND_REJECTED` (any other answer, or `endpoints.send: false`). A batch
 * that cannot be sent at all (unserialisable data, a bad URL, no fetch) rejects with
 * `BAD_OPTIONS`: sending it again cannot help.
 */
function createHttpSender(ctx: TransportContext): HttpSender {
  const inFlight = new Set<AbortController>();
  let closed = false;

  const send = async (batch: OutboundMessage[]): Promise<void> => {
    if (ctx.sendUrl === false) {
      throw new SurewireError('SEND_REJECTED', 'Sending is disabled by `endpoints.send: false`; give it a URL to send over SSE and long-polling.');
    }
    if (closed) throw new SurewireError('SEND_FAILED', 'The transport was closed before the batch was sent.');
    if (batch.length === 0) return;
    let url: string;
    let body: string;
    let fetchFn: FetchLike;
    try {
      url = buildUrl(ctx.sendUrl, []);
      body = JSON.stringify(batch.map(({ event, data, mid }) => ({ event, data, mid })));
      fetchFn = resolveFetch(ctx);
    } catch (cause) {
      throw new SurewireError('BAD_OPTIONS', `The batch cannot be sent: ${(cause as Error).message}`, { cause });
    }
    const controller = new AbortController();
    inFlight.add(controller);
    // A keep-alive connection that died silently (a NAT forgot it) swallows a POST for ever while
    // the stream, on its own connection, goes on: abort it so the batch goes again, same mids.
    const ms = ctx.pollRequestTimeout;
    let timedOut = false;
    const timer = ms > 0 && ms !== Infinity ? setTimeout(() => ((timedOut = true), controller.abort()), Math.min(ms, MAX_TIMEOUT)) : undefined;
    let response: ResponseLike;
    try {
      response = await fetchFn(url, request(ctx, { 'Content-Type': 'application/json' }, controller.signal, body));
    } catch (cause) {
      const why = timedOut ? `no answer within ${ms} ms` : closed ? 'the transport was closed' : 'network error';
      throw new SurewireError('SEND_FAILED', `The batch was not sent: ${why}.`, { cause: redact(cause, ctx.token) });
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }
    discardBody(response);
    const { status } = response;
    if (status >= 200 && status <= 299) return;
    const retryable = status === 408 || status === 429 || status >= 500;
    throw new SurewireError(retryable ? 'SEND_FAILED' : 'SEND_REJECTED', `The server answered the send with HTTP ${status}.`, { status });
  };

  return {
    send,
    close() {
      closed = true;
      for (const controller of inFlight) controller.abort();
      inFlight.clear();
    },
  };
}

/**
 * What the SSE and long-poll transports share over `fetch`: the request they make, how a
 * response is judged (DESIGN §4), and the outbound `POST {send}` (DESIGN §3).
 */
import { SurewireError } from '../errors';
import type { FetchLike, OutboundMessage, RequestInitLike, ResponseLike } from '../types';
import { noop, redact } from './common';
import type { Failure, TransportContext } from './transport';
import { buildUrl } from './url';

/**
 * The `fetch` to use: the injected one, else the global one (bound: browsers throw "Illegal
 * invocation" when `fetch` is called on another receiver).
 *
 * @throws Error saying how to inject one when there is none.
 */
export function resolveFetch(ctx: TransportContext): FetchLike {
  if (typeof ctx.fetch === 'function') {
    const injected = ctx.fetch;
    // Called detached, so an unbound `window.fetch` passed in the options works too.
    return (url, init) => injected(url, init);
  }
  const global = (globalThis as { fetch?: unknown }).fetch;
  if (typeof global === 'function') return (global as FetchLike).bind(globalThis);
  throw new Error('No fetch implementation is available: pass `fetch` in the client options (Node 18+ and every current browser have a global one).');
}

/**
 * Headers for a surewire request: the user's `headers`, then ours, which win (a user header that
 * differs only in case from ours is dropped, so that it cannot be merged into ours).
 */
export function requestHeaders(ctx: TransportContext, own: Record<string, string>): Record<string, string> {
  if (ctx.token) own.Authorization = `Bearer ${ctx.token}`;
  const headers: Record<string, string> = {};
  const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  const extra = ctx.headers ?? {};
  for (const name of Object.keys(extra)) {
    if (!taken.has(name.toLowerCase())) headers[name] = extra[name];
  }
  return Object.assign(headers, own);
}

/** The `GET` of an SSE stream or of one poll, carrying the cursor as query and header. */
export function eventStreamRequest(
  ctx: TransportContext,
  lastEventId: string | undefined,
  signal: AbortSignal,
): { url: string; init: RequestInitLike } {
  const url = buildUrl(ctx.url, [['lastEventId', lastEventId]]);
  const own: Record<string, string> = { Accept: 'text/event-stream' };
  if (lastEventId !== undefined) own['Last-Event-ID'] = lastEventId;
  return {
    url,
    init: {
      method: 'GET',
      headers: requestHeaders(ctx, own),
      signal,
      credentials: ctx.withCredentials ? 'include' : 'same-origin',
      cache: 'no-store',
      redirect: 'follow',
    },
  };
}

/** Releases a body we will not read, so that the connection can be reused or closed. */
export function discardBody(response: ResponseLike): void {
  try {
    const body = response.body;
    if (body && !body.locked) body.cancel().catch(noop);
  } catch {
    // A body that cannot be cancelled is left to the garbage collector.
  }
}

/** The media type of a `Content-Type` value, without parameters, in lower case. */
export function mediaType(contentType: string | null): string {
  if (contentType === null) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Judges a response to an event-stream `GET` (DESIGN §4): `undefined` when it is a usable stream,
 * else the failure to report (its body already discarded).
 */
export function checkEventStreamResponse(response: ResponseLike): Failure | undefined {
  const { status } = response;
  let failure: Failure | undefined;
  if (status === 204) failure = { kind: 'no-content' };
  else if (status < 200 || status > 299) failure = { kind: 'http', status, retryAfter: response.headers.get('retry-after') };
  else {
    const contentType = response.headers.get('content-type');
    if (mediaType(contentType) !== 'text/event-stream') failure = { kind: 'content-type', contentType };
  }
  if (failure) discardBody(response);
  return failure;
}

/** Statuses after which the same batch may be sent again later (DESIGN §3). */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Outbound `POST {send}` for the HTTP transports; `close()` aborts the requests in flight. */
export interface HttpSender {
  send(batch: OutboundMessage[]): Promise<void>;
  close(): void;
}

/**
 * Creates the sender of one HTTP transport. A send resolves on any 2xx (204 too) and rejects
 * with `SEND_FAILED` (network error, 408, 429, 5xx, or the transport was closed while it was in
 * flight: the client may send the batch again with the same `mid`s) or `SEND_REJECTED` (any other
 * answer, or `endpoints.send: false`). A batch that `JSON.stringify` cannot serialise, a send URL
 * that cannot be resolved and a missing `fetch` reject with `BAD_OPTIONS`: sending again cannot
 * help.
 */
export function createHttpSender(ctx: TransportContext): HttpSender {
  const inFlight = new Set<AbortController>();
  let closed = false;

  async function send(batch: OutboundMessage[]): Promise<void> {
    if (ctx.sendUrl === false) {
      throw new SurewireError('SEND_REJECTED', 'Sending is disabled by `endpoints.send: false`; give `endpoints.send` a URL (or leave it out to use `{url}/send`) to send over SSE and long-polling.');
    }
    if (closed) throw new SurewireError('SEND_FAILED', 'The transport was closed before the batch could be sent.');
    if (batch.length === 0) return;
    let body: string;
    try {
      body = JSON.stringify(batch.map(toWire));
    } catch (cause) {
      throw new SurewireError('BAD_OPTIONS', 'The message data cannot be serialised with JSON.stringify (a cycle or a BigInt?); send plain JSON values.', { cause });
    }
    let fetchFn: FetchLike;
    let url: string;
    try {
      fetchFn = resolveFetch(ctx);
      url = buildUrl(ctx.sendUrl, []);
    } catch (cause) {
      // No fetch, or a send URL that cannot be resolved: sending again cannot help.
      throw new SurewireError('BAD_OPTIONS', (cause as Error).message, { cause });
    }
    const controller = new AbortController();
    inFlight.add(controller);
    let response: ResponseLike;
    try {
      response = await fetchFn(url, {
        method: 'POST',
        headers: requestHeaders(ctx, { 'Content-Type': 'application/json' }),
        body,
        signal: controller.signal,
        credentials: ctx.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        redirect: 'follow',
      });
    } catch (cause) {
      const message = closed ? 'The transport was closed while the batch was being sent.' : 'The batch could not be sent: network error.';
      throw new SurewireError('SEND_FAILED', message, { cause: redact(cause, ctx.token) });
    } finally {
      inFlight.delete(controller);
    }
    discardBody(response);
    const { status } = response;
    if (status >= 200 && status <= 299) return;
    if (isRetryableStatus(status)) throw new SurewireError('SEND_FAILED', `The server answered the send with HTTP ${status}; it may be sent again later.`, { status });
    throw new SurewireError('SEND_REJECTED', `The server refused the send with HTTP ${status}.`, { status });
  }

  return {
    send,
    close() {
      closed = true;
      for (const controller of inFlight) controller.abort();
      inFlight.clear();
    },
  };
}

function toWire(message: OutboundMessage): { event: string; data: unknown; mid: string } {
  return { event: message.event, data: message.data, mid: message.mid };
}

/**
 * The long-polling transport (DESIGN §3): each response is an event-stream body the server ends
 * as soon as it has written events, or after its poll timeout with none; we poll again at once.
 */
import { guardListener, redact } from './common';
import { createEventStreamDecoder } from './event-stream';
import { checkEventStreamResponse, createHttpSender, discardBody, eventStreamRequest, resolveFetch } from './http';
import type { Transport, TransportFactory } from './transport';

/** The largest delay `setTimeout` honours; beyond it browsers and Node fire at once. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * Loops `GET ctx.url` with the cursor read from `ctx.lastEventId()` just before each request,
 * that is after the listener handled the previous response's events. Opens on the first good
 * response; every good response reports `activity()`, empty ones too. A request (headers and
 * body) that takes longer than `ctx.pollRequestTimeout` is aborted and reported as a network
 * failure. Any failure ends the loop: retrying is the client's decision. Sends are
 * `POST ctx.sendUrl`.
 */
export const createPollTransport: TransportFactory = (ctx, listener) => {
  const out = guardListener(listener);
  const sender = createHttpSender(ctx);
  let controller: AbortController | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function stopRequest(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    controller?.abort();
    controller = undefined;
    const r = reader;
    reader = undefined;
    r?.cancel().catch(() => {});
  }

  function startTimer(): void {
    const ms = ctx.pollRequestTimeout;
    if (!(ms > 0) || ms === Infinity) return;
    timer = setTimeout(() => {
      timer = undefined;
      // Fake timers drive setTimeout, not AbortSignal.timeout: so do it by hand.
      out.end({ kind: 'network', cause: new Error(`poll request timed out after ${ms} ms`) });
      stopRequest();
    }, Math.min(ms, MAX_TIMEOUT));
  }

  /** One poll; false when the loop must stop. */
  async function pollOnce(opened: boolean): Promise<boolean> {
    const fetchFn = resolveFetch(ctx);
    const request = new AbortController();
    controller = request;
    const { url, init } = eventStreamRequest(ctx, ctx.lastEventId(), request.signal);
    startTimer();
    const response = await fetchFn(url, init);
    if (out.done) {
      discardBody(response);
      return false;
    }
    const failure = checkEventStreamResponse(response);
    if (failure) {
      out.end(failure);
      return false;
    }
    if (!opened) out.open();
    out.activity();
    if (out.done) {
      discardBody(response);
      return false;
    }
    if (response.body) {
      const decoder = createEventStreamDecoder(out);
      const r = response.body.getReader();
      reader = r;
      for (;;) {
        const { done, value } = await r.read();
        if (out.done) return false;
        if (done) break;
        if (value) decoder.write(value);
      }
      reader = undefined;
      decoder.finish();
    }
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    controller = undefined;
    return !out.done;
  }

  async function run(): Promise<void> {
    // Report nothing before the factory has returned.
    await undefined;
    let opened = false;
    try {
      while (!out.done && (await pollOnce(opened))) opened = true;
    } catch (cause) {
      if (!out.done) out.end({ kind: 'network', cause: redact(cause, ctx.token) });
    } finally {
      stopRequest();
    }
  }

  void run();

  const transport: Transport = {
    name: 'poll',
    send: (batch) => sender.send(batch),
    close(): void {
      out.stop();
      stopRequest();
      sender.close();
    },
  };
  return transport;
};

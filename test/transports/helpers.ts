import { expect } from 'vitest';
import { isSurewireError, type SurewireError } from '../../src/errors';
import type { FetchLike, RequestInitLike, ResponseLike } from '../../src/types';
import type { Failure, Hello, TransportContext, TransportListener, WireEvent } from '../../src/transports/transport';

export type Call =
  | { type: 'open' }
  | { type: 'activity' }
  | { type: 'events'; batch: WireEvent[] }
  | { type: 'hello'; hello: Hello }
  | { type: 'retry'; ms: number }
  | { type: 'pong' }
  | { type: 'ack'; mids: string[] }
  | { type: 'bad'; raw: string; cause?: unknown }
  | { type: 'end'; failure: Failure };

/** A listener that records every call, in order, and lets a test await one. */
export interface Recorder extends TransportListener {
  calls: Call[];
  /** Every event of every batch, in order. */
  eventList(): WireEvent[];
  batches(): WireEvent[][];
  ended: Promise<Failure>;
  opened: Promise<void>;
  /** Resolves once `predicate` holds after some call. */
  until(predicate: (calls: Call[]) => boolean): Promise<void>;
  types(): string[];
}

export function recorder(hooks: Partial<TransportListener> = {}): Recorder {
  const calls: Call[] = [];
  const waiters: Array<{ predicate: (calls: Call[]) => boolean; resolve: () => void }> = [];
  let resolveEnd!: (f: Failure) => void;
  let resolveOpen!: () => void;
  const ended = new Promise<Failure>((r) => (resolveEnd = r));
  const opened = new Promise<void>((r) => (resolveOpen = r));
  const push = (call: Call) => {
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.predicate(calls)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const rec = {
    calls,
    ended,
    opened,
    open() {
      push({ type: 'open' });
      resolveOpen();
      hooks.open?.();
    },
    activity() {
      push({ type: 'activity' });
      hooks.activity?.();
    },
    events(batch: WireEvent[]) {
      push({ type: 'events', batch });
      hooks.events?.(batch);
    },
    hello(hello: Hello) {
      push({ type: 'hello', hello });
      hooks.hello?.(hello);
    },
    retry(ms: number) {
      push({ type: 'retry', ms });
      hooks.retry?.(ms);
    },
    pong() {
      push({ type: 'pong' });
      hooks.pong?.();
    },
    ack(mids: string[]) {
      push({ type: 'ack', mids });
      hooks.ack?.(mids);
    },
    bad(raw: string, cause?: unknown) {
      push({ type: 'bad', raw, cause });
      hooks.bad?.(raw, cause);
    },
    end(failure: Failure) {
      push({ type: 'end', failure });
      resolveEnd(failure);
      hooks.end?.(failure);
    },
    eventList() {
      return calls.flatMap((c) => (c.type === 'events' ? c.batch : []));
    },
    batches() {
      return calls.flatMap((c) => (c.type === 'events' ? [c.batch] : []));
    },
    until(predicate: (calls: Call[]) => boolean) {
      if (predicate(calls)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ predicate, resolve }));
    },
    types() {
      return calls.map((c) => c.type);
    },
  };
  return rec as unknown as Recorder;
}

export function context(overrides: Partial<TransportContext> & { cursor?: string } = {}): TransportContext {
  const { cursor, ...rest } = overrides;
  return {
    url: 'https://rt.example/rt/sse',
    sendUrl: 'https://rt.example/rt/send',
    lastEventId: () => cursor,
    headers: {},
    withCredentials: false,
    pollRequestTimeout: 30_000,
    ...rest,
  };
}

/** A byte stream that yields the given chunks (strings are UTF-8 encoded), then ends or errors. */
export function chunkedStream(chunks: Array<string | Uint8Array>, opts: { error?: Error; hang?: boolean } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        const c = chunks[i++];
        controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c);
        return;
      }
      if (opts.error) controller.error(opts.error);
      else if (!opts.hang) controller.close();
      else return new Promise<void>(() => {});
    },
  });
}

export function eventStreamResponse(
  chunks: Array<string | Uint8Array>,
  init: { status?: number; headers?: Record<string, string>; error?: Error; hang?: boolean } = {},
): Response {
  return new Response(chunkedStream(chunks, init), {
    status: init.status ?? 200,
    headers: { 'content-type': 'text/event-stream', ...init.headers },
  });
}

export interface FetchCall {
  url: string;
  init: RequestInitLike;
}

/** A fake fetch answering each call with the next responder's result. */
export function fakeFetch(...responders: Array<(call: FetchCall) => ResponseLike | Promise<ResponseLike>>): FetchLike & { calls: FetchCall[] } {
  const calls: FetchCall[] = [];
  const fn = (async (url: string, init: RequestInitLike) => {
    const call = { url, init };
    calls.push(call);
    const responder = responders[Math.min(calls.length - 1, responders.length - 1)];
    return responder(call);
  }) as FetchLike & { calls: FetchCall[] };
  fn.calls = calls;
  return fn;
}

/** A fetch that never answers until its signal aborts (then rejects like fetch does). */
export function hangingFetch(): FetchLike & { calls: FetchCall[]; aborted: () => boolean } {
  const calls: FetchCall[] = [];
  let aborted = false;
  const fn = ((url: string, init: RequestInitLike) => {
    calls.push({ url, init });
    return new Promise<ResponseLike>((_, reject) => {
      init.signal?.addEventListener('abort', () => {
        aborted = true;
        reject(new DOMException('This operation was aborted', 'AbortError'));
      });
    });
  }) as FetchLike & { calls: FetchCall[]; aborted: () => boolean };
  fn.calls = calls;
  fn.aborted = () => aborted;
  return fn;
}

/** Awaits a promise that must reject with a SurewireError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<SurewireError> {
  try {
    await p;
  } catch (e) {
    expect(isSurewireError(e)).toBe(true);
    return e as SurewireError;
  }
  throw new Error('expected a rejection');
}

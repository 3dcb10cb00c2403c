/** Records what a client reports (events, errors, states), and lets a test await conditions. */
import WebSocket from 'ws';
import { createClient, type Client, type ClientOptions, type SurewireError, type WebSocketConstructor } from '../../src/index';
import { createProgress } from './helpers';

export type TickIn = { tick: { n: number } } & Record<string, unknown>;

export interface Watched {
  client: Client<TickIn>;
  /** `data.n` of every `tick` event, in delivery order. */
  ns: number[];
  /** Every delivered message (any event name): `[event, data, id]`. */
  messages: Array<{ event: string; data: unknown; id?: string; transport: string }>;
  errors: SurewireError[];
  codes(): string[];
  states: string[];
  transports: string[];
  debug: string[];
  until(check: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Resolves once `n` ticks have arrived. */
  ticks(n: number, timeoutMs?: number): Promise<void>;
  closed(timeoutMs?: number): Promise<void>;
}

/** Node defaults for the tests: `ws`, global fetch, fast reconnects, a generous heartbeat. */
export function testOptions(options: ClientOptions): ClientOptions {
  return {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    fetch: globalThis.fetch,
    reconnect: { initialDelay: 10, maxDelay: 50 },
    heartbeat: { interval: 1000, timeout: 5000 },
    openTimeout: 2000,
    ...options,
  };
}

export function watch(options: ClientOptions): Watched {
  const progress = createProgress();
  const ns: number[] = [];
  const messages: Watched['messages'] = [];
  const errors: SurewireError[] = [];
  const states: string[] = [];
  const transports: string[] = [];
  const debug: string[] = [];
  const client = createClient<TickIn>(
    testOptions({
      autoConnect: false,
      debug: (line, details) => debug.push(details ? `${line} ${JSON.stringify(details)}` : line),
      ...options,
    }),
  );
  client.onMessage((m) => {
    messages.push({ event: m.event, data: m.data, id: m.id, transport: m.transport });
    if (m.event === 'tick') {
      // With decode: 'text' the data is the raw JSON text.
      const data = typeof m.data === 'string' ? (JSON.parse(m.data) as { n: number }) : (m.data as { n: number });
      ns.push(data.n);
    }
    progress.bump();
  });
  client.onError((e) => {
    errors.push(e);
    progress.bump();
  });
  client.onStatus((s) => {
    if (states[states.length - 1] !== s.state) states.push(s.state);
    if (s.transport && transports[transports.length - 1] !== s.transport) transports.push(s.transport);
    progress.bump();
  });
  const describe = () =>
    `ticks ${JSON.stringify(ns)}; states ${states.join('→')}; errors ${errors.map((e) => `${e.code}${e.status ? `/${e.status}` : ''}${e.closeCode ? `/${e.closeCode}` : ''}`).join(',')}; status ${JSON.stringify({ ...client.status, error: client.status.error?.code })}`;
  const w: Watched = {
    client,
    ns,
    messages,
    errors,
    codes: () => errors.map((e) => e.code),
    states,
    transports,
    debug,
    until: (check, timeoutMs = 8000, what = '') => progress.until(check, timeoutMs, () => `${what} ${describe()}`),
    ticks: (n, timeoutMs) => w.until(() => ns.length >= n, timeoutMs, `${n} ticks:`),
    closed: (timeoutMs) => w.until(() => client.status.state === 'closed', timeoutMs, 'closed:'),
  };
  if (options.autoConnect !== false) client.connect();
  return w;
}

// Types for demo/server.mjs, so the TypeScript browser tests can start the demo in-process.

/** The slice of the hub (`surewire/server`) the demo and its tests use. */
export interface DemoHub {
  publish(event: string, data: unknown): string;
  connections(): readonly { id: string; transport: 'websocket' | 'sse' | 'poll'; close(): void; pause(): void }[];
  disconnectAll(): Promise<void>;
  close(): Promise<void>;
}

export interface DemoOptions {
  /** 0 picks a free port. @defaultValue 8080 */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Ticker period in ms. @defaultValue 500 */
  tickerMs?: number;
  /** The hub's heartbeat in ms (announced in hello). @defaultValue 2000 */
  heartbeat?: number;
  /** Events the hub keeps for replay. @defaultValue 1000 */
  history?: number;
}

export interface Demo {
  /** e.g. `http://127.0.0.1:40123` */
  url: string;
  hub: DemoHub;
  /** Server-wide switches, also set by `POST /demo/block-ws?on=1` and `/demo/disable-sse?on=1`. */
  flags: { blockWebSocket: boolean; disableSse: boolean };
  /** Stops the ticker, closes the hub and the HTTP server. Safe to call twice. */
  close(): Promise<void>;
}

export function startDemo(options?: DemoOptions): Promise<Demo>;

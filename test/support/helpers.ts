/**
 * Shared by the chaos, bad-input and leak suites: real servers on 127.0.0.1:0, a hub on one,
 * and waiting on conditions driven by events (never by sleeps).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub, type Hub, type HubOptions } from '../../src/server/index';

/** Listens on 127.0.0.1:0 and returns the port. */
export async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping whatever connections are left. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface HubServer {
  hub: Hub;
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:{port}/rt` */
  url: string;
  close(): Promise<void>;
}

/** A hub attached under `/rt` to a fresh server on 127.0.0.1. */
export async function startHub(options: HubOptions = {}): Promise<HubServer> {
  const hub = createHub(options);
  const server = http.createServer();
  hub.attach(server, { path: '/rt' });
  const port = await listen(server);
  return {
    hub,
    server,
    port,
    url: `http://127.0.0.1:${port}/rt`,
    async close() {
      await hub.close();
      await closeServer(server);
    },
  };
}

/**
 * A condition waited on by events: call `bump()` wherever state changes, and `until(check)`
 * resolves at the first bump (or at once) where `check()` holds. On timeout it rejects with
 * `describe()`, so that the failure says what was missing.
 */
export interface Progress {
  bump(): void;
  until(check: () => boolean, timeoutMs: number, describe?: () => string): Promise<void>;
}

export function createProgress(): Progress {
  const waiters = new Set<() => void>();
  return {
    bump() {
      for (const w of [...waiters]) w();
    },
    until(check, timeoutMs, describe = () => 'condition not met') {
      return new Promise<void>((resolve, reject) => {
        if (check()) return resolve();
        const waiter = () => {
          if (!check()) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}

/**
 * Compares a received sequence of numbers with 1..n and describes every difference: lost,
 * duplicated and out-of-order, with the first few of each. Empty string when it is exact.
 */
export function sequenceReport(received: readonly number[], n: number): string {
  const counts = new Map<number, number>();
  for (const x of received) counts.set(x, (counts.get(x) ?? 0) + 1);
  const lost: number[] = [];
  const dup: number[] = [];
  for (let i = 1; i <= n; i++) {
    const c = counts.get(i) ?? 0;
    if (c === 0) lost.push(i);
    if (c > 1) dup.push(i);
  }
  const extra = [...counts.keys()].filter((x) => x < 1 || x > n);
  const disorder: string[] = [];
  for (let i = 1; i < received.length && disorder.length < 5; i++) {
    if (received[i] <= received[i - 1]) disorder.push(`${received[i - 1]}→${received[i]} at #${i}`);
  }
  const parts: string[] = [];
  if (lost.length) parts.push(`${lost.length} lost (first: ${lost.slice(0, 8).join(', ')})`);
  if (dup.length) parts.push(`${dup.length} duplicated (first: ${dup.slice(0, 8).join(', ')})`);
  if (extra.length) parts.push(`${extra.length} unexpected values`);
  if (disorder.length) parts.push(`out of order: ${disorder.join('; ')}`);
  return parts.join('; ');
}

/**
 * Which pending timers were created by which code: wraps the global `setTimeout` /
 * `setInterval` (real or fake) and records the creation stack of each timer until it fires
 * (timeouts) or is cleared. Counting `process.getActiveResourcesInfo()` alone cannot tell a
 * timer of the code under test from one of vitest, `ws` or Node's fetch, which come and go.
 */
export interface TimerOrigins {
  /** Creation stacks of the timers still pending whose stack matches `path`. */
  pending(path: RegExp): string[];
  restore(): void;
}

/** Matches stacks through the client's sources, not the hub's. */
export const CLIENT_SRC = /[\\/]src[\\/](?!server[\\/])[^\s]*\.ts/;
/** Matches stacks through the hub's sources. */
export const HUB_SRC = /[\\/]src[\\/]server[\\/]/;

export function trackTimerOrigins(): TimerOrigins {
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = { setTimeout: g.setTimeout, setInterval: g.setInterval, clearTimeout: g.clearTimeout, clearInterval: g.clearInterval };
  const origins = new Map<unknown, string>();
  const stack = () => (new Error().stack ?? '').split('\n').slice(3, 9).join(' ← ');
  g.setTimeout = (fn: unknown, ...rest: unknown[]) => {
    const wrapped = (...args: unknown[]) => {
      origins.delete(id);
      (fn as (...a: unknown[]) => void)(...args);
    };
    const id = saved.setTimeout(wrapped, ...rest);
    origins.set(id, stack());
    return id;
  };
  g.setInterval = (fn: unknown, ...rest: unknown[]) => {
    const id = saved.setInterval(fn, ...rest);
    origins.set(id, stack());
    return id;
  };
  // Node lets either clear function clear either kind of timer.
  g.clearTimeout = (id: unknown) => {
    origins.delete(id);
    return saved.clearTimeout(id);
  };
  g.clearInterval = (id: unknown) => {
    origins.delete(id);
    return saved.clearInterval(id);
  };
  return {
    pending: (path) => [...origins.values()].filter((s) => path.test(s)),
    restore() {
      Object.assign(g, saved);
    },
  };
}

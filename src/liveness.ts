/**
 * Dead-connection detection from timestamps. The deadline is wall-clock time since the last
 * inbound byte, not a countdown reset on every byte: background tabs throttle timers to once a
 * minute or less, and a late timer must not declare a healthy connection dead (engine.io keeps
 * `_pingTimeoutTime` for the same reason). `touch()` is on the receive path, so it only stores a
 * number.
 */
import { clampDelay } from './backoff';

/** Watches one connection. */
export interface LivenessMonitor {
  /** Something arrived. */
  touch(): void;
  /** Re-checks the deadline now (on `visibilitychange` and `online`, when timers may have slept). */
  check(): void;
  /** Changes the timeout (a server hello announced its heartbeat). */
  setTimeout(ms: number): void;
  stop(): void;
}

/**
 * Starts watching at once: `onDead` is called once when nothing arrived for `timeout` ms.
 * @param now - injectable clock for tests.
 */
export function createLivenessMonitor(timeout: number, onDead: () => void, now: () => number = Date.now): LivenessMonitor {
  let last = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const check = (): void => {
    if (stopped) return;
    const idle = now() - last;
    // clearTimeout(undefined) does nothing.
    clearTimeout(timer);
    if (idle >= timeout) {
      stop();
      onDead();
    } else timer = setTimeout(check, clampDelay(timeout - idle)); // a hello may announce any heartbeat
  };
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
  };
  check();

  return {
    touch() {
      last = now();
    },
    check,
    setTimeout(ms) {
      timeout = ms;
      check();
    },
    stop,
  };
}

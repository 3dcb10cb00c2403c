/**
 * Reconnect delays: exponential backoff with jitter, a pure function of the attempt number.
 * See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ for why jitter
 * (a server restart must not be followed by every client arriving in the same 100 ms).
 */

/** How the exponential delay is randomised. */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** The knobs {@link computeDelay} reads. */
export interface BackoffConfig {
  /** Base delay in ms (attempt 0's ceiling). */
  initialDelay: number;
  /** Ceiling of the exponential part in ms. */
  maxDelay: number;
  /** Growth per attempt. */
  factor: number;
  jitter: Jitter;
}

// factor^64 is Infinity for any factor ≥ 2 already; clamping keeps 0 · Infinity (NaN) away.
const MAX_EXPONENT = 64;

/**
 * The delay before reconnect attempt `attempt` (0, 1, …), in ms.
 * - `full`: `random(0, cap)` where `cap = min(maxDelay, initialDelay · factor^attempt)`
 * - `equal`: `cap / 2 + random(0, cap / 2)`
 * - `decorrelated`: `min(maxDelay, random(initialDelay, previous · 3))`
 * - `none`: `cap`
 *
 * @param previous - the delay chosen last time, for `decorrelated` (defaults to `initialDelay`).
 * @param random - injectable for tests; must return a number in [0, 1).
 */
export function computeDelay(attempt: number, config: BackoffConfig, random: () => number = Math.random, previous?: number): number {
  const { initialDelay, maxDelay, factor, jitter } = config;
  if (jitter === 'decorrelated') {
    const upper = Math.max(initialDelay, (previous ?? initialDelay) * 3);
    // An infinite base (Infinity - Infinity) would be NaN, which setTimeout takes for 0.
    return Math.min(maxDelay, initialDelay + random() * (upper - initialDelay)) || Math.min(maxDelay, upper);
  }
  const exponent = Math.min(Math.max(0, attempt), MAX_EXPONENT);
  const cap = Math.min(maxDelay, initialDelay * factor ** exponent);
  if (jitter === 'none') return cap;
  if (jitter === 'equal') return cap / 2 + random() * (cap / 2);
  return random() * cap;
}

/**
 * Holds a delay at the largest one setTimeout honours; beyond it browsers and Node fire at once
 * (a 40-day Retry-After, or maxDelay: Infinity after ~21 attempts, would turn into a reconnect
 * storm). NaN (never expected, but setTimeout would take it for 0: a hot loop) is held there too.
 */
export const clampDelay = (ms: number): number => (ms < 2_147_483_647 ? ms : 2_147_483_647);

/**
 * Reads an HTTP `Retry-After` value — delay-seconds or an HTTP date — as ms from `now`.
 * Returns `undefined` for anything else, so a garbled header never stalls reconnects.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = (value ?? '').trim();
  if (/^\d+$/.test(text)) return +text * 1000;
  // [RFC 9110 §10.2.3] Retry-After = HTTP-date / delay-seconds
  const date = Date.parse(text);
  return isNaN(date) || !/[a-z]/i.test(text) ? undefined : Math.max(0, date - now);
}

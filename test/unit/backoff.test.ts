import { describe, expect, it } from 'vitest';
import { computeDelay, parseRetryAfter, type BackoffConfig } from '../../src/backoff';

/** A seeded PRNG (mulberry32), so that distribution tests are repeatable. */
function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const config = (over: Partial<BackoffConfig> = {}): BackoffConfig => ({ initialDelay: 1000, maxDelay: 30000, factor: 2, jitter: 'full', ...over });

function draws(n: number, fn: () => number): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = fn();
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / n };
}

describe('computeDelay', () => {
  it('full jitter: uniform in [0, min(maxDelay, base·factor^n)]', () => {
    const random = seeded();
    for (const [attempt, cap] of [
      [0, 1000],
      [3, 8000],
      [10, 30000],
    ] as const) {
      const d = draws(10_000, () => computeDelay(attempt, config(), random));
      expect(d.min).toBeGreaterThanOrEqual(0);
      expect(d.max).toBeLessThanOrEqual(cap);
      expect(d.min).toBeLessThan(cap * 0.01); // the low end is reached…
      expect(d.max).toBeGreaterThan(cap * 0.99); // …and so is the high one
      expect(Math.abs(d.mean - cap / 2)).toBeLessThan(cap * 0.03);
    }
  });

  it('full jitter reaches both ends of the range with extreme random values', () => {
    expect(computeDelay(2, config(), () => 0)).toBe(0);
    expect(computeDelay(2, config(), () => 0.999999)).toBeCloseTo(4000, 0);
  });

  it('equal jitter: in [cap/2, cap], mean near 3/4 cap', () => {
    const random = seeded(7);
    const cap = 4000;
    const d = draws(10_000, () => computeDelay(2, config({ jitter: 'equal' }), random));
    expect(d.min).toBeGreaterThanOrEqual(cap / 2);
    expect(d.max).toBeLessThanOrEqual(cap);
    expect(Math.abs(d.mean - 0.75 * cap)).toBeLessThan(cap * 0.03);
  });

  it('no jitter: exactly the capped exponential', () => {
    const c = config({ jitter: 'none' });
    const seq = [0, 1, 2, 3, 4, 5, 6].map((n) => computeDelay(n, c, () => 0.5));
    expect(seq).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('decorrelated: between base and min(maxDelay, 3 · previous), never above maxDelay', () => {
    const random = seeded(3);
    const c = config({ jitter: 'decorrelated' });
    let previous: number | undefined;
    const outside: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const upper = Math.min(30000, Math.max(1000, (previous ?? 1000) * 3));
      const delay = computeDelay(i, c, random, previous);
      if (!(delay >= 1000 && delay <= upper)) outside.push(delay);
      previous = delay;
    }
    expect(outside).toEqual([]);
    // It grows: starting from 1000, a long chain spends most of its time near the cap.
    const chain: number[] = [];
    previous = undefined;
    for (let i = 0; i < 2000; i++) chain.push((previous = computeDelay(i, c, random, previous)));
    const mean = chain.slice(100).reduce((a, b) => a + b, 0) / (chain.length - 100);
    expect(mean).toBeGreaterThan(10_000);
  });

  it('clamps huge attempt numbers: finite, within maxDelay, never NaN', () => {
    for (const jitter of ['full', 'equal', 'none'] as const) {
      for (const attempt of [64, 1000, 1e9, Number.MAX_SAFE_INTEGER, Infinity]) {
        const delay = computeDelay(attempt, config({ jitter }), () => 0.5);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(30000);
      }
    }
    // factor 1 with base 0 (0 · 1^n) and base 0 with a huge exponent: 0, not NaN.
    expect(computeDelay(1e6, config({ initialDelay: 0, jitter: 'none' }), () => 0.5)).toBe(0);
    expect(computeDelay(-3, config({ jitter: 'none' }))).toBe(1000);
  });

  it('uses Math.random by default, so two delays differ (no module-level randomness)', () => {
    const values = new Set(Array.from({ length: 20 }, () => computeDelay(5, config())));
    expect(values.size).toBeGreaterThan(1);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('  7 ', now)).toBe(7000);
  });
  it('reads an HTTP date as ms from now, never negative', () => {
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores garbage, negatives, fractions and absence', () => {
    for (const value of ['', 'soon', '-5', '1.5', '1e3', '12abc', null, undefined]) {
      expect(parseRetryAfter(value, now), String(value)).toBeUndefined();
    }
  });
});

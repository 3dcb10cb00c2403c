import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLivenessMonitor } from '../../src/liveness';

describe('createLivenessMonitor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('declares the connection dead once, after `timeout` without activity', () => {
    const onDead = vi.fn();
    createLivenessMonitor(1000, onDead);
    vi.advanceTimersByTime(999);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onDead).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onDead).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('activity pushes the deadline back', () => {
    const onDead = vi.fn();
    const m = createLivenessMonitor(1000, onDead);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(900);
      m.touch();
    }
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('a late-firing timer does not declare a connection with recent activity dead', () => {
    // A throttled background tab: the timer fires long after its time, but a byte arrived just
    // before. The deadline is measured from the last activity, not from when the timer was set.
    let clock = 0;
    const onDead = vi.fn();
    const m = createLivenessMonitor(1000, onDead, () => clock);
    clock = 5000; // the tab slept; the timer did not run
    m.touch(); // a byte arrives as the tab wakes
    vi.advanceTimersByTime(1000); // now the stale timer fires
    expect(onDead).not.toHaveBeenCalled();
    clock = 5999;
    vi.advanceTimersByTime(1000);
    expect(onDead).not.toHaveBeenCalled();
    clock = 6000;
    m.check();
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('check() on demand declares dead when the deadline passed while timers slept', () => {
    let clock = 0;
    const onDead = vi.fn();
    const m = createLivenessMonitor(1000, onDead, () => clock);
    clock = 1500; // no timer ran (throttled), but wall-clock time moved
    m.check();
    expect(onDead).toHaveBeenCalledTimes(1);
    m.check();
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('check() before the deadline does nothing and keeps exactly one timer', () => {
    const onDead = vi.fn();
    const m = createLivenessMonitor(1000, onDead);
    vi.advanceTimersByTime(500);
    m.check();
    m.check();
    expect(vi.getTimerCount()).toBe(1);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(500);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('setTimeout() shortens and lengthens the deadline from the last activity', () => {
    const onDead = vi.fn();
    const m = createLivenessMonitor(10_000, onDead);
    vi.advanceTimersByTime(3000);
    m.setTimeout(20_000);
    vi.advanceTimersByTime(16_999);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onDead).toHaveBeenCalledTimes(1);

    const onDead2 = vi.fn();
    const m2 = createLivenessMonitor(10_000, onDead2);
    vi.advanceTimersByTime(3000);
    m2.setTimeout(2000); // already past the new deadline
    expect(onDead2).toHaveBeenCalledTimes(1);
    void m;
  });

  it('stop() clears its timer and silences it', () => {
    const onDead = vi.fn();
    const m = createLivenessMonitor(1000, onDead);
    m.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    m.check();
    m.touch();
    expect(onDead).not.toHaveBeenCalled();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../../../src/deadline/deadline.js';

// Deadline.every is the repeating timer the lock manager uses to refresh a held lock.
describe('Deadline.every', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const start = () => Deadline.start(60_000, { graceMs: 30, onHardStop: vi.fn() });

  it('runs fn every ms until stop()', () => {
    const d = start();
    const fn = vi.fn();
    const t = d.every(100, fn);
    vi.advanceTimersByTime(350);
    expect(fn).toHaveBeenCalledTimes(3);
    t.stop();
    vi.advanceTimersByTime(1_000);
    expect(fn).toHaveBeenCalledTimes(3);
    d.dispose();
  });

  it('dispose() stops it too', () => {
    const d = start();
    const fn = vi.fn();
    d.every(100, fn);
    d.dispose();
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('keeps running after the deadline has fired (locks are still held during cleanup)', () => {
    const d = Deadline.start(150, { graceMs: 10_000, onHardStop: vi.fn() });
    const fn = vi.fn();
    d.every(100, fn);
    vi.advanceTimersByTime(450);
    expect(d.signal.aborted).toBe(true);
    expect(fn).toHaveBeenCalledTimes(4);
    d.dispose();
  });
});

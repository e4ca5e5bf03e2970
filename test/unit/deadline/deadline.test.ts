import { describe, expect, it, vi } from 'vitest';
import { Deadline } from '../../../src/deadline/deadline.js';
import { classifyError } from '../../../src/outcome/classify.js';
import { temp } from '../../../src/outcome/outcome.js';

const never = new Promise<never>(() => undefined);
const start = (ms: number, onHardStop = vi.fn()) => Deadline.start(ms, { graceMs: 30, onHardStop });

describe('Deadline', () => {
  it('aborts with a deadline outcome when time runs out, then the watchdog fires', async () => {
    const hard = vi.fn();
    const d = start(20, hard);
    await expect(d.race(never)).rejects.toSatisfy((e) => classifyError(e).kind === 'temp' && (classifyError(e) as { cause: string }).cause === 'deadline');
    expect(d.remaining()).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(hard).toHaveBeenCalledOnce();
  });

  // The 2 s test timeout is the assertion: an uncapped budget would wait 10 s.
  it('a budget is capped by what the deadline has left', { timeout: 2_000 }, async () => {
    const d = start(30);
    const b = d.budget(10_000, 'scan');
    await expect(d.race(never, b.signal)).rejects.toBeDefined();
    d.dispose();
  });

  it('a short budget expires on its own without ending the delivery', async () => {
    const d = start(5_000);
    const b = d.budget(10, 'scan');
    await expect(d.race(never, b.signal)).rejects.toSatisfy((e) => /scan took longer/.test(String((e as Error).message)));
    expect(d.signal.aborted).toBe(false);
    d.dispose();
  });

  it('abort() ends everything with the given reason (e.g. SIGTERM)', async () => {
    const hard = vi.fn();
    const d = start(5_000, hard);
    const b = d.budget(5_000, 'x');
    d.abort(temp('signal', 'SIGTERM'));
    await expect(d.race(never, b.signal)).rejects.toSatisfy((e) => classifyError(e).kind === 'temp');
    expect(classifyError(d.signal.reason)).toEqual(temp('signal', 'SIGTERM'));
    await new Promise((r) => setTimeout(r, 80));
    expect(hard).toHaveBeenCalledWith(temp('signal', 'SIGTERM'));
    d.dispose();
  });

  // Node's timer clock and hrtime round differently: the expiry timer may fire a fraction of a
  // millisecond before endsAt. Once aborted, a deadline has no time left, whatever the clocks say.
  it('after an abort no time remains, though the clock has some left', () => {
    const d = start(60_000);
    d.abort(temp('signal', 'SIGTERM'));
    expect(d.remaining()).toBe(0);
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });

  it('race passes results and errors through while time remains', async () => {
    const d = start(5_000);
    await expect(d.race(Promise.resolve(7))).resolves.toBe(7);
    await expect(d.race(Promise.reject(new Error('x')))).rejects.toThrow('x');
    d.dispose();
  });

  it('sleep resolves in time and rejects on abort', async () => {
    const d = start(5_000);
    await expect(d.sleep(5)).resolves.toBeUndefined();
    const p = d.sleep(10_000);
    d.abort(temp('signal', 'x'));
    await expect(p).rejects.toBeDefined();
    d.dispose();
  });

  it('a sleep keeps the process alive; guard timers do not', async () => {
    const d = start(60_000);
    const p = d.sleep(5);
    const timers = (d as unknown as { timers: Set<NodeJS.Timeout> }).timers;
    expect([...timers].filter((t) => t.hasRef())).toHaveLength(1);
    await p;
    d.dispose();
  });

  it('guards do not keep the process alive (timers are unref’d)', () => {
    const d = start(60_000);
    const b = d.budget(60_000, 'x');
    // every handle the deadline created is unref'd: hasRef() false
    const timers = (d as unknown as { timers: Set<NodeJS.Timeout> }).timers;
    expect([...timers].every((t) => !t.hasRef())).toBe(true);
    b.done();
    d.dispose();
    expect(timers.size).toBe(0);
  });
});

describe('Deadline: many listeners, and a total set after start (issue 9 #7, #8)', () => {
  it('12 scanners racing on the deadline and on one budget print no MaxListenersExceededWarning', async () => {
    const warned = vi.fn();
    process.on('warning', warned);
    const d = start(5_000);
    const b = d.budget(5_000, 'scan');
    const pending = Array.from({ length: 12 }, () => [d.race(never), d.race(never, b.signal)]).flat();
    await new Promise((r) => setImmediate(r));
    d.abort(temp('signal', 'received SIGTERM'));
    await Promise.allSettled(pending);
    b.done();
    d.dispose();
    process.off('warning', warned);
    expect(warned).not.toHaveBeenCalled();
  });

  it('setTotal longer: the deadline started before the config no longer fires at the old end', async () => {
    const d = start(20);
    d.setTotal(5_000);
    await new Promise((r) => setTimeout(r, 60));
    expect(d.signal.aborted).toBe(false);
    expect(d.remaining()).toBeGreaterThan(4_000);
    d.dispose();
  });

  it('setTotal shorter counts from start: already past it aborts at once', async () => {
    const d = start(5_000);
    await new Promise((r) => setTimeout(r, 30));
    d.setTotal(10);
    await new Promise((r) => setTimeout(r, 10));
    expect(d.signal.aborted).toBe(true);
    expect(classifyError(d.signal.reason)).toMatchObject({ kind: 'temp', cause: 'deadline' });
    d.dispose();
  });
});

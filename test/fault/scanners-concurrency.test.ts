/**
 * Scanning holds no lock: 50 concurrent deliveries against a scanner that
 * takes 1 s each take about 1 s longer than the same 50 without a scanner,
 * not 50 s (the procmail lockfile recipe serialised them). And a dead scanner
 * behind an open circuit breaker costs a delivery nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, startFakeScanner } from '../helpers/fake-scanner.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());
afterAll(() => closeAllFakeScanners());

const MSG = 'From a@b  Sat Nov 21 23:21:04 2026\nSubject: s\n\nbody\n';
const cfgFile = (body: string, scanning = '') => {
  const p = join(t.dir, `c${Math.random()}.toml`);
  writeFileSync(p, `[log]\ntarget = "none"\n[scanning]\nstate_dir = "${join(t.dir, 'state')}"\n${scanning}\n${body}`);
  return p;
};
async function wall(n: number, cfg: string, maildir: string): Promise<{ ms: number; codes: (number | null)[] }> {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, () => runMda(['deliver', '--config', cfg, '--maildir', maildir], { input: MSG, hardTimeoutMs: 120_000 })));
  return { ms: performance.now() - t0, codes: runs.map((r) => r.code) };
}

describe('lockless scanning', () => {
  it('50 concurrent deliveries with a 1 s scanner take ~1 s more than without one, not 50 s', { timeout: 180_000 }, async () => {
    const fake = await startFakeScanner({ dialect: 'spamd', mode: 'slow', delayMs: 1000, workers: 1000 });
    const base = await wall(50, cfgFile(''), join(t.dir, 'A'));
    const scanned = await wall(50, cfgFile(`[[scanner]]\ntype = "spamd"\nhosts = ["${fake.endpoint}"]\ntimeout = "30s"\n`), join(t.dir, 'B'));
    expect(base.codes.every((c) => c === 0) && scanned.codes.every((c) => c === 0)).toBe(true);
    expect(listDir(join(t.dir, 'B', 'new'))).toHaveLength(50);
    expect(fake.connections).toBe(50);
    // Serialised scanning would add 50 s; parallel adds ~1 s plus noise on a 2-core machine.
    expect(scanned.ms - base.ms).toBeLessThan(10_000);
  });
});

describe('circuit breaker', () => {
  it('after it opens, a hung scanner costs nothing: no connection, no wait, marked circuit-open', { timeout: 60_000 }, async () => {
    const fake = await startFakeScanner({ dialect: 'clamd', mode: 'hang' });
    const cfg = cfgFile(`[[scanner]]\ntype = "clamd"\nhosts = ["${fake.endpoint}"]\ntimeout = "3s"\n`, 'breaker_failures = 2\nbreaker_cooldown = "10m"');
    const md = join(t.dir, 'M');
    for (let i = 0; i < 2; i++) {
      const r = await runMda(['deliver', '--config', cfg, '--maildir', md], { input: MSG });
      expect(r.code).toBe(0);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(3000); // paid the full budget while closed
    }
    const before = fake.connections;
    for (let i = 0; i < 3; i++) {
      const r = await runMda(['deliver', '--config', cfg, '--maildir', md], { input: MSG });
      expect(r.code).toBe(0);
      expect(r.elapsedMs).toBeLessThan(1500); // no scanner wait at all: only process start-up
    }
    const bodies = listDir(join(md, 'new')).map((f) => readFileSync(join(md, 'new', f), 'utf8'));
    expect(bodies.filter((b) => b.includes('X-MDA-Scan: clamd=skipped (circuit-open)'))).toHaveLength(3);
    expect(bodies.filter((b) => b.includes('X-MDA-Scan: clamd=skipped (timeout)'))).toHaveLength(2);
    expect(fake.connections).toBe(before);
    expect(listDir(join(md, 'new'))).toHaveLength(5);
  });

  it('one breaker per endpoint: a hung primary is left out, and the healthy fail-over host takes over', { timeout: 60_000 }, async () => {
    const hung = await startFakeScanner({ dialect: 'spamd', mode: 'hang' });
    const good = await startFakeScanner({ dialect: 'spamd', mode: 'ok-clean' });
    const cfg = cfgFile(`[[scanner]]\ntype = "spamd"\nmode = "check"\nhosts = ["${hung.endpoint}", "${good.endpoint}"]\ntimeout = "1s"\n`, 'breaker_failures = 2\nbreaker_cooldown = "10m"');
    const md = join(t.dir, 'F');
    const summaries: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await runMda(['deliver', '--config', cfg, '--maildir', md], { input: MSG.replace('Subject: s', `Subject: s${i}`) });
      expect(r.code).toBe(0);
      const file = listDir(join(md, 'new')).map((f) => readFileSync(join(md, 'new', f), 'utf8')).find((m) => m.includes(`Subject: s${i}\n`))!;
      summaries.push(/X-MDA-Scan: (.*)/.exec(file)![1]!);
    }
    // a timeout ends the host list (the budget is spent), so the primary's hang costs the first two
    expect(summaries).toEqual(['spamd=skipped (timeout)', 'spamd=skipped (timeout)', 'spamd=clean', 'spamd=clean']);
    expect(hung.connections).toBe(2);
    expect(good.connections).toBe(2);
  });
});

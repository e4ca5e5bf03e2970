/**
 * Crash consistency: SIGKILL (what Postfix sends at command_time_limit, and
 * what a power cut looks like) at random moments must never leave a partial
 * or duplicate message in new/, and every exit 0 must mean the message is there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';

const RUNS = 200;
const PARALLEL = 4;
let t: ReturnType<typeof tempDir>;
beforeAll(() => (t = tempDir()));
afterAll(() => t.cleanup());

/** Deterministic pseudo-random numbers so a failure can be replayed. */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe('SIGKILL at random moments', () => {
  it(`${RUNS} killed deliveries leave only whole messages, each at most once`, { timeout: 180_000 }, async () => {
    const md = join(t.dir, 'Maildir');
    const cfg = join(t.dir, 'mda.toml');
    writeFileSync(cfg, QUIET_CONFIG);
    const rand = rng(Number(process.env.MDA_KILL_SEED ?? 42));
    // Kill times scale with how long a delivery takes on this machine right now (a loaded CI box is slow).
    const probe = [];
    for (let i = 0; i < 3; i++) probe.push((await runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'probe')], { input: 'S: 1\n\nx\n' })).elapsedMs);
    const typical = probe.sort((a, b) => a - b)[1]!;
    const messages = new Map<string, Buffer>();
    const exits = new Map<string, number | null>();
    const jobs = Array.from({ length: RUNS }, (_, i) => {
      const id = `<kill-${i}@mda.test>`;
      // sizes from tiny to 2 MB so kills land before, during and after writing
      const body = Buffer.alloc(Math.floor(rand() ** 3 * 2_000_000) + 1, 0x61 + (i % 26));
      const msg = Buffer.concat([Buffer.from(`Message-ID: ${id}\nSubject: k${i}\n\n`), body]);
      messages.set(id, msg);
      // One in ten is left alone, so the run always has deliveries that finish; the rest die anywhere up to 3× a typical delivery.
      return { id, msg, killAfter: rand() < 0.1 ? undefined : Math.floor(rand() * typical * 3) };
    });
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const r = await runMda(['deliver', '--config', cfg, '--maildir', md], {
          input: Buffer.concat([Buffer.from('From a@b  Sat Nov 21 23:21:04 2026\n'), job.msg]),
          onSpawn: (c) => {
            if (job.killAfter !== undefined) setTimeout(() => c.kill('SIGKILL'), job.killAfter);
          },
        });
        exits.set(job.id, r.code);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    const seen = new Map<string, number>();
    for (const name of listDir(join(md, 'new'))) {
      const bytes = readFileSync(join(md, 'new', name));
      const id = /^Message-ID: (\S+)/.exec(bytes.toString('latin1'))?.[1] ?? '(none)';
      expect(messages.has(id), `unknown or truncated file ${name}`).toBe(true);
      expect(bytes.equals(messages.get(id)!), `partial message ${name}`).toBe(true);
      expect(name.endsWith(`,S=${bytes.length}`)).toBe(true);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const [id, count] of seen) expect(count, `${id} stored twice`).toBe(1);
    const ok = [...exits].filter(([, code]) => code === 0);
    for (const [id] of ok) expect(seen.get(id), `${id} exited 0 but is not stored`).toBe(1);
    // the test is only meaningful if both kinds of run happened
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThan(RUNS);
    for (const code of exits.values()) expect([0, null]).toContain(code);
  });
});

/**
 * The scanner fault catalogue through the real `mda deliver`: each misbehaving
 * peer (refused, hung, closed at once, trickling, garbage, half a reply, late,
 * unresolvable, overloaded, oversized reply, a filter that ignores SIGTERM and
 * has children) must end in the configured outcome, with the scan marked in
 * the stored headers, and mda must exit within the scanner budget plus a
 * margin — never after the peer decides to finish.
 */
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, refusedPort, startFakeScanner, type FakeDialect, type FakeMode } from '../helpers/fake-scanner.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());
afterAll(() => closeAllFakeScanners());

const BUDGET_MS = 1000;
/** Node start-up, config and commit on a loaded 2-core machine; still far below any peer's own pace here. */
const MARGIN_MS = 2500;
const MSG = 'From a@b  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b>\nDelivered-To: bob@example.test\nSubject: scan me\n\nbody\n';

function config(scanners: string, extra = ''): string {
  const path = join(t.dir, 'mda.toml');
  writeFileSync(path, `[log]\ntarget = "none"\n[scanning]\nstate_dir = "${join(t.dir, 'state')}"\n${extra}\n${scanners}`);
  return path;
}
const scanner = (type: string, hosts: string[], more = '') =>
  `[[scanner]]\ntype = "${type}"\nhosts = ${JSON.stringify(hosts)}\ntimeout = "${BUDGET_MS}ms"\n${more}\n`;
const deliver = (cfg: string, input = MSG) => runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M')], { input });
/** A process is running unless it is gone or a zombie (killed, waiting for a reaper that may be slow in containers). */
const running = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};
const stored = (folder = '') => {
  const dir = join(t.dir, 'M', folder, 'new');
  const files = listDir(dir);
  expect(files, `messages in ${dir}`).toHaveLength(1);
  return readFileSync(join(dir, files[0]!), 'utf8');
};

describe.each<FakeDialect>(['spamd', 'clamd'])('%s faults, on_failure = "deliver"', (dialect) => {
  const cases: Array<[FakeMode | 'refused' | 'unresolvable', string, Record<string, number>]> = [
    ['refused', 'refused', {}],
    ['unresolvable', 'error|timeout', {}],
    ['hang', 'timeout', {}],
    ['close', 'error', {}],
    ['reset', 'error', {}],
    ['trickle', 'timeout', { delayMs: 250 }], // a whole reply would take >= 8 s: only a total budget cuts it
    ['garbage', 'error', {}],
    ['half', 'error', {}],
    ['late', 'timeout', { delayMs: 5000 }],
    ['huge', 'error', {}],
  ];
  it.each(cases)('%s → delivered, marked skipped (%s), within the budget', async (mode, reason, opts) => {
    let host: string;
    if (mode === 'refused') host = `127.0.0.1:${await refusedPort()}`;
    else if (mode === 'unresolvable') host = 'scanner.does-not-exist.invalid:783';
    else host = (await startFakeScanner({ dialect, mode, ...opts })).endpoint;
    const r = await deliver(config(scanner(dialect, [host])));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(BUDGET_MS + MARGIN_MS);
    const msg = stored();
    expect(msg).toMatch(new RegExp(`^Return-Path: <a@b>\\nDelivered-To: bob@example.test\\nX-MDA-Scan: ${dialect}=skipped \\((${reason})\\)\\nSubject: scan me\\n\\nbody\\n$`));
    expect(listDir(join(t.dir, 'M', 'tmp'))).toEqual([]);
  });
});

describe('on_failure = "defer"', () => {
  it('a refused scanner defers with 75 and 4.3.0, nothing stored, nothing left in tmp/', async () => {
    const cfg = config(scanner('clamd', [`127.0.0.1:${await refusedPort()}`], 'on_failure = "defer"'));
    const r = await deliver(cfg);
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 content scanner unavailable.*clamd refused/);
    expect(listDir(join(t.dir, 'M', 'new'))).toEqual([]);
    expect(listDir(join(t.dir, 'M', 'tmp'))).toEqual([]);
  });
  it('a hung scanner defers within the budget', async () => {
    const fake = await startFakeScanner({ dialect: 'spamd', mode: 'hang' });
    const r = await deliver(config(scanner('spamd', [fake.endpoint], 'on_failure = "defer"')));
    expect(r.code).toBe(75);
    expect(r.elapsedMs).toBeLessThan(BUDGET_MS + MARGIN_MS);
  });
});

describe('failover and overload', () => {
  it('a refused first host fails over to the second within one budget', async () => {
    const good = await startFakeScanner({ dialect: 'spamd', mode: 'ok-clean' });
    const r = await deliver(config(scanner('spamd', [`127.0.0.1:${await refusedPort()}`, good.endpoint], 'mode = "check"')));
    expect(r.code).toBe(0);
    expect(stored()).toContain('X-MDA-Scan: spamd=clean');
    expect(good.connections).toBe(1);
  });
  it('overloaded (one worker, 12 concurrent deliveries): every delivery ends inside its budget, none bounces', { timeout: 60_000 }, async () => {
    const fake = await startFakeScanner({ dialect: 'clamd', mode: 'slow', delayMs: 400, workers: 1 });
    const cfg = config(scanner('clamd', [fake.endpoint]));
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M')], { input: MSG.replace('scan me', `n${i}`) })));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.elapsedMs).toBeLessThan(BUDGET_MS + MARGIN_MS * 2);
    }
    const files = listDir(join(t.dir, 'M', 'new')).map((f) => readFileSync(join(t.dir, 'M', 'new', f), 'utf8'));
    expect(files).toHaveLength(12);
    const scanned = files.filter((m) => m.includes('X-MDA-Scan: clamd=clean')).length;
    const skipped = files.filter((m) => m.includes('X-MDA-Scan: clamd=skipped (timeout)')).length;
    expect(scanned + skipped).toBe(12);
    expect(scanned).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0); // 12 × 400 ms of work cannot fit in a 1 s budget
  });
});

describe('verdicts route the mail', () => {
  it('spam → [spam] folder with spamd’s X-Spam-* fields after Postfix’s', async () => {
    const fake = await startFakeScanner({ dialect: 'spamd', mode: 'ok-spam' });
    const r = await deliver(config(scanner('spamd', [fake.endpoint]), '[spam]\nfolder = "Junk"'));
    expect(r.code).toBe(0);
    const m = stored('.Junk');
    expect(m).toMatch(/^Return-Path: <a@b>\nDelivered-To: bob@example.test\nX-Spam-/);
    expect(m).toContain('X-MDA-Scan: spamd=spam');
    expect(listDir(join(t.dir, 'M', 'new'))).toEqual([]);
    expect(fake.received[0]!.headers['Content-length']).toBe(String(MSG.length - 'From a@b  Sat Nov 21 23:21:04 2026\n'.length));
    expect(fake.received[0]!.halfClosed).toBe(true);
  });
  it('virus → Quarantine with X-Virus-Status', async () => {
    const fake = await startFakeScanner({ dialect: 'clamd', mode: 'ok-infected', signature: 'Test.Sig.UNOFFICIAL' });
    expect((await deliver(config(scanner('clamd', [fake.endpoint])))).code).toBe(0);
    expect(stored('.Quarantine')).toContain('X-Virus-Status: Infected (Test.Sig.UNOFFICIAL)');
  });
  it('virus with action = "discard": exit 0, nothing stored, nothing sent', async () => {
    const fake = await startFakeScanner({ dialect: 'clamd', mode: 'ok-infected' });
    const r = await deliver(config(scanner('clamd', [fake.endpoint]), '[virus]\naction = "discard"'));
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    expect(listDir(join(t.dir, 'M', 'new'))).toEqual([]);
    expect(listDir(join(t.dir, 'M', 'tmp'))).toEqual([]);
  });
});

describe('filter commands', () => {
  it('a filter that ignores SIGTERM and has children is killed with its group at the budget', async () => {
    const script = join(t.dir, 'stubborn.sh');
    const pids = join(t.dir, 'pids');
    writeFileSync(script, `#!/bin/sh\ntrap '' TERM\nsleep 1000 & echo $! >> ${pids}\nsleep 1000 & echo $! >> ${pids}\necho $$ >> ${pids}\ncat > /dev/null\nsleep 1000\n`);
    chmodSync(script, 0o755);
    const cfg = config(`[[scanner]]\ntype = "filter"\ncommand = ["${script}"]\ntimeout = "${BUDGET_MS}ms"\n`);
    const r = await deliver(cfg);
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(BUDGET_MS + MARGIN_MS);
    expect(stored()).toContain('X-MDA-Scan: filter=skipped (timeout)');
    await new Promise((res) => setTimeout(res, 200));
    for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
      expect(running(pid), `filter process ${pid} still running`).toBe(false);
    }
  });
  it('a rewriting filter replaces the message, mda’s fields go after Postfix’s', async () => {
    const script = join(t.dir, 'tag.sh');
    writeFileSync(script, '#!/bin/sh\nsed "s/^Subject: /Subject: [tagged] /"\n');
    chmodSync(script, 0o755);
    const r = await deliver(config(`[[scanner]]\ntype = "filter"\ncommand = ["${script}"]\n`));
    expect(r.code).toBe(0);
    expect(stored()).toBe('Return-Path: <a@b>\nDelivered-To: bob@example.test\nX-MDA-Scan: filter=clean\nSubject: [tagged] scan me\n\nbody\n');
  });
});

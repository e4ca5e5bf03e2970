/**
 * Logging that cannot work must not slow or fail a delivery: a missing syslog
 * socket, a log file on a full tmpfs or a read-only one, a log path that is a
 * directory, under a file, or a FIFO nobody reads. Each is timed side by side
 * with `target = "none"`. And an error repeated thousands of times writes a
 * bounded number of lines: 20 per process, and a dead scanner's failures at
 * most once a minute across all processes (plus the races documented below).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { refusedPort } from '../helpers/fake-scanner.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';
import { fillSpace, mountTmpfs, probeTmpfs, remount, unmount, warnSkipped } from './mounts.js';

const FILE = 'test/hostile/logging-broken.test.ts';
const probeDir = mkdtempSync(join(tmpdir(), 'mda-probe-'));
const mountSkip = probeTmpfs(probeDir);
rmSync(probeDir, { recursive: true, force: true });
if (mountSkip) warnSkipped(`${FILE} (the full and read-only tmpfs cases)`, mountSkip);
const SYSLOG_PRESENT = existsSync('/dev/log');
if (SYSLOG_PRESENT) console.warn(`\n*** ${FILE}: /dev/log exists here, so the "missing syslog socket" case measures a live syslog instead ***\n`);

const ROUNDS = 10;
const MSG = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@sender.test>\nMessage-ID: <log@x>\n\nhi\n';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-hostile-')));
afterEach(() => t.cleanup());

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function config(name: string, body: string): string {
  const path = join(t.dir, `${name}.toml`);
  writeFileSync(path, body);
  return path;
}

/**
 * ROUNDS deliveries with the broken target and ROUNDS with target = "none",
 * alternating so both see the same machine load. All must deliver; the broken
 * median must stay within 2x + 50 ms of the quiet one.
 */
async function sideBySide(target: string): Promise<{ broken: number; none: number }> {
  const broken = config('broken', `[log]\ntarget = ${JSON.stringify(target)}\n`);
  const none = config('none', '[log]\ntarget = "none"\n');
  const times = { broken: [] as number[], none: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const [kind, cfg] of [['broken', broken], ['none', none]] as const) {
      const r = await runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, `M-${kind}`)], { input: MSG, hardTimeoutMs: 15_000 });
      expect(r.code, `${kind}: ${r.output}`).toBe(0);
      expect(r.output).toBe('');
      times[kind].push(r.elapsedMs);
    }
  }
  expect(listDir(join(t.dir, 'M-broken', 'new'))).toHaveLength(ROUNDS);
  const result = { broken: median(times.broken), none: median(times.none) };
  expect(result.broken, `median ${result.broken.toFixed(0)} ms vs ${result.none.toFixed(0)} ms with target = "none"`).toBeLessThanOrEqual(2 * result.none + 50);
  return result;
}

describe('broken logging never slows or fails a delivery (median of 10, side by side with target = "none")', () => {
  it(`syslog with ${SYSLOG_PRESENT ? 'a live /dev/log' : 'no /dev/log socket'}`, { timeout: 120_000 }, async () => {
    await sideBySide('syslog');
  });

  it('file: the path is a directory (EISDIR)', { timeout: 120_000 }, async () => {
    mkdirSync(join(t.dir, 'log-dir'));
    await sideBySide(`file:${join(t.dir, 'log-dir')}`);
  });

  it('file: a path under a regular file (ENOTDIR)', { timeout: 120_000 }, async () => {
    writeFileSync(join(t.dir, 'plain'), '');
    await sideBySide(`file:${join(t.dir, 'plain', 'mda.log')}`);
  });

  it('file: a FIFO nobody reads (a dead log shipper) does not block the open forever', { timeout: 120_000 }, async () => {
    execFileSync('mkfifo', [join(t.dir, 'log.fifo')]);
    await sideBySide(`file:${join(t.dir, 'log.fifo')}`);
  });

  describe.skipIf(mountSkip !== null)('on a real tmpfs', () => {
    let fsDir: string;
    beforeEach(() => {
      fsDir = join(t.dir, 'logfs');
      mountTmpfs(fsDir, '256k', 32);
    });
    afterEach(() => unmount(fsDir));

    it('file: the log filesystem is full (ENOSPC on every write)', { timeout: 120_000 }, async () => {
      const log = join(fsDir, 'mda.log');
      writeFileSync(log, '');
      fillSpace(join(fsDir, 'filler'));
      await sideBySide(`file:${log}`);
      expect(statSync(log).size).toBe(0); // every write really failed
    });

    it('file: the log filesystem is read-only (EROFS at open)', { timeout: 120_000 }, async () => {
      remount(fsDir, 'ro');
      await sideBySide(`file:${join(fsDir, 'mda.log')}`);
    });
  });

  // Not covered: a log file on a filesystem that hangs (fsfreeze, a dead NFS
  // server). A write stuck in libuv's thread pool keeps process.exit() from
  // returning after the delivery, and the stuck thread is not even killable
  // under fsfreeze; only an asynchronous, bounded log open/write could help.
  it.todo('file: a log filesystem that hangs (fsfreeze) must not hold the exit');
});

describe('an error repeated many times writes a bounded number of lines', () => {
  it('one process: 10,000 warnings write at most 20 lines (the per-process cap)', async () => {
    const log = join(t.dir, 'cap.log');
    const logger = createLogger({ kind: 'file', path: log });
    for (let i = 0; i < 10_000; i++) logger.warn(`scanner spamd 127.0.0.1:1: refused: attempt ${i}`);
    await logger.flush();
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(20);
    expect(logger.dropped).toBe(10_000 - 20);
  });

  describe('many processes: a refused scanner, its breaker kept closed', () => {
    const RUNS = 200;
    const PARALLEL = 4;
    let dir: ReturnType<typeof tempDir>;
    beforeAll(() => (dir = tempDir('mda-hostile-breaker-')));
    afterAll(() => dir.cleanup());

    it(`${RUNS} deliveries (parallel ${PARALLEL}) each fail to reach spamd; its failure is logged at most ${PARALLEL} times per minute`, { timeout: 300_000 }, async () => {
      const log = join(dir.dir, 'mda.log');
      const cfg = join(dir.dir, 'mda.toml');
      const port = await refusedPort();
      writeFileSync(cfg, [
        '[log]', `target = "file:${log}"`,
        '[scanning]', `state_dir = "${join(dir.dir, 'state')}"`, 'breaker_failures = 1000000', // never opens: every delivery tries, and fails
        '[[scanner]]', 'type = "spamd"', 'name = "spamd-dead"', `hosts = ["127.0.0.1:${port}"]`, 'timeout = "2s"', 'on_failure = "deliver"', '',
      ].join('\n'));
      const started = performance.now();
      let next = 0;
      const codes: (number | null)[] = [];
      await Promise.all(Array.from({ length: PARALLEL }, async () => {
        while (next < RUNS) {
          next++;
          const r = await runMda(['deliver', '--config', cfg, '--maildir', join(dir.dir, 'M')], { input: MSG, hardTimeoutMs: 30_000 });
          codes.push(r.code);
        }
      }));
      const minutes = Math.ceil((performance.now() - started) / 60_000);
      expect(codes.every((c) => c === 0)).toBe(true);
      const stored = listDir(join(dir.dir, 'M', 'new'));
      expect(stored).toHaveLength(RUNS);
      expect(readFileSync(join(dir.dir, 'M', 'new', stored[0]!), 'utf8')).toMatch(/X-MDA-Scan: spamd-dead=skipped \(refused\)/);

      const lines = readFileSync(log, 'utf8').trim().split('\n');
      const deliveries = lines.filter((l) => / status=delivered /.test(l));
      const failures = lines.filter((l) => l.includes('spamd-dead'));
      // One line per delivery, and nothing else but the rate-limited failure line.
      expect(deliveries).toHaveLength(RUNS);
      expect(lines.length).toBe(RUNS + failures.length);
      // The bound: one line per minute across processes (the breaker file's
      // lastLogMs), plus the deliveries that read that file before the logging one
      // wrote it back: at most PARALLEL - 1 more, per minute window.
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures.length).toBeLessThanOrEqual(PARALLEL * (minutes + 1));
      console.log(`logging-broken: ${RUNS} refused scans in ${minutes} min wrote ${failures.length} failure line(s)`);
    });
  });
});

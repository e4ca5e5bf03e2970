/**
 * SpamdClient and ClamdClient against the real spamd and clamd that
 * scripts/realstack/up.sh starts on loopback (REALSTACK_SERVICES="spamd clamd",
 * own REALSTACK_DIR and free ports; clamd with StreamMaxLength 1M): GTUBE,
 * ham, EICAR, clean mail, a stream over clamd's limit (never clean), a real
 * timeout, PING, over TCP and unix sockets.
 *
 * Needs spamd and clamd (spamassassin spamd spamc clamav-daemon;
 * scripts/install-test-deps.sh); root is not needed for these two. Skipped with
 * a warning when they are missing, except in CI (CI=true) or with
 * MDA_E2E_REQUIRED=1, where that fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScannerConfig } from '../../src/config/schema.js';
import { ClamdClient } from '../../src/scanners/clamd/client.js';
import { SpamdClient } from '../../src/scanners/spamd/client.js';
import type { Verdict } from '../../src/scanners/types.js';
import { freePort, realstackSkipReason, runDir, scannerEndpoints, startRealstack, stopRealstack, type ScannerEndpoints } from '../helpers/realstack.js';
import { createNameSource } from '../../src/maildir/name-source.js';

const skipReason = realstackSkipReason(['spamd', 'clamd']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) {
  console.warn(`\n*** SKIPPED test/e2e/scanners-real.test.ts: ${skipReason} ***\n`);
}

// The test strings are assembled here so that no file in the repo holds them in one piece.
const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*', 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
const BUDGET = 10_000;
const STREAM_MAX = 1024 * 1024; // REALSTACK_CLAMD_STREAM_MAX=1M

let stackDir = '';
let ep: ScannerEndpoints;
let dir = '';
const files: Record<string, { path: string; size: number }> = {};

const headOf = (name: string, subject: string) =>
  `From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <${name}@sender.test>\r\n\r\n`;

function mail(name: string, subject: string, body: string | Buffer): void {
  const bytes = Buffer.concat([Buffer.from(headOf(name, subject)), Buffer.from(body)]);
  files[name] = { path: join(dir, `${name}.eml`), size: bytes.length };
  writeFileSync(files[name].path, bytes);
}

function cfg(type: 'spamd' | 'clamd', hosts: string[], more: Partial<ScannerConfig> = {}): ScannerConfig {
  return { type, name: type, hosts, order: 'ordered', command: [], filterMode: 'verdict', spamdMode: 'check', timeoutMs: BUDGET, maxSize: 25 * 1024 * 1024, onFailure: 'deliver', ...more };
}

async function scan(client: SpamdClient | ClamdClient, name: string, budget = BUDGET): Promise<Verdict & { wall: number }> {
  const f = files[name]!;
  const t0 = performance.now();
  const v = await client.scan({ path: f.path, size: f.size, user: 'mdatest', home: '/home/mdatest', sender: 'alice@sender.test', recipient: 'mdatest@example.test', signal: AbortSignal.timeout(budget), workDir: dir, names: createNameSource() });
  return { ...v, wall: performance.now() - t0 };
}

describe.skipIf(skipReason !== null && !required)('real spamd 4 and clamd 1.4 (scripts/realstack/up.sh)', () => {
  beforeAll(async () => {
    if (skipReason) throw new Error(`required here (CI=true or MDA_E2E_REQUIRED=1): ${skipReason}`);
    dir = mkdtempSync(join(tmpdir(), 'mda-scanners-real-'));
    stackDir = runDir('/tmp/mda-e2e-scanners');
    const stack = startRealstack({
      dir: stackDir,
      smtpPort: await freePort(), // unused: no Postfix here
      spamdPort: await freePort(),
      clamdPort: await freePort(),
      services: ['spamd', 'clamd'],
      env: { REALSTACK_CLAMD_STREAM_MAX: '1M' },
    });
    ep = scannerEndpoints(stack);
    mail('gtube', 'gtube', `This is the GTUBE test.\r\n\r\n${GTUBE}\r\n`);
    mail('ham', 'lunch', 'Shall we have lunch on Tuesday at noon?\r\nBob\r\n');
    mail('eicar', 'eicar', `Please find the test file below.\r\n\r\n${EICAR}\r\n`);
    mail('over', 'big', Buffer.alloc(2 * STREAM_MAX, 'a'));
    mail('exact', 'exact', Buffer.alloc(STREAM_MAX - headOf('exact', 'exact').length, 'b')); // exactly StreamMaxLength bytes
    const big = Buffer.from(Array.from({ length: 400_000 }, (_, i) => `word${(i * 7919) % 100_003}`).join(' '));
    mail('large', 'large', big);
  });

  afterAll(() => {
    if (stackDir) stopRealstack(stackDir, { purge: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('spamd CHECK: GTUBE is spam with a score of at least 1000; ham is clean', async () => {
    for (const host of [ep.spamdTcp, ep.spamdSocket]) {
      const client = new SpamdClient(cfg('spamd', [host]));
      const spam = await scan(client, 'gtube');
      expect(spam).toMatchObject({ status: 'spam', endpoint: host, threshold: 5 });
      expect(spam.score).toBeGreaterThanOrEqual(1000);
      expect(spam.detail).toMatch(/^score 10\d\d\.\d\/5\.0$/);
      const ham = await scan(client, 'ham');
      expect(ham).toMatchObject({ status: 'clean', endpoint: host });
      expect(ham.score).toBeLessThan(5);
    }
  });

  it('spamd HEADERS: X-Spam-Flag: YES and X-Spam-Status lines, unfolded', async () => {
    const client = new SpamdClient(cfg('spamd', [ep.spamdTcp], { spamdMode: 'headers' }));
    const spam = await scan(client, 'gtube');
    expect(spam.status).toBe('spam');
    expect(spam.spamHeaders).toContain('X-Spam-Flag: YES');
    expect(spam.spamHeaders?.find((h) => h.startsWith('X-Spam-Status: '))).toMatch(/^X-Spam-Status: Yes, score=10\d\d\.\d required=5\.0 tests=.*GTUBE/);
    expect(spam.spamHeaders!.every((h) => /^X-Spam-[\w-]+:/.test(h) && !/[\r\n]/.test(h))).toBe(true);
    expect(spam.tests).toContain('GTUBE');
    const ham = await scan(client, 'ham');
    expect(ham.status).toBe('clean');
    expect(ham.spamHeaders?.find((h) => h.startsWith('X-Spam-Status: '))).toMatch(/^X-Spam-Status: No, /);
    expect(ham.spamHeaders?.some((h) => h.startsWith('X-Spam-Flag'))).toBe(false);
  });

  it('spamd: a budget shorter than the scan is a timeout at the budget', async () => {
    const v = await scan(new SpamdClient(cfg('spamd', [ep.spamdTcp])), 'large', 150);
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout' });
    expect(v.wall).toBeLessThan(150 + 150);
  });

  it('clamd: EICAR is infected with a .UNOFFICIAL signature; clean mail is OK', async () => {
    for (const host of [ep.clamdTcp, ep.clamdSocket]) {
      const client = new ClamdClient(cfg('clamd', [host]));
      const bad = await scan(client, 'eicar');
      expect(bad).toMatchObject({ status: 'infected', endpoint: host });
      expect(bad.signature).toMatch(/\.UNOFFICIAL$/);
      expect(bad.detail).toBe(`${bad.signature} FOUND`);
      expect(await scan(client, 'ham')).toMatchObject({ status: 'clean', detail: 'OK', endpoint: host });
    }
  });

  it('clamd: exactly StreamMaxLength bytes are scanned', async () => {
    expect(files.exact!.size).toBe(STREAM_MAX);
    expect(await scan(new ClamdClient(cfg('clamd', [ep.clamdTcp], { maxSize: STREAM_MAX })), 'exact')).toMatchObject({ status: 'clean' });
  });

  it('clamd: a stream over its StreamMaxLength is never clean', async () => {
    // max_size above clamd's limit (misconfigured): clamd refuses the stream
    // (size-limit ERROR or EPIPE/reset while writing): skipped error, every time.
    const loose = new ClamdClient(cfg('clamd', [ep.clamdTcp], { maxSize: 10 * STREAM_MAX }));
    for (let i = 0; i < 5; i++) {
      const v = await scan(loose, 'over');
      expect(v).toMatchObject({ status: 'skipped', skip: 'error' });
      expect(v.detail).toMatch(/size limit exceeded|clamd ended the stream early|closed without a reply/);
    }
    // max_size = StreamMaxLength (as documented): too-large, clamd is never asked
    const right = new ClamdClient(cfg('clamd', [ep.clamdTcp], { maxSize: STREAM_MAX }));
    expect(await scan(right, 'over')).toMatchObject({ status: 'skipped', skip: 'too-large' });
  });

  it('ping: PONG from spamd and clamd over TCP and unix sockets', async () => {
    await expect(new SpamdClient(cfg('spamd', [ep.spamdTcp, ep.spamdSocket])).ping(AbortSignal.timeout(BUDGET))).resolves.toMatch(/^spamd: .* PONG \(\d+ ms\); .* PONG \(\d+ ms\)$/);
    await expect(new ClamdClient(cfg('clamd', [ep.clamdTcp, ep.clamdSocket])).ping(AbortSignal.timeout(BUDGET))).resolves.toMatch(/^clamd: .* PONG \(\d+ ms\); .* PONG \(\d+ ms\)$/);
  });
});

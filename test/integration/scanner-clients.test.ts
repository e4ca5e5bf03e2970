/**
 * SpamdClient and ClamdClient against the fake scanner (test/helpers/fake-scanner.ts):
 * every fault mode, each asserting the verdict AND that the scan ended within
 * its budget (connect + write + read together; a trickling peer is cut off at
 * the budget, not per read), failover across hosts, too-large without a
 * connection, and what reached the server (Content-length, framing, half-close).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScannerConfig } from '../../src/config/schema.js';
import { ClamdClient } from '../../src/scanners/clamd/client.js';
import { SpamdClient } from '../../src/scanners/spamd/client.js';
import type { ScannerClient, Verdict } from '../../src/scanners/types.js';
import { closeAllFakeScanners, refusedPort, startFakeScanner, type FakeDialect, type FakeScannerOptions } from '../helpers/fake-scanner.js';
import { createNameSource } from '../../src/maildir/name-source.js';

const BUDGET = 500;
const MARGIN = 150; // event-loop and CI slack on top of the budget

let dir = '';
let msg = { path: '', size: 0 };
let big = { path: '', size: 0 };
let bytes = Buffer.alloc(0);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mda-scanners-'));
  bytes = Buffer.from('From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: hello\r\n\r\nHello Bob.\r\n'.repeat(40));
  msg = { path: join(dir, 'msg.eml'), size: bytes.length };
  writeFileSync(msg.path, bytes);
  const b = Buffer.alloc(3 * 1024 * 1024 + 17, 'y');
  big = { path: join(dir, 'big.eml'), size: b.length };
  writeFileSync(big.path, b);
});
afterAll(async () => {
  await closeAllFakeScanners();
  rmSync(dir, { recursive: true, force: true });
});

function config(type: FakeDialect, hosts: string[], more: Partial<ScannerConfig> = {}): ScannerConfig {
  const base: ScannerConfig = { type, name: type, hosts, order: 'ordered', command: [], filterMode: 'verdict', spamdMode: 'check', timeoutMs: BUDGET, maxSize: 10 * 1024 * 1024, onFailure: 'deliver' };
  return { ...base, ...more };
}
const client = (type: FakeDialect, hosts: string[], more: Partial<ScannerConfig> = {}): ScannerClient =>
  type === 'spamd' ? new SpamdClient(config(type, hosts, more)) : new ClamdClient(config(type, hosts, more));

async function scan(c: ScannerClient, m = msg, budget = BUDGET, signal = AbortSignal.timeout(budget)): Promise<Verdict & { wall: number }> {
  const t0 = performance.now();
  const v = await c.scan({ path: m.path, size: m.size, user: 'bob', home: '/home/bob', sender: 'alice@sender.test', recipient: 'bob@example.test', signal, workDir: dir, names: createNameSource() });
  return { ...v, wall: performance.now() - t0 };
}
const fake = (dialect: FakeDialect, mode: FakeScannerOptions['mode'], more: Partial<FakeScannerOptions> = {}) => startFakeScanner({ dialect, mode, ...more });
const positive = { spamd: 'spam', clamd: 'infected' } as const;

describe.each(['spamd', 'clamd'] as const)('%s client against the fault catalogue', (type) => {
  it('ok-clean: clean, well within the budget', async () => {
    const f = await fake(type, 'ok-clean');
    const v = await scan(client(type, [f.endpoint]));
    expect(v).toMatchObject({ scanner: type, type, endpoint: f.endpoint, status: 'clean', detail: type === 'spamd' ? 'score 1.2/5.0' : 'OK' });
    expect(v.skip).toBeUndefined();
    expect(v.wall).toBeLessThan(BUDGET);
    expect(v.elapsedMs).toBeLessThan(BUDGET);
  });

  it(`ok-${type === 'spamd' ? 'spam' : 'infected'}: the positive verdict`, async () => {
    const f = await fake(type, type === 'spamd' ? 'ok-spam' : 'ok-infected');
    const v = await scan(client(type, [f.endpoint]));
    expect(v.status).toBe(positive[type]);
    if (type === 'spamd') expect(v).toMatchObject({ score: 1005.2, threshold: 5, detail: 'score 1005.2/5.0' });
    else expect(v).toMatchObject({ signature: 'Fake.Test.Signature.UNOFFICIAL', detail: 'Fake.Test.Signature.UNOFFICIAL FOUND' });
  });

  it.each([
    ['hang', {}, /^timeout while reading after \d+ ms$/],
    ['trickle', { delayMs: 100 }, /^timeout while reading after \d+ ms$/],
    ['late', { delayMs: 1_500 }, /^timeout while reading after \d+ ms$/],
  ] as const)('%s: timeout, cut off at the budget', async (mode, more, detail) => {
    const f = await fake(type, mode, more);
    const v = await scan(client(type, [f.endpoint]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout', endpoint: f.endpoint });
    expect(v.detail).toMatch(detail);
    expect(v.wall).toBeGreaterThanOrEqual(BUDGET - 10);
    expect(v.wall).toBeLessThan(BUDGET + MARGIN);
    if (mode === 'trickle') expect(f.received[0]!.complete).toBe(true); // it was answering, byte by byte
  });

  it.each([
    ['close', /closed without a reply|EPIPE|ECONNRESET/],
    ['garbage', new RegExp(`not a ${type} reply: "HTTP/1.1 400 Bad Request`)],
    ['half', type === 'spamd' ? /bad header line|no Spam: line|cut off/ : /not a clamd reply/],
    ['huge', /reply longer than \d+ bytes/],
    ['reset', /ECONNRESET/],
  ] as const)('%s: skipped error, quickly', async (mode, detail) => {
    const f = await fake(type, mode);
    const v = await scan(client(type, [f.endpoint]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'error', endpoint: f.endpoint });
    expect(v.detail).toMatch(detail);
    expect(v.detail).not.toMatch(/[\r\n]/);
    expect(v.wall).toBeLessThan(BUDGET);
    expect(f.connections).toBe(1);
  });

  it('late but within the budget: answered', async () => {
    const f = await fake(type, 'late', { delayMs: 200 });
    const v = await scan(client(type, [f.endpoint]));
    expect(v.status).toBe('clean');
    expect(v.wall).toBeGreaterThanOrEqual(190);
    expect(v.wall).toBeLessThan(BUDGET);
  });

  it('slow with one worker (overloaded): the queued scan times out at its budget', async () => {
    const f = await fake(type, 'slow', { delayMs: 300, workers: 1 });
    const c = client(type, [f.endpoint]);
    const [a, b] = await Promise.all([scan(c), scan(c)]);
    const verdicts = [a, b].sort((x, y) => x.wall - y.wall);
    expect(verdicts[0]).toMatchObject({ status: 'clean' });
    expect(verdicts[1]).toMatchObject({ status: 'skipped', skip: 'timeout' });
    expect(verdicts[1]!.wall).toBeLessThan(BUDGET + MARGIN);
    expect(f.connections).toBe(2);
  });

  it('refused port: skipped refused', async () => {
    const port = await refusedPort();
    const v = await scan(client(type, [`127.0.0.1:${port}`]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'refused', endpoint: `127.0.0.1:${port}`, detail: 'connection refused (ECONNREFUSED)' });
  });

  it('unix socket: scans; a missing socket is refused', async () => {
    const f = await fake(type, 'ok-clean', { socketPath: join(dir, `${type}.sock`) });
    expect(await scan(client(type, [f.socketPath!]))).toMatchObject({ status: 'clean', endpoint: f.socketPath });
    const gone = join(dir, 'nothing.sock');
    expect(await scan(client(type, [gone]))).toMatchObject({ status: 'skipped', skip: 'refused', endpoint: gone, detail: 'connection refused (ENOENT)' });
  });

  it('localhost is resolved without DNS', async () => {
    const f = await fake(type, 'ok-clean');
    expect(await scan(client(type, [`localhost:${f.port}`]))).toMatchObject({ status: 'clean', endpoint: `localhost:${f.port}` });
  });

  it('a name DNS cannot resolve ends within the budget', async () => {
    const v = await scan(client(type, ['no-such-host.invalid:783']));
    expect(v.status).toBe('skipped');
    expect(['error', 'timeout']).toContain(v.skip);
    expect(v.wall).toBeLessThan(BUDGET + MARGIN);
  });

  it('failover: refused, then garbage, then an answer from the third host', async () => {
    const port = await refusedPort();
    const bad = await fake(type, 'garbage');
    const good = await fake(type, 'ok-clean');
    const v = await scan(client(type, [`127.0.0.1:${port}`, bad.endpoint, good.endpoint]));
    expect(v).toMatchObject({ status: 'clean', endpoint: good.endpoint });
    expect([bad.connections, good.connections]).toEqual([1, 1]);
  });

  it('failover: when every host fails, the verdict names the last one and lists all', async () => {
    const p1 = await refusedPort();
    const bad = await fake(type, 'reset');
    const v = await scan(client(type, [`127.0.0.1:${p1}`, bad.endpoint]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'error', endpoint: bad.endpoint });
    expect(v.detail).toMatch(new RegExp(`^127\\.0\\.0\\.1:${p1}: connection refused \\(ECONNREFUSED\\); ${bad.endpoint}: ECONNRESET`));
  });

  it('failover shares one budget: a hanging first host leaves nothing for the second', async () => {
    const hang = await fake(type, 'hang');
    const good = await fake(type, 'ok-clean');
    const v = await scan(client(type, [hang.endpoint, good.endpoint]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout', endpoint: hang.endpoint });
    expect(v.wall).toBeLessThan(BUDGET + MARGIN);
    expect(good.connections).toBe(0);
  });

  it('shuffle spreads scans over the hosts', async () => {
    const a = await fake(type, 'ok-clean');
    const b = await fake(type, 'ok-clean');
    const c = client(type, [a.endpoint, b.endpoint], { order: 'shuffle' });
    for (let i = 0; i < 24; i++) expect((await scan(c)).status).toBe('clean');
    expect(a.connections + b.connections).toBe(24);
    expect(a.connections).toBeGreaterThan(0);
    expect(b.connections).toBeGreaterThan(0);
  });

  it('too large: skipped without connecting', async () => {
    const f = await fake(type, 'ok-clean');
    const v = await scan(client(type, [f.endpoint], { maxSize: msg.size - 1 }));
    expect(v).toMatchObject({ status: 'skipped', skip: 'too-large', detail: `message ${msg.size} bytes > max_size ${msg.size - 1}` });
    expect(f.connections).toBe(0);
  });

  it('an already expired budget: timeout without connecting', async () => {
    const f = await fake(type, 'ok-clean');
    const v = await scan(client(type, [f.endpoint]), msg, BUDGET, AbortSignal.abort());
    expect(v).toMatchObject({ status: 'skipped', skip: 'timeout' });
    expect(f.connections).toBe(0);
  });

  it('streams a 3 MB message with backpressure', async () => {
    const f = await fake(type, 'ok-clean');
    const v = await scan(client(type, [f.endpoint]), big, 5_000);
    expect(v.status).toBe('clean');
    expect(f.received[0]!.body.length).toBe(big.size);
  });

  it('ping: PONG from every host; rejects when one does not answer', async () => {
    const f = await fake(type, 'ok-clean');
    await expect(client(type, [f.endpoint]).ping(AbortSignal.timeout(BUDGET))).resolves.toMatch(new RegExp(`^${type}: ${f.endpoint} PONG \\(\\d+ ms\\)$`));
    const port = await refusedPort();
    await expect(client(type, [f.endpoint, `127.0.0.1:${port}`]).ping(AbortSignal.timeout(BUDGET))).rejects.toThrow(/PONG.*; 127\.0\.0\.1:\d+ refused/);
    const hang = await fake(type, 'hang');
    const t0 = performance.now();
    await expect(client(type, [hang.endpoint]).ping(AbortSignal.timeout(BUDGET))).rejects.toThrow(/timeout/);
    expect(performance.now() - t0).toBeLessThan(BUDGET + MARGIN);
  });
});

describe('what reaches spamd', () => {
  it('CHECK with Content-length, User, the exact body, then a half-close', async () => {
    const f = await fake('spamd', 'ok-clean');
    await scan(client('spamd', [f.endpoint]));
    const r = f.received[0]!;
    expect(r.command).toBe('CHECK');
    expect(r.headers).toEqual({ 'Content-length': String(msg.size), User: 'bob' });
    expect(r.body.equals(bytes)).toBe(true);
    expect(r.halfClosed).toBe(true);
    expect(r.bytes.subarray(0, 16).toString()).toBe('CHECK SPAMC/1.5\r');
  });

  it('HEADERS mode returns the X-Spam-* fields unfolded and the rule names', async () => {
    const f = await fake('spamd', 'ok-spam');
    const v = await scan(client('spamd', [f.endpoint], { spamdMode: 'headers', spamdUser: 'filter' }));
    expect(f.received[0]!.command).toBe('HEADERS');
    expect(f.received[0]!.headers.User).toBe('filter');
    expect(v).toMatchObject({ status: 'spam', tests: ['FAKE_RULE', 'NO_RELAYS'] });
    expect(v.spamHeaders).toEqual([
      'X-Spam-Checker-Version: SpamAssassin 4.0.1 (fake)',
      'X-Spam-Flag: YES',
      'X-Spam-Status: Yes, score=1005.2 required=5.0 tests=FAKE_RULE,\tNO_RELAYS autolearn=disabled version=4.0.1',
    ]);
  });

  it('a user name spamd would mangle is not sent', async () => {
    const f = await fake('spamd', 'ok-clean');
    await scan(client('spamd', [f.endpoint], { spamdUser: 'bob smith' }));
    expect(f.received[0]!.headers).toEqual({ 'Content-length': String(msg.size) });
  });

  it('TIME_LIMIT_EXCEEDED: the score counts, marked (partial)', async () => {
    const block = 'X-Spam-Status: No, score=2.7 required=5.0 tests=NO_RELAYS,\r\n\tTIME_LIMIT_EXCEEDED autolearn=unavailable\r\n\r\n';
    const f = await fake('spamd', 'ok-clean', { reply: () => `SPAMD/1.1 0 EX_OK\r\nContent-length: ${block.length}\r\nSpam: False ; 2.7 / 5.0\r\n\r\n${block}` });
    const v = await scan(client('spamd', [f.endpoint], { spamdMode: 'headers' }));
    expect(v).toMatchObject({ status: 'clean', score: 2.7, detail: 'score 2.7/5.0 (partial)' });
  });

  it('an error code (76 Bad header line) is skipped error and fails over', async () => {
    const bad = await fake('spamd', 'ok-clean', { reply: () => 'SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 9 bytes, got 3 bytes)\r\n' });
    const good = await fake('spamd', 'ok-spam');
    const v = await scan(client('spamd', [bad.endpoint]));
    expect(v).toMatchObject({ status: 'skipped', skip: 'error', detail: 'spamd error 76 Bad header line: (Content-Length mismatch: Expected 9 bytes, got 3 bytes)' });
    expect(await scan(client('spamd', [bad.endpoint, good.endpoint]))).toMatchObject({ status: 'spam', endpoint: good.endpoint });
  });
});

describe('what reaches clamd', () => {
  it('zINSTREAM, the message in 64 KiB frames, the zero-length end, then a half-close', async () => {
    const f = await fake('clamd', 'ok-clean');
    await scan(client('clamd', [f.endpoint]), big, 5_000);
    const r = f.received[0]!;
    expect(r.bytes.subarray(0, 10).toString('latin1')).toBe('zINSTREAM\0');
    expect(r.complete).toBe(true);
    expect(r.chunks).toBe(Math.ceil(big.size / 65536));
    expect(r.body.length).toBe(big.size);
    expect(r.bytes.subarray(-4)).toEqual(Buffer.alloc(4));
    expect(r.halfClosed).toBe(true);
  });

  it('`... ERROR` is skipped error, never clean', async () => {
    const f = await fake('clamd', 'ok-clean', { reply: () => 'INSTREAM size limit exceeded. ERROR\0' });
    expect(await scan(client('clamd', [f.endpoint]))).toMatchObject({ status: 'skipped', skip: 'error', detail: 'clamd: "INSTREAM size limit exceeded. ERROR"' });
  });

  it('a file that grew past max_size is cut off while streaming: too-large', async () => {
    const f = await fake('clamd', 'hang');
    const v = await scan(client('clamd', [f.endpoint], { maxSize: 1024 * 1024 }), { path: big.path, size: 1000 }, 5_000);
    expect(v).toMatchObject({ status: 'skipped', skip: 'too-large', detail: 'message grew past max_size 1048576 while streaming' });
    expect(f.received[0]!.body.length).toBeLessThanOrEqual(1024 * 1024);
  });
});

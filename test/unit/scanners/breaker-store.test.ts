/**
 * The breaker stores apart from the filesystem: the in-memory store a server
 * keeps (one instance per server, shared by its sessions, nothing on disk),
 * and the trust rules (breaker-trust.ts) that decide which on-disk state a
 * uid's delivery may believe, as tables.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type ScannerConfig } from '../../../src/config/schema.js';
import { Deadline } from '../../../src/deadline/deadline.js';
import { createLogger } from '../../../src/log/logger.js';
import { CLOSED } from '../../../src/scanners/breaker.js';
import { MemoryBreakerStore } from '../../../src/scanners/breaker-store.js';
import { breakerDirName, ownStateTrusted, sharedDirTrusted } from '../../../src/scanners/breaker-trust.js';
import { runScanners } from '../../../src/scanners/run-scanners.js';
import type { ScannerClient, Verdict } from '../../../src/scanners/types.js';

describe('MemoryBreakerStore', () => {
  it('reads closed for an unknown key, returns what was written, and keeps keys apart', async () => {
    const m = new MemoryBreakerStore();
    expect(await m.read('spamd a')).toEqual(CLOSED);
    await m.write('spamd a', { failures: 3, openUntilMs: 99, lastLogMs: 7 });
    expect(await m.read('spamd a')).toEqual({ failures: 3, openUntilMs: 99, lastLogMs: 7 });
    expect(await m.read('spamd b')).toEqual(CLOSED);
  });

  it('hands out copies: changing a read state or a written object changes nothing stored', async () => {
    const m = new MemoryBreakerStore();
    const s = { failures: 1, openUntilMs: 0, lastLogMs: 0 };
    await m.write('k', s);
    s.failures = 42;
    const r = await m.read('k');
    r.openUntilMs = 5;
    expect(await m.read('k')).toEqual({ failures: 1, openUntilMs: 0, lastLogMs: 0 });
  });

  it('two instances (two servers, or a server restarted) share nothing', async () => {
    const a = new MemoryBreakerStore();
    await a.write('k', { failures: 5, openUntilMs: 1, lastLogMs: 0 });
    expect(await new MemoryBreakerStore().read('k')).toEqual(CLOSED);
  });

  it('runScanners with one memory store: a failure opens the breaker for the next session of the same server only', async () => {
    const scanner: ScannerConfig = {
      type: 'spamd', name: 'spamd', hosts: ['127.0.0.1:1'], order: 'ordered', command: [], filterMode: 'rewrite', spamdMode: 'check',
      timeoutMs: 1000, maxSize: 1 << 20, onFailure: 'deliver',
    };
    const config: Config = { ...defaultConfig(), scanners: [scanner], scanning: { ...defaultConfig().scanning, breakerFailures: 1, stateDir: '/nonexistent/mda-must-not-be-used' } };
    let calls = 0;
    const refused: ScannerClient = {
      name: 'spamd',
      type: 'spamd',
      scan: (req) => {
        calls++;
        req.onHost?.('127.0.0.1:1', false);
        return Promise.resolve<Verdict>({ scanner: 'spamd', type: 'spamd', endpoint: '127.0.0.1:1', status: 'skipped', skip: 'refused', detail: 'refused', elapsedMs: 0 });
      },
      ping: () => Promise.reject(new Error('unused')),
    };
    const request = { path: '/dev/null', size: 0, user: 'u', home: '/', sender: '', recipient: '', workDir: '/tmp', names: undefined as never };
    const run = async (breakers: MemoryBreakerStore) => {
      const deadline = Deadline.start(10_000, { graceMs: 1_000, onHardStop: () => undefined });
      try {
        return (await runScanners(request, { config, deadline, logger: createLogger({ kind: 'none' }), createScanner: () => refused, breakers }))[0]!.skip;
      } finally {
        deadline.dispose();
      }
    };
    const server = new MemoryBreakerStore();
    expect(await run(server)).toBe('refused');
    expect(await run(server)).toBe('circuit-open');
    expect(calls).toBe(1);
    expect(await run(new MemoryBreakerStore())).toBe('refused');
    expect(calls).toBe(2);
  });
});

describe('breaker trust rules', () => {
  const DIR = 0o040000;
  const FILE = 0o100000;
  it.each<[string, { uid: number; mode: number }, number, boolean]>([
    ["the uid's own 0700 dir", { uid: 1000, mode: DIR | 0o700 }, 1000, true],
    ["the uid's own 0600 file", { uid: 1000, mode: FILE | 0o600 }, 1000, true],
    ["the uid's own 0644 file (readable by others is fine)", { uid: 1000, mode: FILE | 0o644 }, 1000, true],
    ['owned by another user', { uid: 1001, mode: FILE | 0o600 }, 1000, false],
    ['owned by root, for a user', { uid: 0, mode: FILE | 0o600 }, 1000, false],
    ['owned by root, for root', { uid: 0, mode: FILE | 0o600 }, 0, true],
    ['group-writable', { uid: 1000, mode: FILE | 0o620 }, 1000, false],
    ['other-writable', { uid: 1000, mode: FILE | 0o606 }, 1000, false],
    ['the legacy 0666 file', { uid: 1000, mode: FILE | 0o666 }, 1000, false],
    ['a 0777 dir', { uid: 1000, mode: DIR | 0o777 }, 1000, false],
  ])('ownStateTrusted: %s → %s', (_n, st, uid, want) => {
    expect(ownStateTrusted(st, uid)).toBe(want);
  });

  it.each<[string, { uid: number; mode: number }, number, boolean]>([
    ["root's 1777 (as /var/tmp)", { uid: 0, mode: DIR | 0o1777 }, 1000, true],
    ["root's 0755", { uid: 0, mode: DIR | 0o755 }, 1000, true],
    ["root's 0777 without the sticky bit", { uid: 0, mode: DIR | 0o777 }, 1000, false],
    ["the uid's own 1777", { uid: 1000, mode: DIR | 0o1777 }, 1000, true],
    ["the uid's own 0700", { uid: 1000, mode: DIR | 0o700 }, 1000, true],
    ["another user's 1777 (they made it first)", { uid: 1001, mode: DIR | 0o1777 }, 1000, false],
    ["another user's 0755", { uid: 1001, mode: DIR | 0o755 }, 1000, false],
  ])('sharedDirTrusted: %s → %s', (_n, st, uid, want) => {
    expect(sharedDirTrusted(st, uid)).toBe(want);
  });

  it('one directory name per uid', () => {
    expect(breakerDirName(0)).toBe('breakers-0');
    expect(breakerDirName(65534)).toBe('breakers-65534');
  });
});

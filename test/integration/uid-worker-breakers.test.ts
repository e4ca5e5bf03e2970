/**
 * The parent side of a server's breakers shared with per-uid workers
 * (src/session/uid-workers.ts): a job of a session with in-memory breakers is told so
 * (`begin.breakers`), reads are answered from the session's store, and what a worker (it
 * runs as a user) writes is bounded: only keys of configured endpoints, open for at most
 * one cool-down, never a log time in the future.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, type ScannerConfig } from '../../src/config/schema.js';
import { Deadline } from '../../src/deadline/deadline.js';
import { createLogger } from '../../src/log/logger.js';
import { createNameSource } from '../../src/maildir/name-source.js';
import type { Spool } from '../../src/maildir/spool.js';
import { MemoryBreakerStore } from '../../src/scanners/breaker-store.js';
import { openSession } from '../../src/session/session.js';
import { UidWorkers } from '../../src/session/uid-workers.js';

const account = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };
const rcpt = { user: 'nobody', envelope: { sender: 's@x', recipient: 'nobody@x', originalRecipient: 'nobody@x', extension: '' } };
const KEY = 'clamd 127.0.0.1:1';

/** A worker that, at `end`, writes a forged far-future state and a foreign key, reads KEY back and answers with what it got. */
const WORKER = `
let breakers;
process.on('message', (m) => {
  if (m.t === 'init') process.send({ t: 'ready' });
  if (m.t === 'begin') breakers = m.breakers;
  if (m.t === 'end') {
    const far = Date.now() + 1e9;
    process.send({ t: 'breaker-write', id: m.id, key: ${JSON.stringify(KEY)}, state: { failures: 3, openUntilMs: far, lastLogMs: far } });
    process.send({ t: 'breaker-write', id: m.id, key: 'other 10.0.0.1:783', state: { failures: 9, openUntilMs: far, lastLogMs: 0 } });
    process.send({ t: 'breaker-read', id: m.id, req: 1, key: ${JSON.stringify(KEY)} });
    process.send({ t: 'breaker-read', id: m.id, req: 2, key: 'other 10.0.0.1:783' });
  }
  if (m.t === 'breaker' && m.req === 2) got2 = m.state;
  if (m.t === 'breaker' && m.req === 1) got1 = m.state;
  if (typeof got1 !== 'undefined' && typeof got2 !== 'undefined') {
    const outcome = { kind: 'delivered', breakers, got1, got2 };
    process.send({ t: 'done', id: 1, results: [{ user: 'nobody', outcome, facts: {} }] });
    got1 = got2 = undefined;
  }
});
var got1, got2;
`;

describe('per-uid workers and the server\'s breakers', () => {
  it('reads come from the session\'s store; writes are limited to configured endpoints and one cool-down', async () => {
    const config = defaultConfig();
    config.scanners = [{ name: 'clamd', type: 'clamd', hosts: ['127.0.0.1:1'] } as unknown as ScannerConfig];
    const store = new MemoryBreakerStore();
    const deadline = Deadline.start(5_000, { graceMs: 1_000, onHardStop: () => undefined });
    const s = openSession({ config, deadline, logger: createLogger({ kind: 'none' }), names: createNameSource(), breakers: store });
    const workers = new UidWorkers({ execPath: process.execPath, args: ['-e', WORKER] }, config);
    const spool = { path: '/dev/null', bytes: 0 } as unknown as Spool;
    const t0 = Date.now();
    try {
      const [r] = await workers.deliver(s, account, { spool, header: Buffer.alloc(0) }, [rcpt]);
      const o = r!.outcome as unknown as { breakers: boolean; got1: { failures: number; openUntilMs: number; lastLogMs: number }; got2: unknown };
      expect(o.breakers).toBe(true);
      expect(o.got1.failures).toBe(3);
      expect(o.got1.openUntilMs).toBeGreaterThan(t0);
      expect(o.got1.openUntilMs).toBeLessThanOrEqual(Date.now() + config.scanning.breakerCooldownMs);
      expect(o.got1.lastLogMs).toBeLessThanOrEqual(Date.now());
      expect(o.got2).toEqual({ failures: 0, openUntilMs: 0, lastLogMs: 0 }); // not a configured endpoint: closed, never stored
      expect(await store.read('other 10.0.0.1:783')).toEqual({ failures: 0, openUntilMs: 0, lastLogMs: 0 });
      expect((await store.read(KEY)).failures).toBe(3);
    } finally {
      workers.close();
      deadline.dispose();
    }
  });
});

/**
 * runScanners with deliveries in flight at once (a server's sessions, or one uid's
 * `mda deliver` processes): results are recorded on the breaker's latest state, not the one
 * read before the scan, so concurrent failures add up (the breaker opens after
 * `breaker_failures` of them) and only one of them logs (the ClamAV incident: a line per failure
 * filled a log disk).
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type ScannerConfig } from '../../../src/config/schema.js';
import { Deadline } from '../../../src/deadline/deadline.js';
import type { Logger } from '../../../src/log/logger.js';
import { MemoryBreakerStore } from '../../../src/scanners/breaker-store.js';
import { breakerKey, runScanners } from '../../../src/scanners/run-scanners.js';
import type { ScannerClient, Verdict } from '../../../src/scanners/types.js';

const HOST = '127.0.0.1:1';
const scanner: ScannerConfig = {
  type: 'clamd', name: 'clamd', hosts: [HOST], order: 'ordered', command: [], filterMode: 'rewrite', spamdMode: 'check',
  timeoutMs: 1000, maxSize: 1 << 20, onFailure: 'deliver',
};

describe('runScanners, concurrent failures', () => {
  it.each([2, 3, 8])('%i failures in flight at once with breaker_failures = 3: counted, one log line', async (n) => {
    const config: Config = { ...defaultConfig(), scanners: [scanner], scanning: { ...defaultConfig().scanning, breakerFailures: 3, stateDir: '/nonexistent/mda-must-not-be-used' } };
    const warned: string[] = [];
    const logger: Logger = { info: () => undefined, warn: (m) => void warned.push(m), error: (m) => void warned.push(m), flush: () => Promise.resolve(), dropped: 0 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const dropping: ScannerClient = {
      name: 'clamd',
      type: 'clamd',
      scan: async (req) => {
        await gate; // every delivery has read the breaker before any records its result
        req.onHost?.(HOST, false);
        return { scanner: 'clamd', type: 'clamd', endpoint: HOST, status: 'skipped', skip: 'error', detail: 'connection closed', elapsedMs: 0 } satisfies Verdict;
      },
      ping: () => Promise.reject(new Error('unused')),
    };
    const breakers = new MemoryBreakerStore();
    const request = { path: '/dev/null', size: 0, user: 'u', home: '/', sender: '', recipient: '', workDir: '/tmp', names: undefined as never };
    const deadline = Deadline.start(10_000);
    try {
      const runs = Array.from({ length: n }, () => runScanners(request, { config, deadline, logger, createScanner: () => dropping, breakers }));
      await new Promise((r) => setTimeout(r, 20));
      release();
      await Promise.all(runs);
    } finally {
      deadline.dispose();
    }
    const state = breakers.peek(breakerKey('clamd', HOST));
    expect(state.failures).toBe(n);
    expect(state.openUntilMs > 0).toBe(n >= 3);
    expect(warned).toHaveLength(1);
  });
});

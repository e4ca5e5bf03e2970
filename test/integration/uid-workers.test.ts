/**
 * The parent side of per-uid workers when the worker misbehaves: a worker that
 * dies before or during a job, or never answers its init, fails its recipients
 * with a deferral (4.3.0), never a bounce and never a hang past the deadline.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { Deadline } from '../../src/deadline/deadline.js';
import { createLogger } from '../../src/log/logger.js';
import { createNameSource } from '../../src/maildir/name-source.js';
import type { Spool } from '../../src/maildir/spool.js';
import { openSession } from '../../src/session/session.js';
import { UidWorkers } from '../../src/session/uid-workers.js';

const account = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };
const rcpt = { user: 'nobody', envelope: { sender: 's@x', recipient: 'nobody@x', originalRecipient: 'nobody@x', extension: '' } };

async function deliverWith(script: string, deadlineMs = 5_000) {
  const config = defaultConfig();
  const deadline = Deadline.start(deadlineMs, { graceMs: 1_000, onHardStop: () => undefined });
  const s = openSession({ config, deadline, logger: createLogger({ kind: 'none' }), names: createNameSource() });
  const workers = new UidWorkers({ execPath: process.execPath, args: ['-e', script] }, config);
  const spool = { path: '/dev/null', bytes: 0 } as unknown as Spool;
  try {
    return await workers.deliver(s, account, { spool, header: Buffer.alloc(0) }, [rcpt, { ...rcpt, user: 'nobody2' }]);
  } finally {
    workers.close();
    deadline.dispose();
  }
}

describe('per-uid workers that fail', () => {
  it.each([
    ['exits at once', 'process.exit(3)'],
    ['cannot switch user', "process.on('message', () => process.send({ t: 'failed', why: 'setuid: EPERM' }))"],
    ['dies mid-job', "process.on('message', (m) => { if (m.t === 'init') process.send({ t: 'ready' }); if (m.t === 'end') process.exit(1); })"],
  ])('a worker that %s defers every recipient it had (4.3.0), in order', async (_, script) => {
    const results = await deliverWith(script);
    expect(results.map((r) => r.user)).toEqual(['nobody', 'nobody2']);
    for (const r of results) expect(r.outcome).toMatchObject({ kind: 'temp', cause: 'system' });
  });

  it('a worker that never answers is given up at the deadline (4.4.7), not waited for', async () => {
    const results = await deliverWith('setInterval(() => undefined, 1000)', 500);
    for (const r of results) expect(r.outcome).toMatchObject({ kind: 'temp', cause: 'deadline' });
  });
});

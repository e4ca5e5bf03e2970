/**
 * ParentBreakers (src/session/parent-breakers.ts): a per-uid worker's view of its server's
 * scanner breakers over IPC. A read is answered by the parent; without an answer it ends
 * closed (the mail is scanned) when the job's deadline aborts, when the channel is gone, or
 * when the parent goes away; writes are sent and never throw; updates of a key are serialised.
 */
import { describe, expect, it } from 'vitest';
import { ParentBreakers } from '../../src/session/parent-breakers.js';
import { CLOSED, type BreakerState } from '../../src/scanners/breaker.js';
import type { FromWorker } from '../../src/session/uid-worker-protocol.js';

const OPEN: BreakerState = { failures: 5, openUntilMs: 9e12, lastLogMs: 1 };

function setup(opts: { throws?: boolean } = {}) {
  const sent: FromWorker[] = [];
  const pb = new ParentBreakers((m) => {
    if (opts.throws) throw new Error('channel closed');
    sent.push(m);
  });
  return { pb, sent };
}

describe('ParentBreakers', () => {
  it('a read asks the parent (job id, request id, key) and resolves with its answer', async () => {
    const { pb, sent } = setup();
    const read = pb.storeFor(7, new AbortController().signal).read('clamd 127.0.0.1:3310');
    expect(sent).toEqual([{ t: 'breaker-read', id: 7, req: 1, key: 'clamd 127.0.0.1:3310' }]);
    pb.answer(1, OPEN);
    expect(await read).toEqual(OPEN);
  });

  it('answers go to their own request, in any order', async () => {
    const { pb } = setup();
    const store = pb.storeFor(1, new AbortController().signal);
    const a = store.read('a');
    const b = store.read('b');
    pb.answer(2, OPEN);
    pb.answer(1, CLOSED);
    expect([await a, await b]).toEqual([CLOSED, OPEN]);
  });

  it.each([
    ['the job deadline aborts', (pb: ParentBreakers, ac: AbortController) => (void pb, ac.abort())],
    ['the parent goes away', (pb: ParentBreakers) => pb.parentGone()],
  ])('an unanswered read ends closed when %s', async (_why, end) => {
    const { pb } = setup();
    const ac = new AbortController();
    const read = pb.storeFor(1, ac.signal).read('k');
    end(pb, ac);
    expect(await read).toEqual(CLOSED);
    pb.answer(1, OPEN); // a late answer changes nothing
    expect(await read).toEqual(CLOSED);
  });

  it('with the deadline already spent, a read sends nothing and is closed', async () => {
    const { pb, sent } = setup();
    const ac = new AbortController();
    ac.abort();
    expect(await pb.storeFor(1, ac.signal).read('k')).toEqual(CLOSED);
    expect(sent).toEqual([]);
  });

  it('without a channel (send throws) a read is closed and a write is dropped, neither throws', async () => {
    const { pb } = setup({ throws: true });
    const store = pb.storeFor(1, new AbortController().signal);
    expect(await store.read('k')).toEqual(CLOSED);
    await expect(store.write('k', OPEN)).resolves.toBeUndefined();
  });

  it('updates of one key run one after another: the second reads what the first wrote', async () => {
    const { pb, sent } = setup();
    const store = pb.storeFor(1, new AbortController().signal);
    const add = (s: BreakerState) => ({ ...s, failures: s.failures + 1 });
    const first = store.update('k', add);
    const second = store.update('k', add);
    await Promise.resolve();
    expect(sent.map((m) => m.t)).toEqual(['breaker-read']); // the second waits for the first
    pb.answer(1, CLOSED);
    expect(await first).toEqual({ ...CLOSED, failures: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.map((m) => m.t)).toEqual(['breaker-read', 'breaker-write', 'breaker-read']);
    pb.answer(2, { ...CLOSED, failures: 1 }); // the parent's store now holds the first write
    expect(await second).toEqual({ ...CLOSED, failures: 2 });
    expect(sent.at(-1)).toEqual({ t: 'breaker-write', id: 1, key: 'k', state: { ...CLOSED, failures: 2 } });
  });

  it('a write is sent with the job id', async () => {
    const { pb, sent } = setup();
    await pb.storeFor(3, new AbortController().signal).write('k', OPEN);
    expect(sent).toEqual([{ t: 'breaker-write', id: 3, key: 'k', state: OPEN }]);
  });
});

/**
 * The worker side of a server's scanner breakers: a per-uid worker (uid-worker-main.ts) of a
 * front end that keeps its breakers in memory asks the parent for them over the IPC channel,
 * so every uid's deliveries share the server's one breaker per endpoint (and its
 * mda_scanner_breaker_state gauge shows what deliveries see). Keeps the reads in flight only.
 * Must not: wait past the job's deadline (a read then answers closed: the mail is scanned),
 * or throw (the BreakerStore contract).
 */
import type { BreakerStore } from '../scanners/breaker-store.js';
import { CLOSED, type BreakerState } from '../scanners/breaker.js';
import type { FromWorker } from './uid-worker-protocol.js';

export class ParentBreakers {
  private readonly waiting = new Map<number, (state: BreakerState) => void>();
  private nextReq = 1;

  constructor(private readonly send: (m: FromWorker) => void) {}

  /** storeFor: the store job `id` uses; its reads end (closed) when `signal` aborts. */
  storeFor(id: number, signal: AbortSignal): BreakerStore {
    return {
      read: (key) =>
        new Promise<BreakerState>((resolve) => {
          const req = this.nextReq++;
          const done = (state: BreakerState) => {
            this.waiting.delete(req);
            signal.removeEventListener('abort', onAbort);
            resolve(state);
          };
          const onAbort = () => done({ ...CLOSED });
          if (signal.aborted) return onAbort();
          this.waiting.set(req, done);
          signal.addEventListener('abort', onAbort, { once: true });
          try {
            this.send({ t: 'breaker-read', id, req, key });
          } catch {
            onAbort(); // no channel: nobody will answer
          }
        }),
      write: async (key, state) => {
        try {
          this.send({ t: 'breaker-write', id, key, state });
        } catch {
          // a lost write costs one more scan attempt (BreakerStore contract)
        }
      },
    };
  }

  /** answer: the parent's reply to read `req`. */
  answer(req: number, state: BreakerState): void {
    this.waiting.get(req)?.(state);
  }

  /** parentGone: every read in flight answers closed. */
  parentGone(): void {
    for (const done of [...this.waiting.values()]) done({ ...CLOSED });
  }
}

/**
 * The worker side of a server's scanner breakers: a per-uid worker (uid-worker-main.ts) of a
 * front end that keeps its breakers in memory asks the parent for them over the IPC channel,
 * so every uid's deliveries share the server's one breaker per endpoint (and its
 * mda_scanner_breaker_state gauge shows what deliveries see). Keeps only the reads and
 * updates in flight.
 * Must not: wait past the job's deadline (a read then answers closed: the mail is scanned),
 * or throw (the BreakerStore contract).
 */
import { updateByReadWrite, type BreakerStore } from '../scanners/breaker-store.js';
import { CLOSED, type BreakerState } from '../scanners/breaker.js';
import type { FromWorker } from './uid-worker-protocol.js';

export class ParentBreakers {
  private readonly waiting = new Map<number, (state: BreakerState) => void>();
  private nextReq = 1;
  /** The last update of each key in flight: this worker's updates of a key run one after another. */
  private readonly updating = new Map<string, Promise<unknown>>();

  constructor(private readonly send: (m: FromWorker) => void) {}

  /** storeFor: the store job `id` uses; its reads end (closed) when `signal` aborts. */
  storeFor(id: number, signal: AbortSignal): BreakerStore {
    const store: BreakerStore = {
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
      // Serialised per key within this worker (one uid's concurrent deliveries); workers of other
      // uids may still interleave, which costs at most one more scan attempt or log line.
      update: (key, change) => {
        const run = (this.updating.get(key) ?? Promise.resolve()).then(() => updateByReadWrite(store, key, change));
        const tail = run.catch(() => undefined);
        this.updating.set(key, tail);
        void tail.then(() => this.updating.get(key) === tail && this.updating.delete(key));
        return run;
      },
    };
    return store;
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

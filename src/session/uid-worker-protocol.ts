/**
 * The messages between a root front end and a per-uid worker process (over
 * Node's IPC channel, `serialization: 'advanced'`, so Buffers pass as bytes).
 * A job is one message for the worker's recipients: `begin`, the message
 * bytes in `data` chunks, `end`; the worker answers `done` with one outcome per
 * recipient, and forwards its log lines as `log`. A job whose front end keeps scanner
 * breakers in memory (`begin` with `breakers: true`) reads and writes them through the parent
 * (`breaker-read` answered by `breaker`, `breaker-write`), so a server has one breaker per
 * endpoint whichever uid's worker scans. Pure: types only.
 */
import type { Account } from '../privileges/accounts.js';
import type { Config } from '../config/schema.js';
import type { MessageRecipient, RecipientResult } from '../pipeline/deliver-message.js';
import type { BreakerState } from '../scanners/breaker.js';

/** Largest `data` chunk: big enough to be cheap, small enough to keep memory flat. */
export const CHUNK_BYTES = 256 * 1024;

export type ToWorker =
  | { t: 'init'; account: Account; groups: number[] | undefined; config: Config }
  | { t: 'begin'; id: number; deadlineMs: number; header: Uint8Array; rcpts: MessageRecipient[]; breakers: boolean }
  | { t: 'breaker'; req: number; state: BreakerState }
  | { t: 'data'; id: number; chunk: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number; why: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; why: string }
  | { t: 'log'; id: number; severity: 'info' | 'warn' | 'error'; msg: string }
  | { t: 'done'; id: number; results: RecipientResult[] }
  | { t: 'breaker-read'; id: number; req: number; key: string }
  | { t: 'breaker-write'; id: number; key: string; state: BreakerState };

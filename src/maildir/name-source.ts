/**
 * Where unique Maildir base names come from: one source per process (pid and
 * host are per process, and the counter must never repeat within one), made
 * by the front end and handed to every session, so no module keeps a counter.
 * Must not: do I/O; names.ts owns the name format.
 */
import { hostname } from 'node:os';
import { uniqueName } from './names.js';

/** A function that returns a fresh unique base name (no `,S=`) on every call. */
export type NameSource = () => string;

/** createNameSource: `sec.M<usec>P<pid>Q<n>.host` with n = 1, 2, ... (cr.yp.to/proto/maildir.html). */
export function createNameSource(pid: number = process.pid, host: string = hostname()): NameSource {
  let seq = 0;
  // Date.now(): ms resolution is enough, P and Q make the name unique (and `performance` costs a module load)
  return () => uniqueName({ nowMs: Date.now(), pid, seq: ++seq, host });
}

/**
 * The scanner vocabulary shared by every client (spamd, clamd, filter), the
 * runner and routing. A client never throws: every failure is a verdict with
 * status 'skipped' and a reason, and policy (route.ts) alone decides what that
 * means for the mail. Pure: types only.
 */
import type { ScannerType } from '../config/schema.js';

/** Why a scan did not happen; shown in `X-MDA-Scan: <name>=skipped (<reason>)`. */
export type SkipReason = 'timeout' | 'refused' | 'error' | 'too-large' | 'circuit-open';

export interface Verdict {
  scanner: string; // config name
  type: ScannerType;
  /** The endpoint that answered or failed last (host:port, socket path, command). */
  endpoint: string;
  status: 'clean' | 'spam' | 'infected' | 'skipped';
  skip?: SkipReason;
  /** spamd: score, required score, rule names; `partial` when spamd hit its own time limit (TIME_LIMIT_EXCEEDED). */
  score?: number;
  threshold?: number;
  tests?: string[];
  /** spamd HEADERS/PROCESS: the X-Spam-* header fields as spamd wrote them (unfolded lines without line ends). */
  spamHeaders?: string[];
  /** clamd: signature name from `... FOUND`. */
  signature?: string;
  /** filter 'rewrite': a file holding the complete new message (the filter's stdout). */
  rewrittenPath?: string;
  /** One line for logs and X-MDA-Scan. */
  detail: string;
  elapsedMs: number;
}

export interface ScanRequest {
  /** The spooled message (in the Maildir's tmp/), read-only for scanners. */
  path: string;
  size: number;
  /** The recipient (spamd `User:`, filter environment) and their home directory. */
  user: string;
  home: string;
  /** Envelope, for filter commands ($SENDER, $RECIPIENT). */
  sender: string;
  recipient: string;
  /** This scanner's budget: connect, write and read together must finish before it aborts. */
  signal: AbortSignal;
  /** Where a filter may write its output (a directory the recipient owns). */
  workDir: string;
  /** Unique file names for that output (the process's one name source). */
  names: () => string;
  /** Told about every host tried (its config spelling) and whether it answered: feeds the per-endpoint circuit breaker. */
  onHost?: (host: string, ok: boolean) => void;
}

export interface ScannerClient {
  readonly name: string;
  readonly type: ScannerType;
  /** Never rejects. */
  scan(req: ScanRequest): Promise<Verdict>;
  /** For `mda scanners check`: a cheap liveness probe (PING), resolving to a detail line or rejecting. */
  ping(signal: AbortSignal): Promise<string>;
}

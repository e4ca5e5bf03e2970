/**
 * What a Sieve evaluation decides, before anything is done: the plan that the
 * delivery commit executes (Pigeonhole's result/execute split, RFC 5228 §2.10).
 * Pure: types and small helpers only; evaluation is evaluate.ts, execution is
 * pipeline/sieve-commit.ts.
 */
import type { HeaderSnapshot } from './header-edits.js';

/** A Maildir++ folder target ('' or INBOX = the Maildir itself) with IMAP flags to store. */
export interface FileTarget {
  mailbox: string;
  /** IMAP flags (\\Seen, \\Flagged, ... and keywords); stored as Maildir info letters where one exists. */
  flags: string[];
  /** fileinto :create (RFC 5490): create the folder if missing even when autocreate is off. */
  create: boolean;
  /** editheader (RFC 5293 §3): the header as it was when this action ran; absent = the original. */
  header?: HeaderSnapshot;
}

export interface Redirect {
  address: string;
  /** editheader (RFC 5293 §3): the header as it was when the redirect ran; absent = the original. */
  header?: HeaderSnapshot;
}

export interface VacationReply {
  /** The envelope sender we answer (Return-Path); never empty: the null sender gets no reply. */
  to: string;
  from: string | undefined;
  subject: string;
  reason: string;
  mime: boolean;
  /** Identifies the response for once-per-period tracking (RFC 5230 §4.2: :handle or a hash of its text). */
  handle: string;
  periodSeconds: number;
  /** In-Reply-To / References per RFC 3834 §3.1.5-6. */
  inReplyTo: string | undefined;
  references: string | undefined;
}

export interface SievePlan {
  /** Explicit or implicit keep: the default folder (INBOX, or [spam] folder for spam) with these flags. */
  keep: { flags: string[]; implicit: boolean; header?: HeaderSnapshot } | null;
  fileinto: FileTarget[];
  redirects: Redirect[];
  vacation: VacationReply | null;
  /** Duplicate-tracking ids to record once the message is delivered (RFC 7352). */
  duplicates: Array<{ id: string; periodSeconds: number }>;
  /** Runtime errors: when non-empty, every action above is cancelled and only implicit keep happens (RFC 5228 §2.10.6). */
  errors: string[];
  /** Which tests matched, for `mda sieve test` and logs. */
  trace: string[];
}

/** The plan of a message that no script touched, or whose script failed: implicit keep only. */
export function implicitKeepPlan(errors: string[] = [], trace: string[] = []): SievePlan {
  return { keep: { flags: [], implicit: true }, fileinto: [], redirects: [], vacation: null, duplicates: [], errors, trace };
}

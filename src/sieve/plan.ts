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

/** One enotify mailto notification (RFC 5435, RFC 5436) to one envelope recipient. */
export interface Notification {
  /** The envelope recipient of this copy: one plain address. */
  recipient: string;
  /** Envelope sender: '' (MAIL FROM:<>) when the triggering message's was <> (RFC 5436 §2.7), else the user's address. */
  sender: string;
  /** The From field: the user's address, or a :from naming it (RFC 5436 §2.3). */
  from: string;
  /** The To and Cc fields, as the URI named them. */
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  /** RFC 5436 §2.4: "1" high, "2" normal, "3" low. */
  importance: '1' | '2' | '3';
  /** The URI's safe header fields (lower-case name, value). */
  headers: Array<[string, string]>;
  /** Worth logging when it is sent (an ignored :from). */
  note?: string;
}

export interface SievePlan {
  /** Explicit or implicit keep: the default folder (INBOX, or [spam] folder for spam) with these flags. */
  keep: { flags: string[]; implicit: boolean; header?: HeaderSnapshot } | null;
  fileinto: FileTarget[];
  redirects: Redirect[];
  vacation: VacationReply | null;
  /** enotify notifications (RFC 5435): sent only once the delivery has committed. */
  notifications: Notification[];
  /** Duplicate-tracking ids to record once the message is delivered (RFC 7352). */
  duplicates: Array<{ id: string; periodSeconds: number }>;
  /** Runtime errors: when non-empty, every action above is cancelled and only implicit keep happens (RFC 5228 §2.10.6). */
  errors: string[];
  /** Which tests matched, for `mda sieve test` and logs. */
  trace: string[];
}

/** The plan of a message that no script touched, or whose script failed: implicit keep only. */
export function implicitKeepPlan(errors: string[] = [], trace: string[] = []): SievePlan {
  return { keep: { flags: [], implicit: true }, fileinto: [], redirects: [], vacation: null, notifications: [], duplicates: [], errors, trace };
}

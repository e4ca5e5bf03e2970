/**
 * The copies of a message whose header a Sieve script edited (editheader, RFC 5293 §3): one sealed
 * file in the Maildir's tmp/ per distinct header snapshot that the plan's stores and redirects
 * carry, built from the spool by rewriting only the header block (the body is streamed, never
 * held). Copies with the same snapshot share one file (stored by hard link like the spool itself).
 * Must not: decide which header a copy has (the plan does), store or send anything.
 */
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import type { NameSource } from '../maildir/name-source.js';
import { replaceHeadSpool } from '../maildir/rewrite.js';
import type { Spool } from '../maildir/spool.js';
import { composeHeader, splitRawHeader, type HeaderSnapshot } from '../sieve/header-edits.js';

export interface EditedInput {
  spool: Spool;
  /** The Maildir whose tmp/ receives the copies. */
  root: string;
  names: NameSource;
  /** The spool's header block as Sieve read it (without the blank line) and whether it is whole. */
  header: Buffer;
  headerComplete: boolean;
  eol: '\n' | '\r\n';
  deadline: Deadline;
  logger: Logger;
}

export interface EditedCopies {
  /** The copy for a snapshot; undefined = the spool itself (unedited, or edits could not apply). */
  spoolFor(h: HeaderSnapshot | undefined): Spool | undefined;
  /** Removes the tmp/ files (stored copies are other names and stay). Never throws. */
  discard(): Promise<void>;
}

export async function buildEditedCopies(i: EditedInput, wanted: Iterable<HeaderSnapshot | undefined>): Promise<EditedCopies> {
  const made = new Map<HeaderSnapshot, Spool>();
  const copies: EditedCopies = {
    spoolFor: (h) => (h ? made.get(h) : undefined),
    discard: async () => {
      for (const s of made.values()) await s.discard();
    },
  };
  const snapshots = new Set([...wanted].filter((h): h is HeaderSnapshot => h !== undefined));
  if (snapshots.size === 0) return copies;
  if (!i.headerComplete) {
    // Fields past what was read could not be placed: store the message as it came rather than guess.
    i.logger.warn('sieve: the header is too large to edit; header edits are not applied');
    return copies;
  }
  const segments = splitRawHeader(i.header);
  try {
    for (const h of snapshots) {
      i.deadline.throwIfAborted();
      made.set(h, await replaceHeadSpool(i.root, i.names, i.spool.path, i.header.length, composeHeader(segments, h, i.eol)));
    }
  } catch (err) {
    await copies.discard();
    throw err;
  }
  return copies;
}

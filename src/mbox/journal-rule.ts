/**
 * The mbox append journal, pure: what it records before an append (the mbox's
 * dev and inode, its size before, the length about to be written, the first
 * bytes of the From_ line), how that is written and read back (a file anyone
 * with write access to its directory could plant: parsed strictly), and what
 * the next delivery does with a journal left by a SIGKILLed one.
 * Must not: touch files (journal.ts does).
 */

export interface Journal {
  dev: number;
  ino: number;
  /** The mbox's size before the append: where a partial append starts. */
  offset: number;
  /** Bytes the append writes. */
  length: number;
  /** The first bytes written (the From_ line, at most HEAD_MAX): proof the tail is ours. */
  head: Buffer;
}

export const HEAD_MAX = 64;
/** A journal file is one short line; anything longer is not ours. */
export const JOURNAL_MAX = 512;
const MAGIC = 'mda-mbox-journal 1';

export function encodeJournal(j: Journal): Buffer {
  return Buffer.from(`${MAGIC} ${j.dev} ${j.ino} ${j.offset} ${j.length} ${j.head.subarray(0, HEAD_MAX).toString('base64')}\n`, 'latin1');
}

const NUM = /^[0-9]{1,20}$/;

/** decodeJournal: the journal, or undefined for anything that is not exactly one of ours. */
export function decodeJournal(bytes: Buffer): Journal | undefined {
  if (bytes.length > JOURNAL_MAX) return undefined;
  const text = bytes.toString('latin1');
  if (!text.endsWith('\n')) return undefined; // torn write: never acted on
  const parts = text.slice(0, -1).split(' ');
  if (parts.length !== 7 || `${parts[0]} ${parts[1]}` !== MAGIC) return undefined;
  const nums = parts.slice(2, 6);
  if (!nums.every((n) => NUM.test(n))) return undefined;
  const [dev, ino, offset, length] = nums.map(Number) as [number, number, number, number];
  if (![dev, ino, offset, length].every(Number.isSafeInteger) || length === 0) return undefined;
  const b64 = parts[6]!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  const head = Buffer.from(b64, 'base64');
  if (head.length === 0 || head.length > HEAD_MAX) return undefined;
  return { dev, ino, offset, length, head };
}

export interface MboxNow {
  dev: number;
  ino: number;
  size: number;
  /** The bytes at journal.offset (up to head's length, fewer when the file ends sooner), as read now. */
  atOffset: Buffer;
}

/**
 * repairAction: 'truncate' to journal.offset only when the tail is certainly a
 * partial append of ours: the same file (dev and inode), longer than before the
 * append but shorter than the whole entry, and the From_ line we began with still
 * at the offset. Anything else ('leave') may be a complete entry (killed after
 * the write) or a file rewritten since by mutt or Dovecot, which must not be cut.
 */
export function repairAction(j: Journal, now: MboxNow): 'truncate' | 'leave' {
  if (now.dev !== j.dev || now.ino !== j.ino) return 'leave';
  if (now.size <= j.offset || now.size >= j.offset + j.length) return 'leave';
  // A kill within the From_ line leaves fewer bytes than the head: those must match as far as they go.
  const seen = now.atOffset.subarray(0, Math.min(j.head.length, now.size - j.offset));
  return seen.length > 0 && seen.equals(j.head.subarray(0, seen.length)) ? 'truncate' : 'leave';
}

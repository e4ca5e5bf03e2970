/**
 * What a long-running server remembers about the Maildirs it delivered to lately,
 * to spare each delivery file-system round trips whose answer rarely changes:
 * - whether tmp/ was looked at for abandoned files (tmp-cleanup.ts) in the last
 *   10 minutes: the stat() per delivery becomes one per 10 minutes, so a due
 *   scan (every 8 h) starts at most that late;
 * - whether a spool file from a given directory could be hard-linked into it in
 *   the last 10 minutes: then copies link straight from the spool into new/,
 *   without a name in tmp/ (a link and an unlink fewer per copy). A copy that
 *   then fails for any reason forgets that (the Maildir may have moved to
 *   another mount, where link() says EXDEV).
 * Bounded (the least recently used entry goes first); one per server process,
 * never module state. `mda deliver` has none: it checks on every delivery.
 * Must not: do I/O or decide anything but "look again?".
 */
export const REMEMBER_MS = 10 * 60_000;
export const MAX_REMEMBERED = 10_000;

/** A bounded map of "when was this last seen", least recently used evicted first. */
class RecentTimes {
  private readonly at = new Map<string, number>();

  fresh(key: string, nowMs: number): boolean {
    const ms = this.at.get(key);
    return ms !== undefined && nowMs >= ms && nowMs - ms < REMEMBER_MS;
  }

  record(key: string, nowMs: number): void {
    this.at.delete(key); // re-inserted last: a Map iterates in insertion order
    if (this.at.size >= MAX_REMEMBERED) this.at.delete(this.at.keys().next().value!);
    this.at.set(key, nowMs);
  }

  forget(key: string): void {
    this.at.delete(key);
  }

  get size(): number {
    return this.at.size;
  }
}

const linkKey = (fromDir: string, maildir: string): string => `${fromDir}\n${maildir}`;

export class MaildirMemo {
  private readonly tmpChecked = new RecentTimes();
  private readonly linkedFrom = new RecentTimes();

  /** tmpCheckDue: look at maildir's tmp/ now? A yes is recorded as the look. */
  tmpCheckDue(maildir: string, nowMs = Date.now()): boolean {
    if (this.tmpChecked.fresh(maildir, nowMs)) return false;
    this.tmpChecked.record(maildir, nowMs);
    return true;
  }

  /** linkProven: a file in fromDir was hard-linked into maildir lately. */
  linkProven(fromDir: string, maildir: string, nowMs = Date.now()): boolean {
    return this.linkedFrom.fresh(linkKey(fromDir, maildir), nowMs);
  }

  /** linked records a hard link from a file in fromDir into maildir's tmp/ that worked. */
  linked(fromDir: string, maildir: string, nowMs = Date.now()): void {
    this.linkedFrom.record(linkKey(fromDir, maildir), nowMs);
  }

  /** forgetLinks: a copy into maildir failed; prove any link into it again next time. */
  forgetLinks(fromDir: string, maildir: string): void {
    this.linkedFrom.forget(linkKey(fromDir, maildir));
  }

  /** How many entries each memory holds (for tests: bounded). */
  sizes(): { tmpChecked: number; linkedFrom: number } {
    return { tmpChecked: this.tmpChecked.size, linkedFrom: this.linkedFrom.size };
  }
}

/**
 * The mboxo format as Postfix local(8) writes it (src/global/mail_copy.c with
 * MAIL_COPY_MBOX): a `From SENDER  asctime-date` line, the message with every
 * line that starts with `From ` written as `>From ` (a line already starting
 * with `>From ` is left alone: mboxo, not mboxrd), a line end after a last line
 * that has none, then one empty line. Nothing else is added or changed: CRLF
 * line ends stay as they came (only `\n` ends a line, as for Postfix's records).
 * Pure: no I/O; the quoter works chunk by chunk so a message of any size streams.
 * Must not: read files, choose targets or know about locks.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** asctime: `Www Mmm dd hh:mm:ss yyyy` in local time, the day padded with a space (C asctime(3), Postfix's `%.24s`). */
export function asctime(d: Date): string {
  const day = String(d.getDate()).padStart(2, ' ');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

// RFC 5322 atext plus '.', what quote_822_local leaves unquoted.
const ATEXT_DOTS = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/;

/**
 * quoteLocal: Postfix's quote_822_local: the local part is quoted when it is not a
 * dot-atom, so the From_ line keeps one word where the sender is. Control bytes
 * (which no Postfix sender has, but `--sender` could) become `_`: a line end there
 * would split the From_ line and start a fake message.
 */
export function quoteLocal(address: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = address.replace(/[\x00-\x1f\x7f]/g, '_');
  const at = clean.lastIndexOf('@');
  const local = at < 0 ? clean : clean.slice(0, at);
  const domain = at < 0 ? '' : clean.slice(at);
  const dotAtom = ATEXT_DOTS.test(local) && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..');
  if (local === '' || dotAtom) return clean;
  return `"${local.replace(/(["\\])/g, '\\$1')}"${domain}`;
}

/** fromLine: the separator line for envelope sender `sender` ('' = the null sender) at `date`. */
export function fromLine(sender: string, date: Date): Buffer {
  const who = sender === '' ? 'MAILER-DAEMON' : quoteLocal(sender);
  return Buffer.from(`From ${who}  ${asctime(date)}\n`, 'latin1');
}

const LF = 0x0a;
const FROM_ = Buffer.from('From ');

/**
 * FromQuoter turns message bytes into mbox body bytes. A `From ` split across two
 * chunks is held back until it can be told apart (at most 4 bytes).
 */
export class FromQuoter {
  /** At the start of a line (the message's first byte is one). */
  private atLineStart = true;
  /** Bytes of a possible `From ` at a line start, held until decided. */
  private pending = Buffer.alloc(0);
  private lastByte = LF;
  private sawAny = false;

  feed(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const input = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const out: Buffer[] = [];
    let from = 0;
    let i = 0;
    while (i < input.length) {
      if (this.atLineStart) {
        const rest = input.length - i;
        const n = Math.min(rest, FROM_.length);
        if (input.compare(FROM_, 0, n, i, i + n) === 0) {
          if (n < FROM_.length) {
            // too short to tell: hold it for the next chunk (or end())
            out.push(input.subarray(from, i));
            this.pending = Buffer.from(input.subarray(i));
            this.note(input);
            return Buffer.concat(out);
          }
          out.push(input.subarray(from, i), Buffer.from('>'));
          from = i;
        }
        this.atLineStart = false;
      }
      const nl = input.indexOf(LF, i);
      if (nl < 0) break;
      i = nl + 1;
      this.atLineStart = true;
    }
    out.push(input.subarray(from));
    this.note(input);
    return Buffer.concat(out);
  }

  /** end: what follows the last chunk: held bytes, a line end if the last line had none, and the empty line. */
  end(): Buffer {
    const held = this.pending;
    this.pending = Buffer.alloc(0);
    // Postfix (mail_copy.c): a last record without its line end (REC_TYPE_CONT) gets one, then
    // MAIL_COPY_BLANK adds the empty line, so the next From_ always starts a line after a blank one.
    const needsEol = this.sawAny && this.lastByte !== LF;
    return Buffer.concat([held, needsEol ? Buffer.from('\n') : Buffer.alloc(0), Buffer.from('\n')]);
  }

  private note(input: Buffer): void {
    if (input.length) {
      this.sawAny = true;
      this.lastByte = input[input.length - 1]!;
    }
  }
}

/** mboxEntry: the whole entry for a message in memory (tests, small messages): From_ line + quoted body + end. */
export function mboxEntry(sender: string, date: Date, message: Buffer): Buffer {
  const q = new FromQuoter();
  return Buffer.concat([fromLine(sender, date), q.feed(message), q.end()]);
}

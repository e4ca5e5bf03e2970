/**
 * The SPAMC/1.5 protocol of SpamAssassin's spamd (spamd/PROTOCOL, spamc/libspamc.c):
 * request bytes and reply parsing. Pure: no sockets, no files (client.ts does
 * the I/O); tested with replies captured from a real spamd 4.0.1.
 */

export type SpamdCommand = 'CHECK' | 'SYMBOLS' | 'HEADERS' | 'PROCESS' | 'PING';

export interface SpamdRequest {
  command: SpamdCommand;
  /** spamd `User:`; sent only when safeUser() accepts it. */
  user?: string;
  /** Body size in bytes; every command but PING sends it (0 when absent). */
  contentLength?: number;
}

export type SpamdReply =
  | {
      ok: true;
      code: number;
      spam: boolean;
      score: number;
      threshold: number;
      /** HEADERS/PROCESS: the X-Spam-* fields of the returned header block, unfolded. */
      headers?: string[];
      /** Rule names, from X-Spam-Status `tests=` (HEADERS/PROCESS) or the SYMBOLS body. */
      tests?: string[];
      body?: string;
      /** spamd stopped scanning at --timeout-child and scored what it had (TIME_LIMIT_EXCEEDED). */
      partial: boolean;
    }
  | { ok: false; why: string };

export const VERSION = 'SPAMC/1.5'; // libspamc.c PROTOCOL_VERSION

/**
 * safeUser - whether a user name may go into `User:`. spamd rejects control
 * characters (spamd.raw got_user_header: /^[\x20-\xFF]*$/) and, for per-user
 * config paths, maps everything outside [-A-Za-z0-9+_.,@=] to `_` (the
 * virtual-config-dir `safename`); we send only names that survive both
 * unchanged, so spamd never scans with some other user's preferences.
 */
export function safeUser(user: string): boolean {
  return /^[-A-Za-z0-9+_.,@=]{1,255}$/.test(user);
}

/** encodeRequest - the request head; the message body follows it on the socket. */
export function encodeRequest(req: SpamdRequest): Buffer {
  const lines = [`${req.command} ${VERSION}`];
  // PROTOCOL: spamd reads Content-length bytes or until EOF; always sending it
  // (and half-closing) means a lost FIN can never leave spamd waiting.
  if (req.command !== 'PING') lines.push(`Content-length: ${req.contentLength ?? 0}`);
  if (req.user !== undefined && req.command !== 'PING' && safeUser(req.user)) lines.push(`User: ${req.user}`);
  // Since 1.5 every request, PING included, ends its header block with an empty line (bug 6187).
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** printable - a short, one-line, quoted excerpt of untrusted bytes for a detail line. */
export function printable(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut);
}

const STATUS = /^SPAMD\/(\d+\.\d+) +(\d+) *(.*)$/;
// libspamc: sscanf("Spam: %5s ; %20s / %20s"), compared case-insensitively with "true";
// REPORT_IFSPAM says Yes/No instead (captured from spamd 4.0.1).
const SPAM_LINE = /^Spam: *(\S+) *; *(\S+) *\/ *(\S+) *$/i;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/** parsePong - a PING reply: `SPAMD/1.5 0 PONG`. */
export function parsePong(buf: Buffer): { ok: true } | { ok: false; why: string } {
  const line = buf.toString('latin1').split(/\r?\n/, 1)[0] ?? '';
  const m = STATUS.exec(line);
  if (!m) return { ok: false, why: `not a spamd reply: ${printable(line)}` };
  if (m[2] !== '0' || !/^PONG\b/.test(m[3]!)) return { ok: false, why: `spamd answered ${printable(`${m[2]} ${m[3]}`)}` };
  return { ok: true };
}

/**
 * parseReply - a complete reply (everything up to spamd's close). Non-zero codes
 * (`76 Bad header line`, `79` EX_TIMEOUT, ...) are failures; so is a body shorter
 * than its Content-length (a reply cut off mid-way). A missing final CRLF is fine.
 */
export function parseReply(buf: Buffer): SpamdReply {
  const text = buf.toString('latin1');
  if (text.length === 0) return { ok: false, why: 'empty reply' };
  const headEnd = findBlankLine(text);
  const head = headEnd ? text.slice(0, headEnd.at) : text;
  const body = headEnd ? text.slice(headEnd.at + headEnd.len) : undefined;
  const lines = head.split(/\r?\n/);
  const status = STATUS.exec(lines[0]!);
  if (!status) return { ok: false, why: `not a spamd reply: ${printable(lines[0]!)}` };
  const code = Number(status[2]);
  if (code !== 0) return { ok: false, why: `spamd error ${code} ${status[3]!.trim()}`.trim() };

  let spam: { spam: boolean; score: number; threshold: number } | undefined;
  let contentLength: number | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 1) return { ok: false, why: `bad header line in reply: ${printable(line)}` };
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'spam') {
      const parsed = parseSpamLine(line);
      if (typeof parsed === 'string') return { ok: false, why: parsed };
      spam = parsed;
    } else if (name === 'content-length') {
      const v = line.slice(colon + 1).trim();
      if (!/^\d+$/.test(v)) return { ok: false, why: `bad Content-length in reply: ${printable(v)}` };
      contentLength = Number(v);
    } // PROTOCOL: unknown headers must be ignored
  }
  if (!spam) return { ok: false, why: `no Spam: line in reply${headEnd ? '' : ' (cut off?)'}` };
  if (contentLength !== undefined) {
    const got = Buffer.byteLength(body ?? '', 'latin1');
    if (got < contentLength) return { ok: false, why: `reply cut off: ${got} of ${contentLength} body bytes` };
  }

  const reply: SpamdReply = { ok: true, code, ...spam, partial: false };
  if (body !== undefined && body.length > 0) {
    reply.body = body;
    const fields = spamHeaderFields(body);
    if (fields.length > 0) {
      reply.headers = fields;
      const status = fields.find((f) => /^X-Spam-Status:/i.test(f));
      if (status) reply.tests = testsOf(status);
    } else if (/^[A-Za-z0-9_,]+\s*$/.test(body)) {
      reply.tests = body.trim().split(',').filter(Boolean); // SYMBOLS
    }
  }
  // spamd.raw answers EX_OK at --timeout-child and adds the rule TIME_LIMIT_EXCEEDED
  // (seen with spamd 4.0.1); the score is then only what the rules run so far gave.
  const evidence = reply.headers ? reply.headers.join('\n') : reply.tests ? reply.tests.join(',') : head;
  reply.partial = /\bTIME_LIMIT_EXCEEDED\b/.test(evidence);
  return reply;
}

function findBlankLine(text: string): { at: number; len: number } | undefined {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? { at: m.index, len: m[0].length } : undefined;
}

function parseSpamLine(line: string): { spam: boolean; score: number; threshold: number } | string {
  const m = SPAM_LINE.exec(line);
  if (!m) return `bad Spam: line ${printable(line)}`;
  const flag = m[1]!.toLowerCase();
  if (!['true', 'false', 'yes', 'no'].includes(flag)) return `bad Spam: flag ${printable(m[1]!)}`;
  if (!NUMBER.test(m[2]!) || !NUMBER.test(m[3]!)) return `bad score in ${printable(line)}`;
  return { spam: flag === 'true' || flag === 'yes', score: Number(m[2]), threshold: Number(m[3]) };
}

/**
 * spamHeaderFields - the X-Spam-* fields of a header block (HEADERS returns the
 * message's whole header block), unfolded as RFC 5322 §2.2.3 says: the line
 * break before a continuation line is removed, its leading white space kept.
 */
export function spamHeaderFields(block: string): string[] {
  const fields: string[] = [];
  let current: string | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (line === '') break; // end of the header block
    if (/^[ \t]/.test(line)) {
      if (current !== undefined) current += line;
      continue;
    }
    if (current !== undefined) fields.push(current);
    current = line;
  }
  if (current !== undefined) fields.push(current);
  return fields.filter((f) => /^X-Spam-[A-Za-z0-9-]*:/i.test(f));
}

/** testsOf - rule names from `X-Spam-Status: Yes, score=... tests=A,B,\tC autolearn=...`. */
export function testsOf(status: string): string[] {
  const m = /\btests=([A-Za-z0-9_,\s]*?)(?:\s+[a-z_]+=|$)/.exec(status);
  if (!m) return [];
  return m[1]!.split(/[,\s]+/).filter((t) => t !== '' && t !== 'none');
}

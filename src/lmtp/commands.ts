/**
 * Parses one LMTP command line (RFC 2033, with RFC 5321's syntax) into a
 * typed command, or into the complete error reply for a bad one.
 * Pure: no I/O, no state: ordering is session-state.ts's job; whether a
 * recipient exists is the server's.
 * Lenient where Postfix or real mail needs it (documented at each place),
 * strict where a mistake would deliver to the wrong mailbox.
 */
import { parsePath } from './address-path.js';
import { reply } from './replies.js';

export type LmtpCommand =
  | { verb: 'LHLO'; domain: string }
  | { verb: 'MAIL'; from: string; size?: number; body?: '7BIT' | '8BITMIME'; smtputf8: boolean }
  | { verb: 'RCPT'; to: string }
  | { verb: 'DATA' }
  | { verb: 'RSET' }
  | { verb: 'NOOP' }
  | { verb: 'QUIT' }
  | { verb: 'VRFY'; arg: string }
  | { verb: 'HELO' | 'EHLO' }
  | { verb: 'ERROR'; reply: string };

/**
 * Longest command line accepted, in bytes without the line end. RFC 5321
 * §4.5.3.1.4 says 512 with CRLF, but extensions may raise it (RFC 5321
 * §4.5.3.1.4 allows that for MAIL/RCPT parameters) and UTF-8 addresses
 * (RFC 6531) take up to four bytes a character: Postfix's own smtpd allows
 * 2048 (line_length_limit). The I/O layer must stop buffering at this length.
 */
export const MAX_COMMAND_LINE = 2048;

/** RFC 5321 commands mda knows but does not offer (answered 502, not 500). */
const NOT_IMPLEMENTED = new Set(['EXPN', 'HELP', 'TURN', 'ETRN', 'ATRN', 'BDAT', 'STARTTLS', 'AUTH', 'SEND', 'SOML', 'SAML', 'XCLIENT', 'XFORWARD']);

const error = (code: number, dsn: string, text: string): LmtpCommand => ({ verb: 'ERROR', reply: reply(code, dsn, text) });

/** parseCommand turns one line (CRLF/LF already removed) into a command or an error reply. */
export function parseCommand(line: string): LmtpCommand {
  // RFC 5321 §4.5.3.1.10: "500 Line too long"; RFC 3463 5.5.2 syntax error
  if (Buffer.byteLength(line) > MAX_COMMAND_LINE) return error(500, '5.5.2', 'Line too long');
  // Trailing white space (and a stray CR) is noise some clients add, never meaning.
  const text = line.trimEnd();
  const sp = text.search(/\s/);
  const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? '' : text.slice(sp).trimStart();
  switch (verb) {
    case 'LHLO':
      // RFC 2033 §4.1 / RFC 5321 §4.1.1.1: the client's domain or address literal, one token.
      if (!arg || /\s/.test(arg)) return error(501, '5.5.4', 'Syntax: LHLO domain');
      return { verb: 'LHLO', domain: arg };
    case 'MAIL':
      return parseMail(arg);
    case 'RCPT':
      return parseRcpt(arg);
    case 'DATA':
    case 'RSET':
    case 'QUIT':
      // RFC 5321 §4.1.1.4, §4.1.1.5, §4.1.1.10: these take no argument
      if (arg) return error(501, '5.5.4', `Syntax: ${verb}`);
      return { verb };
    case 'NOOP':
      // RFC 5321 §4.1.1.9: a parameter string is allowed and ignored
      return { verb: 'NOOP' };
    case 'VRFY':
      if (!arg) return error(501, '5.5.4', 'Syntax: VRFY address');
      return { verb: 'VRFY', arg };
    case 'HELO':
    case 'EHLO':
      return { verb };
    default:
      if (NOT_IMPLEMENTED.has(verb)) return error(502, '5.5.1', 'Command not implemented');
      return error(500, '5.5.1', 'Unknown command');
  }
}

/**
 * Splits `FROM:<path> params` (or `TO:`). RFC 5321 §4.1.1.2 allows no space
 * around the colon; clients that add one are common, so it is accepted.
 */
function splitPathArg(arg: string, keyword: 'FROM' | 'TO'): { path: string; params: string } | undefined {
  const m = new RegExp(`^${keyword}\\s*:\\s*`, 'i').exec(arg);
  if (!m) return undefined;
  const rest = arg.slice(m[0].length);
  if (!rest.startsWith('<')) {
    // Lenient (Postfix smtpd's strict_rfc821_envelopes = no): a bare address, no spaces.
    const sp = rest.search(/\s/);
    return sp < 0 ? { path: rest, params: '' } : { path: rest.slice(0, sp), params: rest.slice(sp) };
  }
  // The closing '>' is the first one outside a quoted local part (`<"a>b"@x>`).
  let quoted = false;
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) {
      const params = rest.slice(i + 1);
      // RFC 5321 §4.1.2: parameters are separated from the path by a space
      if (params && !/^\s/.test(params)) return undefined;
      return { path: rest.slice(0, i + 1), params };
    }
  }
  return undefined;
}

/** Parameters as KEY → value (null for a bare keyword); the error reply on a duplicate. */
function parseParams(params: string): Map<string, string | null> | LmtpCommand {
  const out = new Map<string, string | null>();
  for (const p of params.trim().split(/\s+/).filter(Boolean)) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    // RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return error(501, '5.5.4', 'Bad parameter syntax');
    if (out.has(key)) return error(501, '5.5.4', `Duplicate parameter ${key}`);
    out.set(key, eq < 0 ? null : p.slice(eq + 1));
  }
  return out;
}

function parseMail(arg: string): LmtpCommand {
  const split = splitPathArg(arg, 'FROM');
  if (!split) return error(501, '5.5.2', 'Syntax: MAIL FROM:<address>');
  const path = parsePath(split.path, { allowNull: true });
  // RFC 3463 5.1.7: bad sender's mailbox address syntax
  if (typeof path !== 'string') return error(501, '5.1.7', `Bad sender address syntax: ${path.why}`);
  const params = parseParams(split.params);
  if (!(params instanceof Map)) return params;
  const cmd: Extract<LmtpCommand, { verb: 'MAIL' }> = { verb: 'MAIL', from: path, smtputf8: false };
  for (const [key, value] of params) {
    switch (key) {
      case 'SIZE': {
        // RFC 1870 §3: size-value = 1*20DIGIT
        if (value === null || !/^\d{1,20}$/.test(value) || !Number.isSafeInteger(Number(value))) {
          return error(501, '5.5.4', 'Bad SIZE parameter');
        }
        cmd.size = Number(value);
        break;
      }
      case 'BODY': {
        // RFC 6152 (8BITMIME) §2: BODY=7BIT or BODY=8BITMIME; BINARYMIME needs CHUNKING, not offered
        const body = value?.toUpperCase();
        if (body !== '7BIT' && body !== '8BITMIME') return error(501, '5.5.4', 'Unsupported BODY type');
        cmd.body = body;
        break;
      }
      case 'SMTPUTF8':
        // RFC 6531 §3.4: the parameter has no value
        if (value !== null) return error(501, '5.5.4', 'SMTPUTF8 takes no value');
        cmd.smtputf8 = true;
        break;
      default:
        // RFC 5321 §4.1.1.11: a parameter that is not recognized is answered 555
        return error(555, '5.5.4', `Unsupported parameter ${key}`);
    }
  }
  return cmd;
}

function parseRcpt(arg: string): LmtpCommand {
  const split = splitPathArg(arg, 'TO');
  if (!split) return error(501, '5.5.2', 'Syntax: RCPT TO:<address>');
  const path = parsePath(split.path, { allowNull: false });
  // RFC 3463 5.1.3: bad destination mailbox address syntax (a null path is never a recipient)
  if (typeof path !== 'string') return error(501, '5.1.3', `Bad recipient address syntax: ${path.why}`);
  const params = parseParams(split.params);
  if (!(params instanceof Map)) return params;
  // mda offers no RCPT extension (no DSN): Postfix sends NOTIFY/ORCPT only when DSN is advertised
  const first = params.keys().next();
  if (!first.done) return error(555, '5.5.4', `Unsupported parameter ${first.value}`);
  return { verb: 'RCPT', to: path };
}

/**
 * Reads one request of Postfix's SMTP access policy delegation protocol (SMTPD_POLICY_README):
 * `name=value` lines, one per attribute, ended by an empty line. RequestCollector gathers the
 * lines of one connection's current request with hard bounds (attribute count, total bytes),
 * so a client that never sends the empty line cannot grow memory; parsePolicyRequest turns
 * them into a typed request. Unknown attributes are kept and ignored (Postfix adds new ones
 * in new releases). Pure: no I/O.
 */

export interface PolicyRequest {
  /** `smtpd_access_policy` for smtpd; anything else is not ours to judge. */
  request: string;
  /** CONNECT, EHLO, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, VRFY, ETRN. */
  protocolState: string;
  /** The envelope recipient without <> ('' before RCPT). */
  recipient: string;
  /** The envelope sender without <> ('' for the null sender). */
  sender: string;
  /** MAIL FROM's SIZE= in bytes; 0 when absent or not a number. */
  size: number;
  /** Postfix's queue id and the client, for logs only. */
  queueId: string;
  clientAddress: string;
  /** Every attribute as received (the last of repeated names wins). */
  attributes: ReadonlyMap<string, string>;
}

/** Postfix's smtpd sends about 30 attributes; 100 leaves room for new releases. */
export const MAX_ATTRIBUTES = 100;
/** All lines of one request together, in UTF-16 units of the decoded lines. */
export const MAX_REQUEST_CHARS = 64 * 1024;

export type Collected =
  | { kind: 'more' }
  /** The empty line came: the request, or why it is no request (the answer is still DUNNO). */
  | { kind: 'request'; request: PolicyRequest }
  | { kind: 'broken'; why: string };

/**
 * RequestCollector takes one connection's lines. Over a bound it keeps reading (and
 * dropping) until the empty line, so the connection stays in step with smtpd: one answer
 * per request, whatever the request held.
 */
export class RequestCollector {
  private lines: string[] = [];
  private chars = 0;
  private overflow: string | undefined;

  /** True between a request's first line and its empty line. */
  get pending(): boolean {
    return this.lines.length > 0 || this.overflow !== undefined;
  }

  push(line: string): Collected {
    if (line === '') {
      const lines = this.lines;
      const overflow = this.overflow;
      this.lines = [];
      this.chars = 0;
      this.overflow = undefined;
      if (overflow !== undefined) return { kind: 'broken', why: overflow };
      const r = parsePolicyRequest(lines);
      return r.ok ? { kind: 'request', request: r.request } : { kind: 'broken', why: r.why };
    }
    if (this.overflow !== undefined) return { kind: 'more' };
    if (this.lines.length >= MAX_ATTRIBUTES) {
      this.overflow = `more than ${MAX_ATTRIBUTES} attributes`;
    } else if (this.chars + line.length > MAX_REQUEST_CHARS) {
      this.overflow = `more than ${MAX_REQUEST_CHARS} characters`;
    } else {
      this.lines.push(line);
      this.chars += line.length;
      return { kind: 'more' };
    }
    this.lines = [];
    this.chars = 0;
    return { kind: 'more' };
  }
}

/** parsePolicyRequest reads the attribute lines of one request (without the empty line). */
export function parsePolicyRequest(lines: readonly string[]): { ok: true; request: PolicyRequest } | { ok: false; why: string } {
  if (lines.length === 0) return { ok: false, why: 'an empty request' };
  if (lines.length > MAX_ATTRIBUTES) return { ok: false, why: `more than ${MAX_ATTRIBUTES} attributes` };
  const attributes = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    // SMTPD_POLICY_README: "name=value"; the value is everything after the first '=' and may be empty.
    if (eq <= 0) return { ok: false, why: `not a name=value attribute: ${JSON.stringify(line.slice(0, 80))}` };
    attributes.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (name: string) => attributes.get(name) ?? '';
  return {
    ok: true,
    request: {
      request: get('request'),
      protocolState: get('protocol_state').toUpperCase(),
      recipient: get('recipient'),
      sender: get('sender'),
      size: sizeOf(get('size')),
      queueId: get('queue_id'),
      clientAddress: get('client_address'),
      attributes,
    },
  };
}

/** sizeOf: a decimal count of bytes (RFC 1870 size-value: 1*20DIGIT); anything else counts as absent. */
function sizeOf(v: string): number {
  if (!/^[0-9]{1,20}$/.test(v)) return 0;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

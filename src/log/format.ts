/**
 * Formats log lines: the one-line delivery record (key=value, like Postfix's
 * maillog) and RFC 3164 syslog framing. Pure: no I/O.
 */

export interface DeliveryRecord {
  user: string;
  sender: string | undefined;
  recipient: string | undefined;
  messageId: string | undefined;
  size: number | undefined;
  folder: string | undefined;
  status: string; // delivered | discarded | deferred | rejected
  dsn: string;
  elapsedMs: number;
  detail?: string;
}

/**
 * Longest value kept in a log line. Senders choose Message-ID and addresses;
 * uncapped, one header (kept up to 256 KiB) made a line syslog truncates or,
 * past the socket's buffer (~208 KiB), refuses: the delivery went unlogged.
 */
export const MAX_LOG_VALUE = 1000;

/** quote makes a value safe for one key=value log line. */
export function quote(v: string): string {
  const capped = v.length > MAX_LOG_VALUE ? `${v.slice(0, MAX_LOG_VALUE)}...[${v.length - MAX_LOG_VALUE} more]` : v;
  // eslint-disable-next-line no-control-regex
  const clean = capped.replace(/[\x00-\x1f\x7f]/g, '?');
  return /^[^\s"=]+$/.test(clean) ? clean : JSON.stringify(clean);
}

export function formatDelivery(r: DeliveryRecord): string {
  const parts: string[] = [`user=${quote(r.user || '?')}`];
  if (r.sender !== undefined) parts.push(`from=<${quote(r.sender).replace(/^"|"$/g, '')}>`);
  if (r.recipient) parts.push(`to=<${quote(r.recipient).replace(/^"|"$/g, '')}>`);
  if (r.messageId) parts.push(`msgid=${quote(r.messageId)}`);
  if (r.size !== undefined) parts.push(`size=${r.size}`);
  if (r.folder !== undefined) parts.push(`folder=${quote(r.folder || 'INBOX')}`);
  parts.push(`status=${r.status}`, `dsn=${r.dsn}`, `elapsed=${(r.elapsedMs / 1000).toFixed(3)}s`);
  if (r.detail) parts.push(`detail=${quote(r.detail)}`);
  return parts.join(' ');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const SEVERITY = { err: 3, warning: 4, info: 6 } as const;
const FACILITY_MAIL = 2;

/**
 * The token Postfix's msg_warn/msg_error put before the text (`warning: `, `error: `), so the
 * greps admins already run on the mail log (`grep -E '(warning|error):'`) find mda's lines too.
 * Info lines (the delivery record among them) carry none, as Postfix's msg_info.
 */
export function withSeverityToken(severity: number, msg: string): string {
  if (severity === SEVERITY.err) return `error: ${msg}`;
  if (severity === SEVERITY.warning) return `warning: ${msg}`;
  return msg;
}

/** RFC 3164 §4.1: `<PRI>Mmm dd hh:mm:ss TAG[pid]: MSG`, facility mail. */
export function syslogFrame(severity: number, tag: string, pid: number, msg: string, now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts = `${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  return `<${FACILITY_MAIL * 8 + severity}>${ts} ${tag}[${pid}]: ${msg}`;
}

/**
 * The shape and defaults of `[policy]`, the settings of `mda policy` (the Postfix SMTP
 * access policy service); validate-policy.ts reads the file into it. Kept apart from
 * schema.ts so the policy service's settings have one owner. Types and defaults only.
 */

export interface PolicySettings {
  /** Run as this user once the sockets are open ('' = as `[lmtp] user`, else stay as started). */
  user: string;
  /** Connections served at once; one more is answered `action=DUNNO` and closed. */
  maxConnections: number;
  /** A connection silent this long between requests is closed, in ms. */
  idleTimeoutMs: number;
  /** Permission bits, owner and group of unix sockets, as for [lmtp]. */
  socketMode: number;
  socketOwner: string;
  socketGroup: string;
  /** Alias files (aliases(5)) whose names are never judged: Postfix may deliver them another way. */
  aliases: string[];
  /** The whole time one request may take; beyond it the answer is DUNNO, in ms. */
  requestTimeoutMs: number;
  /** How long a recipient's lookup and quota verdict are reused, in ms (0 = no cache). */
  cacheTtlMs: number;
  /** Text after `550 5.1.1` (Dovecot's quota_status_nouser); the code is fixed. */
  unknownText: string;
  /** Text after `552 5.2.2` / `452 4.2.2` (Dovecot's quota_status_overquota); the codes are fixed. */
  overQuotaText: string;
}

export function defaultPolicySettings(): PolicySettings {
  return {
    user: '',
    // Postfix's default_process_limit is 100 smtpd processes, each holding one connection.
    maxConnections: 200,
    // Longer than smtpd_policy_service_max_idle (300s): smtpd, not mda, closes idle connections,
    // so smtpd never writes a request into a connection mda is just closing.
    idleTimeoutMs: 600_000,
    socketMode: 0o660,
    socketOwner: '',
    socketGroup: '',
    aliases: ['/etc/aliases'],
    // Far below smtpd_policy_service_timeout (100s): a slow answer delays a whole SMTP session.
    requestTimeoutMs: 2_000,
    cacheTtlMs: 5_000,
    unknownText: 'User unknown',
    overQuotaText: 'Mailbox full',
  };
}

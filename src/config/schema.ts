/**
 * The shape of mda's configuration and its embedded defaults (used when no
 * config file exists). Owns config types and defaults only; reading and
 * validating files is load.ts. Pure: no I/O.
 */
import { defaultPolicySettings, type PolicySettings } from './policy-settings.js';

export type LogTarget =
  | { kind: 'syslog' }
  | { kind: 'stderr' }
  | { kind: 'file'; path: string }
  | { kind: 'none' };

/** Maildir++ quota limits in bytes / messages; 0 = unlimited. */
export interface QuotaSettings {
  storage: number;
  messages: number;
  /** Bytes the last message may go over `storage` (like Dovecot's quota_storage_grace). */
  grace: number;
}

/** One of the locks an mbox append can take ([locks] mbox_locks). */
export type MboxLockType = 'dotlock' | 'fcntl' | 'flock';
/** The order they are taken in, whichever are configured. */
export const MBOX_LOCK_ORDER: readonly MboxLockType[] = ['dotlock', 'fcntl', 'flock'];

/** What an over-quota delivery becomes: a 5.2.2 bounce or a 4.2.2 deferral. */
export type OverQuota = 'bounce' | 'defer';

export type ScannerType = 'spamd' | 'clamd' | 'filter';

/** One `[[scanner]]` entry. */
export interface ScannerConfig {
  type: ScannerType;
  /** Unique name (logs, headers, breaker state); default: the type, `type-2`... for repeats. */
  name: string;
  /** spamd/clamd endpoints, `host:port`, `[v6]:port` or a unix socket path; tried in order for failover. */
  hosts: string[];
  /** 'shuffle' spreads load over hosts; 'ordered' prefers the first. */
  order: 'ordered' | 'shuffle';
  /** filter: argv of the command (no shell). */
  command: string[];
  /** filter: 'rewrite' = stdout is the new message; 'verdict' = only the exit code matters. */
  filterMode: 'rewrite' | 'verdict';
  /** spamd: 'headers' (HEADERS: spamd's X-Spam-* lines) or 'check' (CHECK: score only). */
  spamdMode: 'headers' | 'check';
  /** spamd `User:` header; default the recipient. */
  spamdUser?: string;
  /** This scanner's own limit for connect + write + read together, in ms. */
  timeoutMs: number;
  /** Larger messages are not sent to this scanner: skipped (too-large). */
  maxSize: number;
  /** A scanner that failed: store the message unscanned and marked, or defer it. */
  onFailure: 'deliver' | 'defer';
}

export interface UserConfig {
  /** Maildir path template: `~` = the user's home, `%u` = the user name. */
  maildir?: string;
  /** This user's inbox is this mbox file (template like maildir); wins over [delivery] mbox. */
  mbox?: string;
  /** Per-user quota; each key present overrides the global [quota] one. */
  quota?: Partial<QuotaSettings>;
}

export interface Config {
  /** Where this config came from: a file path, or '(embedded defaults)'. */
  source: string;
  delivery: {
    maildir: string;
    /** The global deadline for one delivery, in ms. */
    deadlineMs: number;
    /** Largest message accepted, in bytes (after the From_ line is removed). */
    maxMessageSize: number;
    /** Create a missing Maildir++ folder that a Sieve fileinto names (else: INBOX, unless fileinto :create). */
    autocreateFolders: boolean;
    /** The sendmail(1) program for Sieve redirects and vacation replies (argv[0]; never run through a shell). */
    sendmail: string;
    /** Every user's inbox is this mbox file (`/var/mail/%u`; `~/` = home); '' = the Maildir. */
    mbox: string;
    /** Directory of mbox files for Sieve fileinto when the inbox is an mbox and the user has no Maildir of their own; '' = Maildir++ folders. */
    mboxFolders: string;
  };
  /** Who an envelope address is (`[delivery] domains`, `recipient_delimiter`): src/recipients/. */
  recipients: RecipientSettings;
  quota: QuotaSettings & {
    overQuota: OverQuota;
    /** Folders whose messages do not count (`[quota] ignore_folders`, e.g. "Trash"); none by default, as Dovecot. */
    ignoreFolders: string[];
  };
  locks: {
    /** How long to wait for a lock before deferring, in ms. */
    timeoutMs: number;
    /** A lock older than this is presumed left by a killed process, in ms. */
    staleMs: number;
    /** The locks an mbox append takes, in this order (Postfix's mailbox_delivery_lock). */
    mboxLocks: MboxLockType[];
    /** An mbox's FILE.lock older than this whose holder is gone is broken, in ms. */
    mboxDotlockStaleMs: number;
    /** The setgid helper that takes FILE.lock where the delivering uid cannot write the directory. */
    dotlockfile: string;
  };
  log: { target: LogTarget };
  users: Record<string, UserConfig>;
  scanners: ScannerConfig[];
  /** Settings shared by all scanners. */
  scanning: {
    /** Consecutive failures that open an endpoint's circuit breaker. */
    breakerFailures: number;
    /** How long an open breaker skips its endpoint before one probe, in ms. */
    breakerCooldownMs: number;
    /** Shared directory (sticky, world-writable) holding one private breaker directory per delivering uid. */
    stateDir: string;
    /** Time kept back from the deadline for the commit after scanning, in ms. */
    commitReserveMs: number;
  };
  /** Spam routing: the folder spam goes to ('' = INBOX, marked only). */
  spam: { folder: string };
  /** Virus handling: quarantine to a folder, discard (exit 0, logged), or deliver marked. */
  virus: { action: 'quarantine' | 'discard' | 'deliver'; folder: string };
  sieve: SieveSettings;
  lmtp: LmtpSettings;
  /** `[policy]`: `mda policy`, the Postfix SMTP access policy service (policy-settings.ts). */
  policy: PolicySettings;
}

/** `[lmtp]`: the long-running server (`mda lmtp`); validate-lmtp.ts reads it. */
export interface LmtpSettings {
  /** Run as this user once the sockets are open ('' = stay as started; as root: system-users mode). */
  user: string;
  /** Connections served at once; one more gets the busy line and is closed. */
  maxConnections: number;
  /** Recipients accepted per transaction; more get 452 4.5.3 (RFC 5321 §4.5.3.1.10). */
  maxRecipients: number;
  /** A connection silent this long (while mda waits for it) is told so and closed, in ms. */
  idleTimeoutMs: number;
  /** How long in-flight transactions may still take after SIGTERM/SIGINT, in ms. */
  shutdownGraceMs: number;
  /** Permission bits of unix sockets (socket_mode, octal in the file). */
  socketMode: number;
  /** Owner / group of unix sockets ('' = whoever started mda). */
  socketOwner: string;
  socketGroup: string;
  /** Longest command line, in octets with its line end. */
  maxLineLength: number;
  /**
   * Where each transaction's message is spooled once (its tmp/ subdirectory), owned by the
   * server's uid, mode 0700. '' = `<system temp dir>/mda-lmtp.<uid>`. On the Maildirs'
   * filesystem the copies are hard links of the spool; on another one each copy is a copy.
   */
  spoolDir: string;
}

export function defaultLmtpSettings(): LmtpSettings {
  return {
    user: '',
    maxConnections: 100,
    // RFC 5321 §4.5.3.1.8: a server MUST buffer at least 100 recipients per transaction.
    maxRecipients: 100,
    idleTimeoutMs: 300_000, // RFC 5321 §4.5.3.2.7: the server timeout SHOULD be at least 5 minutes
    shutdownGraceMs: 30_000, // below systemd's default TimeoutStopSec (90s), which ends in SIGKILL
    socketMode: 0o660,
    socketOwner: '',
    socketGroup: '',
    // RFC 5321 §4.5.3.1.4 sets 512 octets for a command line and lets extensions add to it;
    // MAIL/RCPT parameters (SIZE, BODY, ORCPT as xtext, SMTPUTF8) fit many times over in 4096.
    maxLineLength: 4096,
    spoolDir: '',
  };
}

/** The `[delivery]` keys the RCPT-time recipient lookup reads (LMTP, policy). */
export interface RecipientSettings {
  /** Domains whose addresses are looked up by local part; empty = every domain is local. Normalized (lowercase, A-labels). */
  domains: string[];
  /** Characters that start an address extension (Postfix recipient_delimiter); '' = none. */
  delimiter: string;
}

/** `[sieve]`: the scripts run for every delivery and the limits they run under. */
export interface SieveSettings {
  /** The user's script (`~` = home, `%u` = user); '' = none. A missing file means no filtering. */
  script: string;
  /** Where the vacation sent-log and duplicate ids live (`~` = home, `%u` = user). */
  stateDir: string;
  /** include :personal (RFC 6609): NAME.sieve in this directory (`~` = home, `%u` = user); '' = none. */
  dir: string;
  /** include :global (RFC 6609): NAME.sieve in this admin directory (absolute); '' = none. */
  globalDir: string;
  /** Admin scripts run before / after the user's (Dovecot sieve_before / sieve_after); absolute paths. */
  before: string[];
  after: string[];
  /** Most redirects one message may cause (RFC 5228 §4.2 asks for a limit). */
  maxRedirects: number;
  /** Vacation :days is clamped to [min, max] (RFC 5230 §4.1); also bounds :seconds (RFC 6131). */
  vacationMinDays: number;
  vacationMaxDays: number;
  /** Without a configured scanner, spamtest/virustest believe X-Spam-Status / X-Virus-Status in the message. */
  trustScanHeaders: boolean;
  /** Larger script files are a compile error (and so: INBOX). */
  maxScriptSize: number;
  /** Evaluation steps one delivery may spend across all scripts; beyond it is a runtime error (implicit keep). */
  maxCpuSteps: number;
}

export function defaultSieveSettings(): SieveSettings {
  return {
    script: '~/.mda/filter.sieve',
    stateDir: '~/.mda',
    dir: '~/sieve', // where Dovecot's ManageSieve keeps a user's scripts
    globalDir: '',
    before: [],
    after: [],
    maxRedirects: 4,
    vacationMinDays: 1, // Pigeonhole's sieve_vacation_min_period
    vacationMaxDays: 60, // Pigeonhole's sieve_vacation_max_period
    trustScanHeaders: false,
    maxScriptSize: 1024 * 1024,
    maxCpuSteps: 5_000_000,
  };
}

export const EMBEDDED_SOURCE = '(embedded defaults)';

/** defaultConfig returns a fresh copy of the embedded defaults. */
export function defaultConfig(): Config {
  return {
    source: EMBEDDED_SOURCE,
    delivery: {
      maildir: '~/Maildir',
      deadlineMs: 240_000, // well under Postfix's command_time_limit (1000s), which bounces
      maxMessageSize: 50 * 1024 * 1024,
      autocreateFolders: true,
      sendmail: '/usr/sbin/sendmail',
      mbox: '',
      mboxFolders: '',
    },
    recipients: { domains: [], delimiter: '+' },
    quota: { storage: 0, messages: 0, grace: 0, overQuota: 'bounce', ignoreFolders: [] },
    // mbox: Dovecot's mbox_write_locks default; stale after 5 min as liblockfile's pid-less rule
    locks: { timeoutMs: 10_000, staleMs: 60_000, mboxLocks: ['dotlock', 'fcntl'], mboxDotlockStaleMs: 300_000, dotlockfile: '/usr/bin/dotlockfile' },
    log: { target: { kind: 'syslog' } },
    users: {},
    scanners: [],
    scanning: { breakerFailures: 5, breakerCooldownMs: 60_000, stateDir: '/var/tmp/mda', commitReserveMs: 15_000 },
    spam: { folder: '' },
    virus: { action: 'quarantine', folder: 'Quarantine' },
    sieve: defaultSieveSettings(),
    lmtp: defaultLmtpSettings(),
    policy: defaultPolicySettings(),
  };
}

/** Where mda looks for a config when neither --config nor $MDA_CONFIG names one. */
export const SYSTEM_CONFIG_PATH = '/etc/mda/mda.toml';

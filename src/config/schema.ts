/**
 * The shape of mda's configuration and its embedded defaults (used when no
 * config file exists). Owns config types and defaults only; reading and
 * validating files is load.ts. Pure: no I/O.
 */

export type LogTarget =
  | { kind: 'syslog' }
  | { kind: 'stderr' }
  | { kind: 'file'; path: string }
  | { kind: 'none' };

export interface UserConfig {
  /** Maildir path template: `~` = the user's home, `%u` = the user name. */
  maildir?: string;
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
  };
  log: { target: LogTarget };
  users: Record<string, UserConfig>;
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
    },
    log: { target: { kind: 'syslog' } },
    users: {},
  };
}

/** Where mda looks for a config when neither --config nor $MDA_CONFIG names one. */
export const SYSTEM_CONFIG_PATH = '/etc/mda/mda.toml';

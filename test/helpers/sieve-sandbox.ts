/**
 * The sandbox the Sieve delivery tests run `mda deliver` in: a temp dir with
 * home/.mda (the user's script and state), home/Maildir, and a stub sendmail
 * (fixtures/sieve/stub-sendmail.sh) that files what mda sends into sent/.
 * Must not: start servers or write outside its temp dir.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listDir, tempDir } from './run-mda.js';

const STUB = fileURLToPath(new URL('../fixtures/sieve/stub-sendmail.sh', import.meta.url));

export interface SieveSandbox {
  t: ReturnType<typeof tempDir>;
  home: string;
  /** The user's Maildir (home/Maildir). */
  md: string;
  /** Where the stub sendmail files each message it is given. */
  sent: string;
  /** Rewrites the stub with these settings baked in (mda gives sendmail a clean environment), e.g. STUB_SENDMAIL_EXIT. */
  stub(env?: Record<string, string>): void;
  /** Writes mda.toml: no logging, the stub as sendmail, the user's script and state dir unless `extra` has its own [sieve]. */
  config(extra?: string): string;
  /** The files in a folder of the Maildir ('' = INBOX). */
  files(folder: string, sub?: 'new' | 'cur'): string[];
  /** What the stub sendmail was given, oldest first: its arguments and the message. */
  sentMail(): { args: string[]; msg: string }[];
}

export function sieveSandbox(prefix: string): SieveSandbox {
  const t = tempDir(prefix);
  const home = join(t.dir, 'home');
  const sent = join(t.dir, 'sent');
  mkdirSync(join(home, '.mda'), { recursive: true });
  mkdirSync(sent);
  const sb: SieveSandbox = {
    t, home, md: join(home, 'Maildir'), sent,
    stub(env = {}) {
      const vars = Object.entries({ STUB_SENDMAIL_DIR: sent, ...env }).map(([k, v]) => `${k}='${v}'`).join(' ');
      writeFileSync(join(t.dir, 'sendmail'), `#!/bin/sh\nexec env ${vars} ${STUB} "$@"\n`, { mode: 0o755 });
    },
    config(extra = '') {
      const cfg = join(t.dir, 'mda.toml');
      const sieve = extra.includes('[sieve]') ? '' : `[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n`;
      writeFileSync(cfg, `[log]\ntarget = "none"\n[delivery]\nsendmail = "${join(t.dir, 'sendmail')}"\n${sieve}${extra}`);
      return cfg;
    },
    files: (folder, sub = 'new') => listDir(join(home, 'Maildir', folder, sub)),
    sentMail: () => readdirSync(sent).filter((f) => f.endsWith('.args')).sort().map((f) => ({
      args: readFileSync(join(sent, f), 'utf8').trimEnd().split('\n'),
      msg: readFileSync(join(sent, f.replace(/\.args$/, '.msg')), 'utf8'),
    })),
  };
  sb.stub();
  return sb;
}

/**
 * When is "not found" a definite "no such user"? getent(1) exits 2 both when
 * every NSS source said NOTFOUND and when a source was UNAVAIL or TRYAGAIN (an
 * LDAP server down, sssd not running), so its exit code alone never justifies
 * a bounce. This module reads the `passwd:` line of nsswitch.conf(5) and decides
 * from what each source could have answered. Pure: no I/O.
 */

/** One source of the passwd database and its action on NOTFOUND. */
export interface NssSource {
  name: string;
  onNotFound: 'return' | 'continue';
}

/**
 * glibc's lookup when nsswitch.conf or its passwd line is missing
 * (nss/nss_database.c): "files", or "compat [NOTFOUND=return] files" on builds
 * with the obsolete NSL; both answer from /etc/passwd alone.
 */
const GLIBC_DEFAULT: NssSource[] = [{ name: 'files', onNotFound: 'continue' }];

const STATUSES = new Set(['success', 'notfound', 'unavail', 'tryagain']);

/**
 * parsePasswdSources reads the `passwd:` line of nsswitch.conf(5) (undefined:
 * no such file). Actions `[STATUS=ACTION ...]` and `[!STATUS=ACTION]` apply to
 * the source before them; only the NOTFOUND action matters here (`merge` is
 * for groups and counts as continue).
 */
export function parsePasswdSources(text: string | undefined): NssSource[] {
  if (text === undefined) return GLIBC_DEFAULT;
  let spec: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '');
    const m = /^\s*passwd[\s:]+(.*)$/.exec(line); // as glibc's process_line: the colon is optional, the name exact
    if (m) spec = m[1]!; // glibc keeps the last line for a database
  }
  if (spec === undefined || spec.trim() === '') return GLIBC_DEFAULT;
  const sources: NssSource[] = [];
  for (const tok of spec.match(/\[[^\]]*\]|[^\s[]+/g) ?? []) {
    if (!tok.startsWith('[')) {
      sources.push({ name: tok.toLowerCase(), onNotFound: 'continue' });
      continue;
    }
    const last = sources[sources.length - 1];
    if (!last) continue; // an action before any source: glibc rejects the line's start; nothing to apply it to
    for (const item of tok.slice(1, -1).trim().split(/\s+/)) {
      const a = /^(!?)([a-z]+)=([a-z]+)$/i.exec(item);
      if (!a || !STATUSES.has(a[2]!.toLowerCase())) continue;
      const [negated, status, action] = [a[1] === '!', a[2]!.toLowerCase(), a[3]!.toLowerCase()];
      if ((status === 'notfound') !== negated) last.onNotFound = action === 'return' ? 'return' : 'continue';
    }
  }
  return sources;
}

/** What mda itself saw, besides nsswitch.conf. */
export interface LookupFacts {
  /** /etc/passwd was read and has no (well-formed) line for the name. */
  passwdRead: boolean;
  /** /etc/passwd has `+`/`-` lines, which compat answers from NIS. */
  passwdHasCompatEntries: boolean;
  /** getent(1) was asked for the name and exited 2 (every source said NOTFOUND, or failed). */
  getentNotFound: boolean;
  /** systemd-homed is running: its users come over IPC that can fail. */
  homed: boolean;
}

export type NotFoundVerdict = { definite: true } | { definite: false; why: string };

/**
 * notFoundVerdict: is a name found in none of the places mda looked a definite
 * "no such user"? Only when every source that could be consulted is local:
 * - files (and compat without `+`/`-` entries) are /etc/passwd, which mda read;
 * - systemd answers from this host alone (root and nobody, dynamic users of
 *   running units, userdb records), so its NOTFOUND, seen through getent, is
 *   final, unless systemd-homed is running, whose users come over IPC;
 * - every other source (ldap, sss, nis, winbind, db, ...) may have been
 *   unavailable: uncertain, whatever getent said.
 * A NOTFOUND=return after a local source stops the walk there.
 */
export function notFoundVerdict(sources: readonly NssSource[], f: LookupFacts): NotFoundVerdict {
  for (const s of sources) {
    switch (s.name) {
      case 'files':
        if (!f.passwdRead) return { definite: false, why: '/etc/passwd could not be read or has a malformed entry' };
        break;
      case 'compat':
        if (!f.passwdRead) return { definite: false, why: '/etc/passwd could not be read or has a malformed entry' };
        if (f.passwdHasCompatEntries) return { definite: false, why: 'nsswitch source compat has +/- entries that NIS answers' };
        break;
      case 'systemd':
        if (f.homed) return { definite: false, why: 'nsswitch source systemd includes systemd-homed users' };
        if (!f.getentNotFound) return { definite: false, why: 'nsswitch source systemd could not be asked by name' };
        break;
      default:
        return { definite: false, why: `nsswitch source ${s.name} may be unavailable (getent exits 2 for both)` };
    }
    if (s.onNotFound === 'return') return { definite: true };
  }
  return { definite: true };
}

/** True when every source answers from /etc/passwd: no need to run getent at all. */
export function passwdFileDecides(sources: readonly NssSource[], f: Omit<LookupFacts, 'getentNotFound' | 'homed'>): boolean {
  return notFoundVerdict(sources, { ...f, getentNotFound: false, homed: false }).definite;
}

/** What one getent(1) run said about a name. */
export type GetentAnswer =
  | { kind: 'found'; line: string }
  | { kind: 'not-found' } // exit 2
  | { kind: 'not-asked'; why: string } // no getent, or it answered for another key
  | { kind: 'failed'; why: string };

/**
 * classifyGetent maps a getent run (exit code, or an errno string like
 * 'ENOENT', or null when killed) to an answer. getent(1): 0 found, 1 missing
 * arguments or unknown database, 2 key not found, 3 enumeration not supported.
 * An entry for another name is no answer: glibc's getent looks a numeric key up
 * as a uid, so `getent passwd 4242` may print someone else.
 */
export function classifyGetent(name: string, code: number | string | null, stdout: string): GetentAnswer {
  if (code === 0) {
    const line = stdout.split('\n')[0] ?? '';
    if (line.split(':')[0] !== name) {
      return line.includes(':') ? { kind: 'not-asked', why: 'getent answered for another name' } : { kind: 'failed', why: 'getent printed no passwd entry' };
    }
    return { kind: 'found', line };
  }
  if (code === 2) return { kind: 'not-found' };
  if (code === 'ENOENT') return { kind: 'not-asked', why: 'no getent' };
  return { kind: 'failed', why: code === null ? 'getent was killed' : `getent failed (${code})` };
}

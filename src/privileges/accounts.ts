/**
 * Looks up a local account by name: the running user from os.userInfo()
 * (no file read), else /etc/passwd, else `getent passwd` so NSS sources
 * (LDAP, sssd) work too. A name found nowhere is "no such user" only when
 * nss-verdict.ts says every source could answer; otherwise the lookup is
 * uncertain and the caller defers. Must not: change privileges (switch-user.ts).
 */
import { createRequire } from 'node:module';
import { lstat, readFile } from '../io/fs-async.js';
import { userInfo } from 'node:os';
import { OutcomeError, temp } from '../outcome/outcome.js';
import { classifyGetent, notFoundVerdict, parsePasswdSources, passwdFileDecides, type GetentAnswer } from './nss-verdict.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The three answers a lookup can give; only 'absent' may become a bounce. */
export type AccountLookup =
  | { kind: 'found'; account: Account }
  | { kind: 'absent' }
  | { kind: 'uncertain'; why: string };

/** parsePasswdLine reads one passwd(5) line; undefined when malformed. */
export function parsePasswdLine(line: string): Account | undefined {
  const f = line.split(':');
  if (f.length < 7 || !f[0]) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '') return undefined;
  return { name: f[0], uid, gid, home: f[5] ?? '' };
}

function current(): Account | undefined {
  try {
    const u = userInfo();
    return { name: u.username, uid: u.uid, gid: u.gid, home: u.homedir };
  } catch {
    return undefined; // the running uid has no passwd entry (containers): fall back to lookups
  }
}

/** readText reads a file; undefined when it does not exist, an errno string when it cannot be read. */
async function readText(path: string): Promise<string | undefined | { error: string }> {
  try {
    return (await readFile(path)).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? undefined : { error: code ?? String(err) };
  }
}

function getent(name: string, signal: AbortSignal): Promise<GetentAnswer> {
  // Rarely needed: keep it off the startup path; require, not import(): bin/mda runs the bundle through vm.Script
  const { execFile } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve) => {
    execFile('getent', ['passwd', '--', name], { signal, timeout: 0 }, (err, stdout) => {
      const code = err ? ((err as { code?: unknown }).code ?? null) : 0;
      resolve(classifyGetent(name, typeof code === 'number' || typeof code === 'string' ? code : null, stdout));
    });
  });
}

/** findAccount looks a name up and says whether "not found" is definite. */
export async function findAccount(name: string, signal: AbortSignal): Promise<AccountLookup> {
  if (!/^[^:\n\0/]+$/.test(name)) return { kind: 'absent' }; // no passwd(5) entry can have this name
  const me = current();
  if (me && me.name === name) return { kind: 'found', account: me };

  const passwd = await readText('/etc/passwd');
  const passwdText = typeof passwd === 'string' ? passwd : '';
  // A malformed line for the name: NSS may still know the user; if not, nobody can say.
  let malformed = false;
  for (const line of passwdText.split('\n')) {
    if (!line.startsWith(name + ':')) continue;
    const account = parsePasswdLine(line);
    if (account) return { kind: 'found', account };
    malformed = true;
  }
  const nsswitch = await readText('/etc/nsswitch.conf');
  if (typeof nsswitch === 'object') return { kind: 'uncertain', why: `cannot read /etc/nsswitch.conf (${nsswitch.error})` };
  const sources = parsePasswdSources(nsswitch);
  const local = { passwdRead: typeof passwd === 'string' && !malformed, passwdHasCompatEntries: /^[+-]/m.test(passwdText) };
  if (passwdFileDecides(sources, local)) return { kind: 'absent' }; // /etc/passwd alone answers: no fork

  const answer = await getent(name, signal);
  if (answer.kind === 'found') {
    const account = parsePasswdLine(answer.line);
    return account ? { kind: 'found', account } : { kind: 'uncertain', why: `getent printed a malformed entry for ${name}` };
  }
  if (answer.kind === 'failed') return { kind: 'uncertain', why: answer.why };
  const homed = sources.some((s) => s.name === 'systemd') && (await lstat('/run/systemd/userdb/io.systemd.Home').then(() => true, () => false));
  const verdict = notFoundVerdict(sources, { ...local, getentNotFound: answer.kind === 'not-found', homed });
  return verdict.definite ? { kind: 'absent' } : { kind: 'uncertain', why: answer.kind === 'not-asked' ? `${answer.why}; ${verdict.why}` : verdict.why };
}

/**
 * lookupAccount finds a local account, or undefined when there is definitely
 * none; an uncertain lookup throws a temporary 'system' outcome.
 */
export async function lookupAccount(name: string, signal: AbortSignal): Promise<Account | undefined> {
  const r = await findAccount(name, signal);
  if (r.kind === 'uncertain') throw new OutcomeError(temp('system', `cannot tell whether user ${name} exists: ${r.why}`));
  return r.kind === 'found' ? r.account : undefined;
}

/** The account the process runs as (name may be a bare uid in containers). */
export function runningAccount(): Account {
  return current() ?? { name: String(process.geteuid?.() ?? ''), uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1, home: process.env.HOME ?? '/' };
}
